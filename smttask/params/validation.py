"""Validating field values: against their annotations, and never converted silently.

An ``int`` for a ``float`` field becomes a ``float`` of the same value; anything else that
validation would change (``1.5`` → ``1``, ``"2"`` → ``2``, ``True`` → ``1``, also inside lists
and dicts) is refused. Tasks and ``expand(...)`` values inside a field are refused too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import serialization
from ..errors import ParamError, TaskInputError, short_repr
from ..task import Task
from .expand import Expandable

__all__ = ["validate_value"]

_SCALARS = (bool, int, float, str)
_BUILTIN_NUMBERS = frozenset({bool, int, float, complex})


def _is_lazy(value: Any) -> bool:
    return isinstance(value, (Task, Expandable))


def validate_value(annotation: Any, value: Any, what: str) -> Any:
    """`value` validated against `annotation`; ParamError naming `what` if it does not fit or
    if validation would change it."""
    if serialization.contains(value, _is_lazy):
        raise ParamError(
            f"{what} = {short_repr(value)} holds a task or an expand(...) inside it. A field "
            f"holds values: expand(...) must be a field's whole value, and a task is passed as "
            f"a task input of its own (simulate(times=grid_task, params=point))."
        )
    if isinstance(value, np.generic) and annotation in _BUILTIN_NUMBERS:
        value = value.item()  # numpy scalars from arrays and draws: plain Python numbers
    try:
        out = serialization.validate(annotation, value, what=what)
    except TaskInputError as exc:
        raise ParamError(str(exc)) from None
    if out is not value:
        _refuse_change(annotation, value, out, what)
    return out


def _refuse_change(annotation: Any, raw: Any, out: Any, what: str) -> None:
    changed = first_change(raw, out)
    if changed is not None:
        before, after = changed
        expected = serialization.type_name(annotation)
        inside = "" if before is raw else f" (its item {before!r} would become {after!r})"
        raise ParamError(
            f"{what} = {short_repr(raw)} would become {short_repr(out)}{inside} to fit the "
            f"declared type {expected}; values are never converted silently. Pass a value of "
            f"that type, or change the annotation."
        )


def first_change(raw: Any, out: Any) -> tuple[Any, Any] | None:
    """The first scalar that validation changed (1.5 → 1, "2" → 2, True → 1), if any; lists,
    tuples and dicts are compared item by item. int → float of the same value is no change."""
    if isinstance(raw, np.generic):
        raw = raw.item()
    if isinstance(raw, _SCALARS) and isinstance(out, _SCALARS):
        differ = isinstance(raw, bool) != isinstance(out, bool)
        differ |= isinstance(raw, str) != isinstance(out, str)
        return (raw, out) if differ or raw != out else None
    if isinstance(raw, (list, tuple)) and isinstance(out, (list, tuple)) and len(raw) == len(out):
        for a, b in zip(raw, out):
            found = first_change(a, b)
            if found is not None:
                return found
    if isinstance(raw, dict) and isinstance(out, dict) and len(raw) == len(out):
        for (k1, v1), (k2, v2) in zip(raw.items(), out.items()):  # pydantic keeps the order
            found = first_change(k1, k2) or first_change(v1, v2)
            if found is not None:
                return found
    return None
