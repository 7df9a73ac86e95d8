"""How far a reproduced value is from the recorded one: numbers and arrays, element by
element, inside lists, tuples and dicts of the same shape."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import Tolerance


@dataclass(frozen=True)
class Difference:
    max_abs: float | None  # None: the values are not comparable as numbers
    max_rel: float | None
    within: bool  # inside the tolerance (False without one, or when exact parts differ)
    detail: str  # why there are no figures, or which exact parts differ


class _NotComparable(Exception):
    pass


def difference(reproduced: Any, recorded: Any, tolerance: Tolerance | None) -> Difference:
    """Largest absolute and relative (to the recorded value) differences, and whether the
    reproduced value is within `tolerance` of the recorded one."""
    try:
        pairs = list(_pairs(reproduced, recorded, "value"))
    except _NotComparable as exc:
        return Difference(None, None, False, str(exc))
    if not pairs:
        return Difference(None, None, False, "no numbers in the output")
    max_abs = max_rel = 0.0
    within = tolerance is not None
    exact_differs: list[str] = []
    for where, x, y, exact in pairs:
        x, y = np.asarray(x, dtype=np.complex128), np.asarray(y, dtype=np.complex128)
        both_nan = np.isnan(x) & np.isnan(y)
        diff = np.where(both_nan, 0.0, np.abs(x - y))
        diff = np.where(np.isnan(diff), np.inf, diff)  # NaN against a number
        scale = np.abs(y)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(diff == 0, 0.0, diff / scale)
        if diff.size:
            max_abs = max(max_abs, float(diff.max()))
            max_rel = max(max_rel, float(np.nanmax(np.where(np.isnan(rel), np.inf, rel))))
        if exact and np.any(diff != 0):
            exact_differs.append(where)
            within = False
        elif tolerance is not None and np.any(diff > tolerance.abs + tolerance.rel * scale):
            within = False
    detail = f"exact values differ: {', '.join(exact_differs[:5])}" if exact_differs else ""
    return Difference(max_abs, max_rel, within, detail)


def _pairs(a: Any, b: Any, where: str) -> Iterator[tuple[str, Any, Any, bool]]:
    """(where, reproduced numbers, recorded numbers, compared exactly) for every numeric part;
    _NotComparable when the two differ in shape or in a part that is not a number."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise _NotComparable(f"{where}: shape {a.shape}, recorded {b.shape}")
        kinds = {a.dtype.kind, b.dtype.kind}
        if kinds <= set("fc"):
            yield where, a, b, False
        elif kinds <= set("fciub"):
            yield where, a, b, not kinds & set("fc")
        elif not np.array_equal(a, b):
            raise _NotComparable(f"{where}: arrays of {a.dtype} differ")
        return
    if _number(a) and _number(b):
        yield where, a, b, not (_float(a) or _float(b))
        return
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b):
            raise _NotComparable(
                f"{where}: keys {sorted(map(str, a))}, recorded {sorted(map(str, b))}"
            )
        for k in b:
            yield from _pairs(a[k], b[k], f"{where}[{k!r}]")
        return
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            raise _NotComparable(f"{where}: length {len(a)}, recorded {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            yield from _pairs(x, y, f"{where}[{i}]")
        return
    if type(a) is not type(b) or a != b:
        raise _NotComparable(f"{where}: {type(a).__name__} value differs (not a number)")


def _number(v: Any) -> bool:
    return isinstance(v, int | float | complex | np.number) and not isinstance(v, str)


def _float(v: Any) -> bool:
    return isinstance(v, float | complex | np.floating | np.complexfloating)
