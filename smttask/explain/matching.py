"""Comparing a task with earlier descriptions of its type (records, task files).

Each input gets a hash of its canonical JSON, where an upstream task stands for its *shape*:
its name and the hashes of its own inputs, without its digest or code. Two descriptions with
the same shape read the same input values, so what differs between them is code, version,
kind or the code of an upstream task; descriptions whose shapes differ in one input differ by
that input's value. Shapes are computed once per task (by key) and once per earlier record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .. import serialization
from ..task import Task
from ..taskfile import FORMAT_KEY


def _h(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


#: Canonical JSON (one encoder for every call: ``json.dumps`` with options makes one a call).
_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def combine(taskname: str, hashes: Mapping[str, str], leave_out: str | None = None) -> str:
    """The shape of a task from its name and its input hashes (without input `leave_out`)."""
    items = [f"{k}={v}" for k, v in sorted(hashes.items()) if k != leave_out]
    return _h(f"{taskname}\0{leave_out or ''}\0" + "\0".join(items))


#: Values that encode as themselves (`serialization.encode` returns them unchanged).
_SCALARS = frozenset({type(None), bool, int, float, str})


class TaskShapes:
    """Input hashes and shapes of live tasks, memoized by key."""

    def __init__(self) -> None:
        self._shapes: dict[str, str] = {}
        self._hashes: dict[str, dict[str, str]] = {}

    def hashes(self, task: Task) -> dict[str, str]:
        found = self._hashes.get(task.key)
        if found is None:
            found = {}
            for name, value in task.inputs.items():
                if type(value) in _SCALARS:  # what `encode` returns for them
                    encoded = value
                elif isinstance(value, Task):
                    encoded = self._hook(value)
                else:
                    encoded = serialization.encode(value, hook=self._hook)
                found[name] = _h(_dumps(encoded))
            self._hashes[task.key] = found
        return found

    def shape(self, task: Task) -> str:
        found = self._shapes.get(task.key)
        if found is None:
            found = combine(task.taskname, self.hashes(task))
            self._shapes[task.key] = found
        return found

    def _hook(self, value: Any) -> Any:
        return {"$task": self.shape(value)} if isinstance(value, Task) else None


def desc_taskname(desc: Mapping[str, Any]) -> str:
    return f"{desc.get('module')}.{desc.get('task')}"


def desc_hashes(desc: Mapping[str, Any]) -> dict[str, str]:
    """The input hashes of a task description (the JSON a record or task file keeps)."""
    inputs = desc.get("inputs")
    if not isinstance(inputs, Mapping):
        return {}
    return {str(k): _h(_dumps(_strip(v))) for k, v in inputs.items()}


def desc_shape(desc: Mapping[str, Any]) -> str:
    return combine(desc_taskname(desc), desc_hashes(desc))


def _strip(value: Any) -> Any:
    if isinstance(value, Mapping):
        if FORMAT_KEY in value:
            return {"$task": desc_shape(value)}
        return {k: _strip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def embedded(value: Any) -> list[Mapping[str, Any]]:
    """The task descriptions inside an input value of a description, in order."""
    found: list[Mapping[str, Any]] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Mapping):
            if FORMAT_KEY in v:
                found.append(v)
            else:
                stack.extend(reversed(list(v.values())))
        elif isinstance(v, list):
            stack.extend(reversed(v))
    return found


def tasks_in(value: Any) -> list[Task]:
    """The tasks inside an input value of a live task, in the order ``encode`` meets them."""
    found: list[Task] = []

    def hook(v: Any) -> Any:
        if isinstance(v, Task):
            found.append(v)
            return 0
        return None

    serialization.encode(value, hook=hook)
    return found
