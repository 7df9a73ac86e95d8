"""The strict rules for arrays (``scityping.numpy.Array``, ``Array[T]``, ``Array[T, n]``,
``np.ndarray``) and numpy scalar types (``np.float32``, ``np.int16``, ``np.datetime64``...).

An array of a declared dtype takes an array whose dtype numpy casts to it safely
(``np.can_cast(..., casting="safe")``), except bools into numbers and integers that have no
exact float (int64 → float64 beyond 2**53); a list (nested or not) is taken if every value
converts exactly (``[1, 2]`` for ``Array[float]``, not ``[1.5]`` for ``Array[int]``, not
``[0.1]`` for ``Array[np.float32]``). Bools and strings never mix with numbers.

A numpy scalar type takes its own instances, and a number (bool, str, bytes) whose value it
holds exactly: ``np.float32`` takes ``0.5`` and ``np.float64(0.5)``, not ``0.1`` (no float32 is
0.1), ``np.int8`` not ``300``; a type without an exact Python value (``np.datetime64``,
``np.longdouble``) also takes its 0-d array in scityping's encoded form, as smttask writes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scityping.numpy import _ArrayType, infer_numpy_type_to_cast

from .strict import Refused, Validator, kind_of, short, type_name

__all__ = ["array_validator", "is_scalar_type", "scalar_validator"]


def array_validator(ann: Any, decode: Validator) -> Validator:
    """The validator of array type `ann`; `decode` turns scityping's encoded form into an array."""
    nptype, ndim = ann.nptype, ann._ndim
    expected = type_name(ann)
    registry = _ArrayType._registry

    def validate(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            arr = v
        elif (
            isinstance(v, (list, tuple))
            and len(v) == 2
            and isinstance(v[0], str)
            and v[0] in registry
        ):
            arr = decode(v)  # scityping's encoded form (its dtype is kept, then checked)
            listed = _listed_values(v)
            if listed is not None and not _exact(arr.tolist(), listed):
                raise Refused(
                    v,
                    expected,
                    f"its values {short(listed)} do not all fit its dtype {arr.dtype} exactly "
                    f"(they would become {short(arr.tolist())})",
                )
        elif isinstance(v, (list, tuple, bool, int, float, complex, str, np.generic)):
            arr = _from_values(v, nptype, expected)
        else:
            raise Refused(v, expected, f"expected an array or a list of numbers, got {kind_of(v)}")
        if ndim is not None and arr.ndim != ndim:
            raise Refused(v, expected, f"it has {arr.ndim} dimensions, the type expects {ndim}")
        if nptype is None or np.issubdtype(arr.dtype, nptype):
            return arr
        return _cast(arr, nptype, expected)

    return validate


def _listed_values(v: Any) -> Any:
    """The values of scityping's list form of an array (``ListArrayData``), else None."""
    data = v[1].get("data") if isinstance(v[1], dict) else None
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        return None
    if data[0] != "scityping.numpy.ListArrayData":
        return None
    fields = data[1][-1] if isinstance(data[1], (list, tuple)) and data[1] else data[1]
    return fields.get("data") if isinstance(fields, dict) else None


def _exact(decoded: Any, given: Any) -> bool:
    """Whether `decoded` (an array's ``tolist()``) holds exactly the values `given` (JSON):
    no number truncated or rounded, no float made an integer, no bool made a number."""
    if isinstance(given, (list, tuple)):
        return (
            isinstance(decoded, list)
            and len(decoded) == len(given)
            and all(_exact(d, g) for d, g in zip(decoded, given))
        )
    if isinstance(given, bool) or isinstance(decoded, bool):
        return type(given) is type(decoded) and given == decoded
    if isinstance(decoded, int) and not isinstance(given, int):
        return False
    if isinstance(decoded, float) and isinstance(given, float) and decoded != decoded:
        return given != given  # NaN
    return bool(decoded == given)


def _target(nptype: Any, value: Any, expected: str) -> np.dtype[Any]:
    """The concrete dtype `value` becomes for the (possibly abstract) declared `nptype`."""
    try:
        return np.dtype(infer_numpy_type_to_cast(nptype, value))
    except (AttributeError, AssertionError, NotImplementedError, TypeError):
        raise Refused(value, str(nptype), f"no concrete dtype of {nptype} fits it") from None


def _cast(arr: np.ndarray, nptype: Any, expected: str) -> np.ndarray:
    target = _target(nptype, arr, expected)
    if arr.dtype.kind == "b" and target.kind != "b":
        raise Refused(arr, expected, "a bool array never becomes an array of numbers")
    if not np.can_cast(arr.dtype, target, casting="safe"):
        raise Refused(
            _summary(arr),
            expected,
            f"dtype {arr.dtype} does not cast safely to {target}",
            f"Convert it yourself (arr.astype({target.name!r})) if you mean it, or change "
            f"the annotation.",
        )
    out = arr.astype(target)
    if arr.dtype.kind in "iu" and target.kind in "fc" and _inexact(arr, out):
        raise Refused(_summary(arr), expected, f"some of its integers have no exact {target}")
    return out


def _inexact(arr: np.ndarray, out: np.ndarray) -> bool:
    bits = arr.dtype.itemsize * 8 - (arr.dtype.kind == "i")
    if bits <= np.finfo(out.dtype).nmant + 1:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        back = out.real.astype(arr.dtype) if out.dtype.kind == "c" else out.astype(arr.dtype)
    return not np.array_equal(back, arr)


class _Summary:
    def __init__(self, arr: np.ndarray) -> None:
        self.text = f"array(shape={arr.shape}, dtype={arr.dtype})"

    def __repr__(self) -> str:
        return self.text


def _summary(arr: np.ndarray) -> Any:
    return _Summary(arr)


_LEAF_KIND = {"bool": "b", "int": "i", "float": "f", "complex": "c"}
#: Which kinds of list values an array of each dtype kind takes.
_TAKES = {"b": "b", "i": "i", "u": "i", "f": "if", "c": "ifc", "U": "U"}


def _leaf_kind(x: Any) -> str:
    return "U" if isinstance(x, str) else _LEAF_KIND.get(kind_of(x), "?")


def _from_values(v: Any, nptype: Any, expected: str) -> np.ndarray:
    """An array from (nested) lists of numbers, if every value converts exactly."""
    leaves = _leaves(v, expected)
    kinds = {_leaf_kind(x) for x in leaves}
    if "?" in kinds:
        bad = next(x for x in leaves if _leaf_kind(x) == "?")
        raise Refused(v, expected, f"{short(bad)} ({kind_of(bad)}) cannot be an array value")
    if len(kinds) > 1 and kinds & {"b", "U"}:
        raise Refused(v, expected, "it mixes bools or strings with other values")
    try:
        natural = np.array(v)
        if nptype is None or np.issubdtype(natural.dtype, nptype):
            target = natural.dtype
        else:
            target = _target(nptype, leaves[0] if leaves else 0.0, expected)
        arr = np.array(v, dtype=target) if target.kind in _TAKES else natural
    except (ValueError, OverflowError, TypeError) as exc:
        raise Refused(v, expected, f"it does not convert exactly to an array ({exc})") from None
    if not kinds <= set(_TAKES.get(target.kind, "")):
        raise Refused(v, expected, f"its values ({', '.join(sorted(kinds))}) do not fit {target}")
    for x, y in zip(leaves, arr.ravel().tolist()):
        if not (x == y or (x != x and y != y)):
            raise Refused(v, expected, f"{x!r} has no exact {target} value (it would be {y!r})")
    return arr


def _leaves(v: Any, expected: str) -> list[Any]:
    if not isinstance(v, (list, tuple)):
        return [v]
    out: list[Any] = []
    stack = [iter(v)]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, (list, tuple)):
            if len(stack) >= 64:
                raise Refused(v, expected, "it is nested more than 64 levels deep")
            stack.append(iter(item))
        else:
            out.append(item)
    return out


_END = object()


_CONCRETE = frozenset(np.sctypeDict.values())
#: Which Python values a numpy scalar of each dtype kind takes (exactly).
_SCALAR_TAKES: dict[str, tuple[type, ...]] = {
    "b": (bool, np.bool_),
    "i": (int, np.integer),
    "u": (int, np.integer),
    "f": (int, float, np.integer, np.floating),
    "c": (int, float, complex, np.number),
    "U": (str,),
    "S": (bytes,),
}


def is_scalar_type(ann: Any) -> bool:
    """Whether `ann` is a concrete numpy scalar type (``np.float32``, not ``np.floating``)."""
    return isinstance(ann, type) and issubclass(ann, np.generic) and ann in _CONCRETE


def scalar_validator(ann: Any, decode: Validator) -> Validator:
    """The validator of numpy scalar type `ann`; `decode` turns scityping's encoded form of
    an array into an array (a 0-d array stands for a scalar without a Python value)."""
    kind = np.dtype(ann).kind
    takes = _SCALAR_TAKES.get(kind, ())
    expected = ann.__name__
    registry = _ArrayType._registry

    def validate(v: Any) -> Any:
        if type(v) is ann:
            return v
        if isinstance(v, (list, tuple)) and len(v) == 2 and isinstance(v[0], str):
            if v[0] not in registry:
                raise Refused(v, expected, f"expected a {expected}, got a {kind_of(v)}")
            arr = decode(v)
            if arr.ndim != 0 or arr.dtype.type is not ann:
                raise Refused(_summary(arr), expected, f"it is not a {expected}")
            return arr[()]
        if not isinstance(v, takes) or (isinstance(v, (bool, np.bool_)) and kind != "b"):
            raise Refused(v, expected, f"a {kind_of(v)} is not a {expected}")
        try:
            with np.errstate(over="raise", invalid="ignore"):
                out = ann(v)
        except (OverflowError, FloatingPointError, ValueError, TypeError):
            raise Refused(v, expected, f"{short(v)} does not fit a {expected}") from None
        if not (out == v or (out != out and v != v)):
            raise Refused(v, expected, f"{short(v)} has no exact {expected} value")
        return out

    return validate
