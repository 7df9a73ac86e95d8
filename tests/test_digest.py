"""Digests: stable, canonical, and different whenever the task or its inputs differ."""

from __future__ import annotations

import enum
from pathlib import Path

import numpy as np
import pytest

from smttask.digest import DIGEST_LENGTH, compute_digest, hash_value
from smttask.errors import SerializationError


def d(**inputs: object) -> str:
    return compute_digest("mod.task", inputs)


# Expected digests, pinned: if one of these changes, every user's cached results are orphaned.
# Change them only together with a format version bump and a CHANGELOG entry.
PINNED = [
    ({}, "e64a8dfd83a6b19054dc"),
    ({"x": 1}, "5f0c52e6dd35cdb3b530"),
    ({"x": 1.5, "n": 3, "s": "abc"}, "fff85b7c21ec6a12d855"),
    ({"arr": np.arange(5, dtype=np.float64)}, "6c0543ed9735b07799e9"),
    ({"xs": [1, 2.5, "a", None, True], "m": {"b": 2, "a": 1}}, "b02dbe76a85515e7c1dc"),
    ({"s": {3, 1, 2}, "t": (1, 2)}, "64d05341de39f96d2bda"),
]


@pytest.mark.parametrize(("inputs", "expected"), PINNED)
def test_pinned_digests(inputs: dict[str, object], expected: str) -> None:
    assert d(**inputs) == expected


def test_digest_length_is_at_least_64_bits() -> None:
    assert DIGEST_LENGTH * 4 >= 64
    assert len(d(x=1)) == DIGEST_LENGTH


def test_name_is_part_of_the_digest() -> None:
    assert compute_digest("mod.f", {"x": 1}) != compute_digest("mod.g", {"x": 1})
    assert compute_digest("a.f", {"x": 1}) != compute_digest("b.f", {"x": 1})
    assert compute_digest("mod.f", {"x": 1}, b"version=2") != compute_digest("mod.f", {"x": 1})


def test_keyword_dict_and_set_order_do_not_matter() -> None:
    assert d(a=1, b=2) == d(b=2, a=1)
    assert d(m={"a": 1, "b": 2}) == d(m={"b": 2, "a": 1})
    assert d(s={1, 2, 3}) == d(s={3, 2, 1})
    assert d(s=frozenset({"x", "y"})) == d(s=frozenset({"y", "x"}))


def test_values_and_types_matter() -> None:
    assert d(x=1) != d(x=2)
    assert d(x=1) != d(x=1.0)  # an int is not a float (validation makes types canonical)
    assert d(x="1") != d(x=1)
    assert d(x=True) != d(x=1)
    assert d(x=None) != d(x=0)
    assert d(x=[1, 2]) != d(x=[2, 1])
    assert d(x=[[1], 2]) != d(x=[1, [2]])
    assert d(x={"a": 1}) != d(x={"a": 2})
    assert d(x={"a": 1}) != d(x={"b": 1})
    assert d(x="ab", y="c") != d(x="a", y="bc")
    assert d(x=["ab", "c"]) != d(x=["a", "bc"])


def test_list_and_tuple_hash_alike_because_json_has_one_sequence_type() -> None:
    assert d(x=[1, 2]) == d(x=(1, 2))


def test_numpy_scalars_hash_as_python_numbers() -> None:
    assert d(x=np.float64(0.5)) == d(x=0.5)
    assert d(x=np.int32(3)) == d(x=3)
    assert d(x=np.bool_(True)) == d(x=True)


def test_nan_is_canonical() -> None:
    assert d(x=float("nan")) == d(x=np.nan)
    assert d(x=float("nan")) != d(x=0.0)


def test_array_dtype_shape_and_every_element_matter() -> None:
    a = np.arange(12, dtype=np.float64)
    base = d(a=a)
    assert d(a=a.copy()) == base
    assert d(a=a.astype(np.float32)) != base
    assert d(a=a.reshape(3, 4)) != base
    for i in range(a.size):
        b = a.copy()
        b[i] += 1e-12 if b[i] else 1e-300
        assert d(a=b) != base, f"changing element {i} did not change the digest"


def test_non_contiguous_arrays_hash_like_their_contiguous_copy() -> None:
    a = np.arange(20).reshape(4, 5)
    assert d(a=a[:, ::2]) == d(a=np.ascontiguousarray(a[:, ::2]))
    assert d(a=a.T) == d(a=np.ascontiguousarray(a.T))


def test_large_arrays_hash_from_bytes() -> None:
    a = np.random.default_rng(0).random(1_000_000)
    h = hash_value(a)
    b = a.copy()
    b[-1] = -1.0
    assert hash_value(b) != h
    assert hash_value(a.copy()) == h


def test_object_arrays_hash_through_their_values() -> None:
    a = np.array([1, "a", None], dtype=object)
    assert d(a=a) == d(a=np.array([1, "a", None], dtype=object))
    assert d(a=a) != d(a=np.array([1, "b", None], dtype=object))


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


# Enum members hash as their class and value, whatever their mixed-in type (pinned).
ENUMS = {
    "Plain": enum.Enum("Plain", {"RED": 1}, module="mod", qualname="Plain").RED,
    "Number": enum.IntEnum("Number", {"ONE": 1}, module="mod", qualname="Number").ONE,
    "Mixed": enum.Enum("Mixed", {"RED": "red"}, type=str, module="mod", qualname="Mixed").RED,
    "Text": enum.StrEnum("Text", {"RED": "red"}, module="mod", qualname="Text").RED,
}
PINNED_ENUMS = {
    "Plain": "b731a6f932c4e05c561b",
    "Number": "6f8b7a052a70e659f980",
    "Mixed": "ffd1e3c6c3297ff4e2b4",
    "Text": "68c5ed0f62136cf88c02",
}


@pytest.mark.parametrize("name", PINNED_ENUMS)
def test_pinned_enum_digests(name: str) -> None:
    assert d(c=ENUMS[name]) == PINNED_ENUMS[name]
    assert d(c=ENUMS[name]) not in (d(c=1), d(c="red"))


def test_enums_paths_and_complex() -> None:
    assert d(c=Colour.RED) != d(c=Colour.BLUE)
    assert d(c=Colour.RED) != d(c=1)
    assert d(p=Path("a/b")) == d(p=Path("a") / "b")
    assert d(z=1 + 2j) != d(z=1 - 2j)


def test_objects_with_their_own_digest() -> None:
    class Upstream:
        def __init__(self, key: str) -> None:
            self.key = key

        def __smttask_digest__(self) -> str:
            return self.key

    assert d(x=Upstream("a")) == d(x=Upstream("a"))
    assert d(x=Upstream("a")) != d(x=Upstream("b"))
    assert d(x=Upstream("a")) != d(x="a")


def test_unserializable_values_raise_a_clear_error() -> None:
    class Opaque:
        pass

    with pytest.raises(
        SerializationError, match=r"mod\.task: input 'x': .*Opaque.*scityping\.Serializable"
    ):
        d(x=Opaque())
