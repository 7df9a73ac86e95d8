"""Task files' JSON text (``smttask.compile.plan.jsontext``): the text of
``json.dumps(value, indent=2)``, character for character."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from smttask.compile.plan.jsontext import indented

LEAVES: list[Any] = [
    None,
    True,
    False,
    0,
    -5,
    2**80,
    1.5,
    -0.0,
    0.1,
    1e300,
    5e-324,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    "abc",
    'quote " backslash \\ newline \n nul \x00 line separator \u2028 é 😀',
]


class Number(float):
    pass


class Text(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        *LEAVES,
        {},
        [],
        (),
        {"a": {}, "b": [], "c": [[]], "d": [{}]},
        {"smttask_format": 2, "inputs": {"x": [1, 2.5, "s", None], "t": (1, (2, 3))}},
        {1: "int key", False: "bool key", None: "none key", 2.5: "float key"},  # json's own
        [Number(1.25), Text("sub")],  # subclasses: json's own
        {"k": Text("v")},
    ],
)
def test_the_text_of_json_dumps(value: Any) -> None:
    assert indented(value) == json.dumps(value, indent=2)


def test_the_text_of_json_dumps_for_nested_values() -> None:
    rng = random.Random(7)

    def make(depth: int) -> Any:
        r = rng.random()
        if depth > 5 or r < 0.3:
            return rng.choice(LEAVES)
        if r < 0.6:
            return [make(depth + 1) for _ in range(rng.randint(0, 4))]
        if r < 0.7:
            return tuple(make(depth + 1) for _ in range(rng.randint(0, 3)))
        keys = ["a", "ü", "", "smttask_format", 'x"y']
        return {f"{rng.choice(keys)}{i}": make(depth + 1) for i in range(rng.randint(0, 4))}

    for _ in range(3000):
        value = make(0)
        assert indented(value) == json.dumps(value, indent=2)


def test_values_json_refuses_are_refused_alike() -> None:
    with pytest.raises(TypeError):
        indented({"a": object()})
