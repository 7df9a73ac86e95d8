"""The strict rules (docs/inputs.md): a value that validation would change is refused.

Table-driven over every scalar and container annotation the guide and the README show, and
those the rules name; then the same rules wherever validation happens: task inputs, defaults,
``bind``, task files, upstream results, return values and ``TaskOutput`` fields.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping as AbcMapping
from collections.abc import Sequence as AbcSequence
from pathlib import Path
from typing import (
    Any,
    Dict,
    FrozenSet,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

import numpy as np
import pytest
from scityping.numpy import Array

from smttask import Task, digest, jsonparse, serialization
from smttask.errors import OutputError, TaskDefinitionError, TaskFileError, TaskInputError


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


BIG = 2**53 + 1  # the first int without an exact float

#: (annotation, value given, validated value): accepted, lossless.
ACCEPTED: list[tuple[Any, Any, Any]] = [
    (int, 3, 3),
    (int, np.int64(3), 3),
    (int, np.uint8(3), 3),
    (int, Level.HIGH, Level.HIGH),
    (float, 0.5, 0.5),
    (float, 2, 2.0),
    (float, -(2**53), -9007199254740992.0),
    (float, np.float64(0.5), np.float64(0.5)),
    (float, np.float32(0.5), 0.5),
    (float, np.int32(7), 7.0),
    (float, math.inf, math.inf),
    (float, math.nan, math.nan),
    (complex, 1 + 2j, 1 + 2j),
    (complex, 2, 2 + 0j),
    (complex, 0.5, 0.5 + 0j),
    (complex, np.complex64(1j), 1j),
    (bool, True, True),
    (bool, np.bool_(False), False),
    (str, "text", "text"),
    (Path, "a/b.txt", Path("a/b.txt")),
    (type(None), None, None),
    (Optional[float], None, None),
    (Optional[float], 2, 2.0),
    (Union[int, float], 2, 2),
    (Union[int, float], 2.0, 2.0),
    (Union[float, int], 2, 2),
    (Union[int, str], "2", "2"),
    (Union[List[int], List[float]], [1.5], [1.5]),
    (Literal[1, 2], 2, 2),
    (Literal["a", "b"], "a", "a"),
    (Literal[1, 2], np.int64(1), 1),
    (Color, Color.RED, Color.RED),
    (Color, 2, Color.BLUE),
    (Level, 1, Level.LOW),
    (list, (1, "a"), [1, "a"]),
    (dict, {"a": 1}, {"a": 1}),
    (List[float], [1, 2.5], [1.0, 2.5]),
    (List[int], (1, 2), [1, 2]),
    (List[Tuple[float, float, float]], [[1, 2, 3.5]], [(1.0, 2.0, 3.5)]),
    (Tuple[float, float, float], [0.5, 1, 2], (0.5, 1.0, 2.0)),
    (Tuple[int, int], (1, 2), (1, 2)),
    (Tuple[int, ...], [1, 2, 3], (1, 2, 3)),
    (Sequence[int], [1, 2], [1, 2]),
    (Sequence[int], (1, 2), (1, 2)),
    (AbcSequence, [1.5], [1.5]),
    (Set[str], ["x", "y"], {"x", "y"}),
    (Set[int], frozenset({1}), {1}),
    (FrozenSet[int], [1, 2], frozenset({1, 2})),
    (Dict[str, float], {"a": 1, "b": 0.5}, {"a": 1.0, "b": 0.5}),
    (Dict[str, Tuple[int, float]], {"a": [1, 2]}, {"a": (1, 2.0)}),
    (Mapping[str, int], {"a": 1}, {"a": 1}),
    (AbcMapping, {"a": 1}, {"a": 1}),
    (Dict[int, float], {1: 0.5}, {1: 0.5}),
    (Dict[Color, int], {1: 3}, {Color.RED: 3}),
    (Array, np.arange(3), np.arange(3)),
    (Array, [1, 2.5], np.array([1.0, 2.5])),
    (Array[float, 1], np.array([1, 2]), np.array([1.0, 2.0])),
    (Array[float, 1], [1, 2], np.array([1.0, 2.0])),
    (Array[float, 1], np.arange(3, dtype=np.float32), np.arange(3.0)),
    (Array[np.int16], [1, 2], np.array([1, 2], dtype=np.int16)),
    (Array[np.uint8], np.array([1], dtype=np.uint8), np.array([1], dtype=np.uint8)),
    (Array[complex], [1, 0.5, 1j], np.array([1, 0.5, 1j])),
    (Array[bool], [True, False], np.array([True, False])),
    (Array[np.floating], np.array([1.0], dtype=np.float16), np.array([1.0], dtype=np.float16)),
]

#: (annotation, value given, what the refusal says).
REFUSED: list[tuple[Any, Any, str]] = [
    (int, 2.5, r"a float never becomes an int"),
    (int, 2.0, r"a float never becomes an int\. Write 2 instead of 2\.0"),
    (int, np.float64(3.0), r"a float never becomes an int"),
    (int, "2", r"a str never becomes an int"),
    (int, True, r"a bool never becomes a number"),
    (int, np.bool_(True), r"a bool never becomes a number"),
    (int, None, r"expected an int"),
    (float, "1e999", r"a str never becomes a float"),
    (float, "nan", r"a str never becomes a float"),
    (float, "2", r"a str never becomes a float"),
    (float, True, r"a bool never becomes a number"),
    (float, BIG, r"no exact float"),
    (float, np.int64(BIG), r"no exact float"),
    (float, 10**400, r"too large for a float"),
    (float, 1j, r"expected a float, got a complex"),
    (complex, True, r"a bool never becomes a number"),
    (complex, "1j", r"a str never becomes a complex"),
    (bool, 1, r"a number never becomes a bool"),
    (bool, 0.0, r"a number never becomes a bool"),
    (bool, "true", r"a str never becomes a bool"),
    (str, 3, r"an int never becomes a str"),
    (str, 2.5, r"a float never becomes a str"),
    (str, True, r"a bool never becomes a str"),
    (str, b"x", r"expected a str"),
    (type(None), 0, r"only None fits"),
    (Optional[float], "x", r"fits no member"),
    (Optional[int], 2.5, r"fits no member.*int: a float never becomes an int"),
    (Union[int, str], True, r"fits no member"),
    (Union[int, str], 1.5, r"fits no member"),
    (Literal[1, 2], True, r"none of 1, 2"),
    (Literal[1, 2], 1.0, r"none of 1, 2"),
    (Literal["a"], "b", r"none of 'a'"),
    (Color, "RED", r"not the value of a member"),
    (Color, 1.0, r"not the value of a member"),
    (Level, True, r"not the value of a member"),
    (List[int], [1.7, 2.2], r"\[0\] = 1\.7 .*\(int expected there\): a float never becomes"),
    (List[int], [1, True], r"\[1\] = True .*a bool never becomes a number"),
    (List[int], {1, 2}, r"a set has no order"),
    (List[str], "abc", r"a str is not a list of items here"),
    (List[float], ["1.5"], r"a str never becomes a float"),
    (
        List[Tuple[float, float, float]],
        [[1, 2]],
        r"\[0\] = \[1, 2\].*has 2 items, the type expects 3",
    ),
    (Tuple[int, int], (1, 2, 3), r"has 3 items, the type expects 2"),
    (Tuple[float, float, float], [0.5, "1", 2], r"\[1\] = '1'"),
    (Tuple[int, ...], [1, 2.0], r"\[1\] = 2\.0"),
    (Sequence[int], [1.5], r"\[0\] = 1\.5"),
    (Set[int], [1, 2.5], r"a float never becomes an int"),
    (FrozenSet[str], [1], r"an int never becomes a str"),
    (Dict[str, float], {"a": "1"}, r"\['a'\] = '1'.*a str never becomes a float"),
    (Dict[str, float], {1: 1.0}, r"\[key 1\] = 1 .*an int never becomes a str"),
    (Dict[int, float], {"1": 1.0}, r"\[key '1'\] = '1'.*a str never becomes an int"),
    (Dict[str, int], [("a", 1)], r"expected a dict"),
    (Mapping[str, int], {"a": 1.5}, r"\['a'\] = 1\.5"),
    (Dict[str, List[int]], {"a": [1, 2.5]}, r"\['a'\]\[1\] = 2\.5"),
    (Array[int], np.array([1.0, 2.0]), r"dtype float64 does not cast safely to int64"),
    (Array[int], [1.0, 2.0], r"its values \(f\) do not fit int64"),
    (Array[int], np.array([True]), r"a bool array never becomes an array of numbers"),
    (Array[float], np.array([BIG]), r"some of its integers have no exact float64"),
    (Array[float], [BIG, 0.5], r"has no exact float64 value"),
    (Array[np.float32], np.array([0.1]), r"does not cast safely to float32"),
    (Array[np.float32], [0.1], r"0\.1 has no exact float32 value"),
    (Array[np.uint8], [1, 300], r"does not convert exactly"),
    (Array[float], ["1.5"], r"do not fit float64"),
    (Array, [True, 1], r"mixes bools or strings with other values"),
    (Array, [1, "a"], r"mixes bools or strings with other values"),
    (Array, [[1, 2], [3]], r"does not convert exactly to an array"),
    (Array, [None], r"None .* cannot be an array value"),
    (Array[float, 1], np.ones((2, 2)), r"it has 2 dimensions, the type expects 1"),
]


@pytest.mark.parametrize(("annotation", "value", "expected"), ACCEPTED)
def test_lossless_values_are_accepted(annotation: Any, value: Any, expected: Any) -> None:
    out = serialization.validate(annotation, value)
    assert same(out, expected), (out, expected)


@pytest.mark.parametrize(("annotation", "value", "expected"), ACCEPTED)
def test_accepted_values_validate_as_pydantic_did(
    annotation: Any, value: Any, expected: Any
) -> None:
    """Digests of inputs that were valid before stay the same."""
    try:
        before = serialization._leaf(annotation)(value)
    except Exception:  # pydantic refused it (e.g. a list of ints for Array[float]): new
        return
    if annotation == Union[List[int], List[float]]:
        assert before == [1]  # pydantic truncated 1.5 to fit the first member: a silent change
        return
    out = serialization.validate(annotation, value)
    assert digest.hash_value(out) == digest.hash_value(before), (out, before)


@pytest.mark.parametrize(("annotation", "value", "message"), REFUSED)
def test_values_that_would_change_are_refused(annotation: Any, value: Any, message: str) -> None:
    with pytest.raises(TaskInputError, match=message) as info:
        serialization.validate(annotation, value, what="f: input 'x'")
    text = str(info.value)
    assert text.startswith("f: input 'x'") and "does not fit the declared type" in text
    assert serialization.type_name(annotation) in text


@pytest.mark.parametrize(
    ("annotation", "key", "expected"),
    [
        (Dict[int, float], "1", 1),
        (Dict[float, float], "0.5", 0.5),
        (Dict[bool, float], "true", True),
        (Dict[Level, float], "2", Level.HIGH),
    ],
)
def test_json_object_keys_spell_numbers_exactly(annotation: Any, key: str, expected: Any) -> None:
    with serialization.from_json():
        assert serialization.validate(annotation, {key: 1.0}) == {expected: 1.0}
        for wrong in (" 1", "01", "1.0" if expected == 1 else "0.50", "True"):
            with pytest.raises(TaskInputError, match=r"\[key"):
                serialization.validate(annotation, {wrong: 1.0})
    with pytest.raises(TaskInputError, match=r"\[key"):
        serialization.validate(annotation, {key: 1.0})  # from Python, a str key stays a str


def test_json_number_literals_that_overflow_are_refused_at_parsing() -> None:
    assert serialization.parse_json("[NaN, Infinity, 1e308, 5e-324]")[1] == math.inf
    for text, message in [
        ("1e999", r"1e999 is too large for a float"),
        ("-1e400", r"too large"),
        ("1e-999", r"1e-999 is too small for a float"),
        ("1" * 5000, r"too many digits"),
    ]:
        with pytest.raises(ValueError, match=message):
            serialization.parse_json(text)


@pytest.mark.parametrize(
    "text",
    ["1e999", "[1E+300]", "2e-308", "1.5e-05", "E-123", "e12", "\u00e9e123", "9" * 300,
     "9" * 299 + "a" + "1" * 299, '{"k": "1e0999"}', "Infinity", "", "0" * 299],
)  # fmt: skip
def test_risky_number_search_is_the_regular_expression(text: str) -> None:
    pattern = re.compile(r"[eE][-+]?[0-9]{3}|[0-9]{300}")
    assert jsonparse.may_be_risky(text) is bool(pattern.search(text))
    assert jsonparse.may_be_risky(text.encode()) is bool(pattern.search(text))


# ---------------------------------------------------------------------------
# The same rules wherever validation happens

TASKS = """
from typing import Dict, List, Union
from smttask import MemoizedTask, TaskOutput

@MemoizedTask
def count(n: int, xs: List[int] = [1]) -> int:
    return n + sum(xs)

@MemoizedTask
def half(x: float) -> float:
    return x / 2

@MemoizedTask
def maybe(x: float) -> Union[int, float]:
    return x / 2

@MemoizedTask
def rounded(x: float) -> int:
    return x  # wrong when x is not whole

class Stats(TaskOutput):
    n: int
    mean: float

@MemoizedTask
def stats(xs: List[float]) -> Stats:
    return len(xs) / 1, sum(xs) / len(xs)  # n comes out as a float

@MemoizedTask
def weights(w: Dict[str, float]) -> float:
    return sum(w.values())
"""


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    return project.write_module("strict_tasks", TASKS)


def test_task_inputs_and_bind(tasks) -> None:  # type: ignore[no-untyped-def]
    assert tasks.count(n=2, xs=[3]).run() == 5
    with pytest.raises(TaskInputError, match=r"count: input 'xs'\[0\] = 1\.7 .*List\[int\]"):
        tasks.count(n=1, xs=[1.7, 2.2])
    with pytest.raises(TaskInputError, match=r"count: input 'n' = True"):
        tasks.count(n=True)
    with pytest.raises(TaskInputError, match=r"count: input 'n' = 2\.0 .*Write 2 instead"):
        tasks.count.bind(n=2.0)
    assert tasks.half(x=3).inputs["x"] == 3.0 and type(tasks.half(x=3).inputs["x"]) is float


def test_defaults_are_checked_when_the_function_is_decorated(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TaskDefinitionError, match=r"default of 'n' is invalid.*2\.5 .*int"):
        project.write_module(
            "bad_default",
            "from smttask import MemoizedTask\n"
            "@MemoizedTask\n"
            "def f(n: int = 2.5) -> int:\n"
            "    return n\n",
        )


def test_return_values_and_task_outputs(tasks) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OutputError, match=r"the result = 2\.0 does not fit .* int"):
        tasks.rounded(x=2.0).run()
    with pytest.raises(OutputError, match=r"the result = 1\.7 .*a float never becomes an int"):
        tasks.rounded(x=1.7).run()
    with pytest.raises(OutputError, match=r"output 'n' = 2\.0 does not fit .* int"):
        tasks.stats(xs=[1.0, 2.0]).run()


def test_upstream_results_fed_into_downstream_inputs(tasks) -> None:  # type: ignore[no-untyped-def]
    ok = tasks.count(n=tasks.count(n=1), xs=[0])  # count(n=1) = 1 + sum([1])
    assert ok.run() == 2
    with pytest.raises(TaskInputError, match=r"expects int, but the task half .* returns float"):
        tasks.count(n=tasks.half(x=3.0))
    for x, message in [(3.0, r"= 1\.5 .*a float never becomes"), (4.0, r"= 2\.0 .*Write 2")]:
        fed = tasks.count(n=tasks.maybe(x=x))  # maybe returns a float: refused when it runs
        with pytest.raises(TaskInputError, match=r"count: input 'n' " + message):
            fed.run()


def test_a_hand_edited_task_file(tasks, project) -> None:  # type: ignore[no-untyped-def]
    path = tasks.count(n=2, xs=[1, 2]).save(project.root / "taskdir")
    desc = json.loads(path.read_text())
    assert Task.from_desc(desc).run() == 5
    for edit, message in [
        ({"n": 2.5}, r"input 'n' = 2\.5 does not fit the declared type int"),
        ({"n": "2"}, r"input 'n' = '2' .*a str never becomes an int"),
        ({"xs": [1.7, 2.2]}, r"input 'xs'\[0\] = 1\.7"),
        ({"xs": [1, False]}, r"input 'xs'\[1\] = False"),
    ]:
        path.write_text(json.dumps({**desc, "inputs": {**desc["inputs"], **edit}}))
        with pytest.raises(TaskFileError, match=message):
            Task.from_desc(path, check_digest=False)
    w = tasks.weights(w={"a": 1.5})
    assert Task.from_desc(w.desc) == w
    with pytest.raises(TaskFileError, match=r"input 'w'\['a'\] = '1\.5'"):
        Task.from_desc({**w.desc, "inputs": {"w": {"a": "1.5"}}}, check_digest=False)
