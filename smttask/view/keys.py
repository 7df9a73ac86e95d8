"""Parameter keys: dotted paths into the task description a record keeps as its parameters.

A record's parameters are its task's description (see ``smttask.taskdesc``)::

    {"task": "analyze", "module": "tasks", "kind": "RecordedTask", "digest": "…",
     "inputs": {"arr": {"task": "square", …, "inputs": {"n": 3}}, "dt": 0.5}}

A key is a path of names separated by dots, read from the description:

- inside a task description, the names ``task``, ``module``, ``kind``, ``digest``,
  ``smttask_format`` and ``inputs`` are the description's own fields, and **any other name is
  an input**: ``dt`` is ``inputs.dt``, and ``arr.n`` is ``inputs.arr.inputs.n`` (input ``n`` of
  the upstream task given as input ``arr``); ``arr.task`` is the upstream task's name;
- inside a plain dict, a name is a key; inside a list, a number is an index.

An input named like a description field is reached through ``inputs`` (``inputs.task``). A
key may also be a tuple of names, for dict keys that contain dots: ``("opts", "a.b")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..taskfile import FORMAT_KEY

#: Names that, inside a task description, are its own fields (anything else is an input).
FIELDS = frozenset({FORMAT_KEY, "task", "module", "kind", "digest", "inputs"})

Key = str | tuple[str, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: What `resolve` returns for a key the description does not have.
MISSING: Any = _Missing()


def parts(key: Key) -> tuple[str, ...]:
    if isinstance(key, tuple):
        return tuple(str(p) for p in key)
    return tuple(str(key).split("."))


def show(key: Key) -> str:
    return key if isinstance(key, str) else ".".join(key)


def is_desc(value: Any) -> bool:
    return isinstance(value, Mapping) and FORMAT_KEY in value


def resolve(desc: Any, key: Key) -> Any:
    """The value at `key` in the task description `desc` (``MISSING`` if there is none)."""
    node = desc
    for part in parts(key):
        if is_desc(node) and part not in FIELDS:
            node = node.get("inputs")
            if not isinstance(node, Mapping):
                return MISSING
        if isinstance(node, Mapping):
            node = node.get(part, MISSING)
        elif isinstance(node, list) and part.lstrip("-").isdigit():
            index = int(part)
            node = node[index] if -len(node) <= index < len(node) else MISSING
        else:
            return MISSING
        if node is MISSING:
            return MISSING
    return node


def flatten(desc: Any) -> dict[str, Any]:
    """The inputs of a task description as {short dotted key: value}.

    Upstream tasks contribute ``<input>.task`` (their name) and their own inputs under
    ``<input>.``; plain dicts are expanded; lists and encoded values (scityping's
    ``[type, data]`` pairs) stay whole.
    """
    out: dict[str, Any] = {}
    inputs = desc.get("inputs") if isinstance(desc, Mapping) else None
    if isinstance(inputs, Mapping):
        for name, value in inputs.items():
            _flatten(value, _input_key("", str(name)), out)
    return out


def _input_key(prefix: str, name: str) -> str:
    """The key of input `name` of the task description at `prefix` (see the module doc)."""
    key = f"inputs.{name}" if name in FIELDS else name
    return f"{prefix}.{key}" if prefix else key


def _flatten(value: Any, key: str, out: dict[str, Any]) -> None:
    if is_desc(value):
        out[f"{key}.task"] = value.get("task")
        inputs = value.get("inputs")
        if isinstance(inputs, Mapping):
            for name, sub in inputs.items():
                _flatten(sub, _input_key(key, str(name)), out)
    elif isinstance(value, Mapping) and value:
        for name, sub in value.items():
            _flatten(sub, f"{key}.{name}", out)
    else:
        out[key] = value
