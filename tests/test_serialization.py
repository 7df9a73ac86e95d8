"""Validation and JSON encoding of values (pydantic v1 + scityping)."""

from __future__ import annotations

import collections
import enum
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple, Union

import numpy as np
import pytest
from scityping.numpy import Array

from smttask.errors import SerializationError, TaskInputError
from smttask.serialization import (
    annotation_compatible,
    dumps,
    encode,
    validate,
    validate_around,
)


class Lazy:
    """Stands for an upstream task in validate_around."""


def is_lazy(v: object) -> bool:
    return isinstance(v, Lazy)


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        (Array, np.arange(5)),
        (Array[float, 1], np.linspace(0, 1, 500)),  # large: compressed by scityping
        (List[float], [1.0, 2.5]),
        (Dict[str, Tuple[int, float]], {"a": (1, 2.0)}),
        (Set[str], {"x", "y"}),
        (Optional[float], None),
        (Path, Path("a/b.txt")),
        (complex, 1 + 2j),
        (List[complex], [1j, 2.0]),
        (range, range(2, 10, 3)),
    ],
)
def test_encode_then_validate_round_trips(annotation: Any, value: Any) -> None:
    text = dumps(value)
    back = validate(annotation, json.loads(text))
    if isinstance(value, np.ndarray):
        assert np.array_equal(back, value) and back.dtype == value.dtype
    else:
        assert back == value


def test_numpy_scalars_encode_as_numbers() -> None:
    assert encode({"a": np.float32(0.5), "b": np.int64(3)}) == {"a": 0.5, "b": 3}


def test_sets_encode_sorted_and_keys_as_strings() -> None:
    assert encode({3, 1, 2}) == [1, 2, 3]
    assert encode({1: "a"}) == {"1": "a"}
    with pytest.raises(SerializationError, match="cannot be a JSON object key"):
        encode({(1, 2): "a"})


class Plain(enum.Enum):
    RED = 1


class Number(enum.IntEnum):
    ONE = 1


class Mixed(str, enum.Enum):  # noqa: UP042 - users write this older spelling
    RED = "red"


class Text(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    ("member", "value"),
    [(Plain.RED, 1), (Number.ONE, 1), (Mixed.RED, "red"), (Text.RED, "red")],
    ids=["Enum", "IntEnum", "str+Enum", "StrEnum"],
)
def test_enum_members_encode_as_their_value_and_validate_back(member: Any, value: Any) -> None:
    encoded = encode(member)
    assert encoded == value and type(encoded) is type(value)
    assert dumps(member) == json.dumps(value)
    assert validate(type(member), json.loads(dumps(member))) is member
    keys = encode({member: 0})
    assert keys == {str(value): 0} and [type(k) for k in keys] == [str]


def test_dumps_sorts_keys_with_or_without_indent() -> None:
    value = {"b": 1, "a": {"d": [{"f": 1, "e": 2}], "c": 3}}
    same = {"a": {"c": 3, "d": [{"e": 2, "f": 1}]}, "b": 1}
    assert dumps(value) == '{"a": {"c": 3, "d": [{"e": 2, "f": 1}]}, "b": 1}'
    assert dumps(value) == dumps(same)
    assert dumps(value, indent=2) == dumps(same, indent=2)
    assert json.loads(dumps(value, indent=2)) == value


def test_dumps_keeps_the_order_of_an_ordered_dict() -> None:
    # Its order is part of its value (OrderedDict equality compares order).
    value = collections.OrderedDict([("b", 1), ("a", {"y": 2, "x": 1})])
    for text in (dumps(value), dumps(value, indent=2)):
        back = validate(collections.OrderedDict, json.loads(text))
        assert back == value and list(back) == ["b", "a"]
        assert list(back["a"]) == ["x", "y"]  # a plain dict inside is still sorted


def test_unserializable_values_are_named() -> None:
    class Opaque:
        pass

    with pytest.raises(SerializationError, match=r"Opaque.*scityping\.Serializable"):
        encode(Opaque())


def test_validation_errors_name_the_value_and_the_type() -> None:
    with pytest.raises(TaskInputError, match=r"x = 'a' does not fit the declared type float"):
        validate(float, "a", what="x")
    with pytest.raises(TaskInputError, match=r"xs\[1\] = 'b' does not fit .*List\[int\].*an int"):
        validate(List[int], [1, "b"], what="xs")


def test_validate_around_keeps_lazy_leaves_and_validates_the_rest() -> None:
    lazy = Lazy()
    seen: list[tuple[Any, str]] = []
    out = validate_around(
        Dict[str, List[float]],
        {"a": [1, lazy], "b": [2]},
        is_lazy,
        what="v",
        check_lazy=lambda ann, leaf, what: seen.append((ann, what)),
    )
    assert out == {"a": [1.0, lazy], "b": [2.0]}
    assert type(out["a"][0]) is float and type(out["b"][0]) is float
    assert seen == [(float, "v['a'][1]")]
    with pytest.raises(TaskInputError, match=r"has 3 items.*expects 2"):
        validate_around(Tuple[int, int], (1, 2, lazy), is_lazy, what="t")


def test_annotation_compatibility() -> None:
    assert annotation_compatible(float, float) is True
    assert annotation_compatible(int, float) is True
    assert annotation_compatible(str, float) is False
    assert annotation_compatible(Tuple[float, float], float) is False
    assert annotation_compatible(float, Union[int, float]) is True
    assert annotation_compatible(float, Any) is True
    assert annotation_compatible(List[int], List[float]) is None  # checked at run time
    assert annotation_compatible(Array[float, 1], Array) is not False
