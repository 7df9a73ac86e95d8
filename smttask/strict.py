"""Strict validation: a value that validation would change is refused, never coerced.

``validator(annotation, leaf)`` compiles an annotation into a function that returns the
validated value or raises ``Refused``. Scalars, containers, unions, literals, enums and arrays
follow the rules of ``docs/inputs.md`` (bool, int, float, complex and str never turn into one
another, except the exact widening int → float → complex; containers apply the rules to every
element); any other annotation is a *leaf*, validated by ``leaf(annotation)`` (pydantic and
scityping, see ``serialization``).

For accepted values the result is what pydantic gives (a tuple for ``Tuple[...]``, ``2.0``
for an int given to ``float``, a numpy float64 kept as it is...): the digests of accepted
inputs do not depend on which of the two validated them.
"""

from __future__ import annotations

import contextvars
import enum
import functools
import json
import re
import types
import typing
from collections import abc
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scityping.numpy import _ArrayType, infer_numpy_type_to_cast

__all__ = ["JSON_KEYS", "Refused", "type_name", "validator"]

Validator = Callable[[Any], Any]
LeafFactory = Callable[[Any], Validator]

#: True while validating values decoded from JSON, whose object keys are strings: a key
#: annotated as a number (or an Enum of numbers) then accepts its exact JSON spelling ("1").
JSON_KEYS: contextvars.ContextVar[bool] = contextvars.ContextVar("smttask_json_keys", default=False)


class Refused(Exception):
    """`value` does not fit `expected`; `path` (e.g. ``["[0]", "['a']"]``) locates it."""

    def __init__(self, value: Any, expected: str, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.value, self.expected, self.reason, self.fix = value, expected, reason, fix
        self.path: list[str] = []

    def at(self, part: str) -> Refused:
        self.path.insert(0, part)
        return self


def type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__qualname__
    return str(annotation).replace("typing.", "")


def validator(annotation: Any, leaf: LeafFactory) -> Validator:
    """The strict validator of `annotation` (cached); `leaf` validates the other types."""
    try:
        return _cached(annotation, leaf)
    except TypeError:  # unhashable annotation (rare)
        return _compile(annotation, leaf)


@functools.lru_cache(maxsize=2048)
def _cached(annotation: Any, leaf: LeafFactory) -> Validator:
    return _compile(annotation, leaf)


# ---------------------------------------------------------------------------
# Scalars


def _kind(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    if isinstance(v, (complex, np.complexfloating)):
        return "complex"
    return type(v).__qualname__


_NUMBER_FIX = "Pass a number (without quotes), or annotate the input as str."


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _never(v: Any, target: str) -> Refused:
    kind = _kind(v)
    if kind == "str":
        if target == "str":  # pragma: no cover - str fits str
            raise AssertionError
        return Refused(v, target, f"a str never becomes {_a(target)}", _NUMBER_FIX)
    if target in ("int", "float", "complex") and kind == "bool":
        return Refused(v, target, "a bool never becomes a number", "Pass a number.")
    if target == "bool" and kind in ("int", "float", "complex"):
        return Refused(v, target, "a number never becomes a bool", "Pass True or False.")
    if target == "str" and kind in ("bool", "int", "float", "complex"):
        return Refused(v, target, f"{_a(kind)} never becomes a str", "Quote the value.")
    return Refused(v, target, f"expected {_a(target)}, got {_a(kind)}")


def _bool(v: Any) -> Any:
    if v is True or v is False:
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    raise _never(v, "bool")


def _int(v: Any) -> Any:
    if type(v) is int:
        return v
    if isinstance(v, (bool, np.bool_)):
        raise _never(v, "int")
    if isinstance(v, int):  # int subclasses (IntEnum members) stay as they are
        return v
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f == f and f not in (float("inf"), float("-inf")) and f.is_integer():
            fix = f"Write {int(f)} instead of {v!r}, or annotate the input as float."
        else:
            fix = "Round it yourself (round(x)) if you mean to, or annotate the input as float."
        raise Refused(v, "int", "a float never becomes an int", fix)
    raise _never(v, "int")


def _float(v: Any) -> Any:
    if type(v) is float:
        return v
    if isinstance(v, (bool, np.bool_)):
        raise _never(v, "float")
    if isinstance(v, float):  # numpy float64 and other float subclasses stay as they are
        return v
    if isinstance(v, np.floating):
        f = float(v)
        if f != v and f == f:  # a longdouble with more precision than a float
            raise Refused(v, "float", f"{v!r} has no exact float (it would become {f!r})")
        return f
    if isinstance(v, (int, np.integer)):
        return _exact_float(v, "float")
    raise _never(v, "float")


def _exact_float(v: Any, target: str) -> float:
    try:
        f = float(v)
    except OverflowError:
        raise Refused(v, target, f"{v} is too large for a float") from None
    if int(f) != int(v):
        raise Refused(
            v,
            target,
            f"the int {v} has no exact float (it would become {f!r})",
            "Pass a float, or annotate the input as int.",
        )
    return f


def _complex(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        raise _never(v, "complex")
    if isinstance(v, (complex, float, np.complexfloating, np.floating)):
        c = complex(v)
        if c != v and c == c:
            raise Refused(v, "complex", f"{v!r} has no exact complex (it would become {c!r})")
        return c
    if isinstance(v, (int, np.integer)):
        return complex(_exact_float(v, "complex"))
    raise _never(v, "complex")


def _str(v: Any) -> Any:
    if type(v) is str:
        return v
    if isinstance(v, str):  # a str Enum member becomes its value, as pydantic does
        return v.value if isinstance(v, enum.Enum) else v
    raise _never(v, "str")


def _none(v: Any) -> Any:
    if v is None:
        return None
    raise Refused(v, "None", "only None fits")


def _identity(v: Any) -> Any:
    return v


#: Scalar annotations and their validators (also used for Literal and Enum values).
SCALARS: dict[type, Validator] = {
    bool: _bool,
    int: _int,
    float: _float,
    complex: _complex,
    str: _str,
    type(None): _none,
}


# ---------------------------------------------------------------------------
# Compiling an annotation


def _compile(ann: Any, leaf: LeafFactory) -> Validator:
    if ann is Any or ann is object:
        return _identity
    if ann is None:
        return _none
    scalar = SCALARS.get(ann) if isinstance(ann, type) else None
    if scalar is not None:
        return scalar if ann is not complex else _complex_or_encoded(leaf(complex))
    supertype = getattr(ann, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return _compile(supertype, leaf)
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Union or origin is types.UnionType:
        return _union(ann, [(a, _compile(a, leaf)) for a in args])
    if origin is typing.Literal:
        return _literal(ann, args)
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return _enum(ann)
    if isinstance(ann, type) and issubclass(ann, _ArrayType):
        return _array(ann, leaf(_array_base()))
    base = origin or ann
    if base in _SEQUENCE_KINDS:
        return _sequence_of(ann, base, args, leaf)
    if base in _MAPPING_KINDS:
        key_ann, value_ann = (*args, Any, Any)[:2] if args else (Any, Any)
        return _mapping(ann, _compile(key_ann, leaf), _compile(value_ann, leaf))
    return leaf(ann)


def _array_base() -> Any:
    from scityping.numpy import Array

    return Array


_SEQUENCE_KINDS = {
    list: "list",
    tuple: "tuple",
    set: "set",
    frozenset: "frozenset",
    abc.Sequence: "same",
}
_MAPPING_KINDS = {dict, abc.Mapping, abc.MutableMapping}


def _sequence_of(ann: Any, base: Any, args: tuple[Any, ...], leaf: LeafFactory) -> Validator:
    kind = _SEQUENCE_KINDS[base]
    if base is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        return _fixed_tuple(ann, [_compile(a, leaf) for a in args])
    elem = _compile(args[0], leaf) if args else _identity
    return _sequence(ann, kind, elem)


def _sequence(ann: Any, kind: str, elem: Validator) -> Validator:
    unordered = kind in ("set", "frozenset")
    accepted: tuple[type, ...] = (list, tuple, set, frozenset) if unordered else (list, tuple)
    expected = type_name(ann)

    def validate(v: Any) -> Any:
        if not isinstance(v, accepted):
            raise _not_a_sequence(v, expected)
        out = []
        for i, x in enumerate(v):
            try:
                out.append(elem(x))
            except Refused as r:
                raise r.at(f"[{i}]") from None
        if kind == "list":
            return out
        if kind == "tuple":
            return tuple(out)
        if kind == "set":
            return set(out)
        if kind == "frozenset":
            return frozenset(out)
        return tuple(out) if isinstance(v, tuple) else out

    return validate


def _not_a_sequence(v: Any, expected: str) -> Refused:
    if isinstance(v, (set, frozenset)):
        return Refused(
            v, expected, "a set has no order", "Pass a list, e.g. sorted(values), or a tuple."
        )
    if isinstance(v, (str, bytes)):
        return Refused(v, expected, f"a {type(v).__name__} is not a list of items here")
    return Refused(v, expected, f"expected a list or tuple, got a {_kind(v)}")


def _fixed_tuple(ann: Any, elems: list[Validator]) -> Validator:
    expected = type_name(ann)

    def validate(v: Any) -> Any:
        if not isinstance(v, (list, tuple)):
            raise _not_a_sequence(v, expected)
        if len(v) != len(elems):
            raise Refused(v, expected, f"it has {len(v)} items, the type expects {len(elems)}")
        out = []
        for i, (x, elem) in enumerate(zip(v, elems)):
            try:
                out.append(elem(x))
            except Refused as r:
                raise r.at(f"[{i}]") from None
        return tuple(out)

    return validate


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false")


def _mapping(ann: Any, key: Validator, value: Validator) -> Validator:
    expected = type_name(ann)

    def validate(v: Any) -> Any:
        if not isinstance(v, Mapping):
            raise Refused(v, expected, f"expected a dict, got a {_kind(v)}")
        out = {}
        for k, x in v.items():
            try:
                kk = key(k)
            except Refused as r:
                kk = _json_key(k, key, r)
            try:
                out[kk] = value(x)
            except Refused as r:
                raise r.at(f"[{k!r}]") from None
        return out

    return validate


def _json_key(k: Any, key: Validator, refused: Refused) -> Any:
    """A JSON object key spelling a number exactly as smttask writes it ("1", "0.5", "true")."""
    if type(k) is str and JSON_KEYS.get() and _JSON_NUMBER.fullmatch(k):
        parsed = json.loads(k)
        if json.dumps(parsed) == k:
            try:
                return key(parsed)
            except Refused:
                pass
    raise refused.at(f"[key {k!r}]") from None


def _union(ann: Any, members: list[tuple[Any, Validator]]) -> Validator:
    """Members are tried as pydantic's smart union does: the exact type, then a type the value
    is an instance of (or a container of that kind), then left to right; the first member
    that accepts the value *without changing it* wins."""
    expected = type_name(ann)
    plain = [(a, v) for a, v in members if isinstance(a, type) and not typing.get_args(a)]

    def validate(v: Any) -> Any:
        t = type(v)
        tried: list[tuple[Any, Validator]] = []
        for a, check in plain:
            if t is a:
                tried.append((a, check))
        for a, check in members:
            base = typing.get_origin(a) or a
            if isinstance(base, type) and _isinstance(v, base):
                tried.append((a, check))
        tried.extend(members)
        reasons: dict[str, str] = {}
        seen: set[int] = set()
        for a, check in tried:
            if id(check) in seen:
                continue
            seen.add(id(check))
            try:
                return check(v)
            except Refused as r:
                where = "".join(r.path)
                reasons[type_name(a)] = f"{where + ': ' if where else ''}{r.reason}"
        detail = "; ".join(f"{name}: {why}" for name, why in reasons.items())
        raise Refused(v, expected, f"it fits no member of the union ({detail})")

    return validate


def _isinstance(v: Any, base: type) -> bool:
    try:
        return isinstance(v, base)
    except TypeError:
        return False


def _literal(ann: Any, choices: tuple[Any, ...]) -> Validator:
    expected = type_name(ann)

    def validate(v: Any) -> Any:
        for choice in choices:
            if _same_value(v, choice):
                return choice
        raise Refused(v, expected, f"it is none of {', '.join(map(repr, choices))}")

    return validate


def _same_value(v: Any, choice: Any) -> bool:
    """Whether `v` is `choice`, under the scalar rules (1 is not True, nor 1.0 is 1)."""
    if isinstance(choice, enum.Enum):
        try:
            return _enum(type(choice))(v) is choice
        except Refused:
            return False
    check = SCALARS.get(type(choice))
    if check is None:
        return type(v) is type(choice) and bool(v == choice)
    try:
        return bool(check(v) == choice)
    except Refused:
        return False


@functools.lru_cache(maxsize=256)
def _enum(cls: type[enum.Enum]) -> Validator:
    members = list(cls)
    expected = cls.__qualname__

    def validate(v: Any) -> Any:
        if isinstance(v, cls):
            return v
        for m in members:
            check = SCALARS.get(type(m.value))
            try:
                if check is not None and check(v) == m.value:
                    return m
            except Refused:
                continue
            if check is None and type(v) is type(m.value) and v == m.value:
                return m
        values = ", ".join(repr(m.value) for m in members)
        raise Refused(v, expected, f"it is not the value of a member ({values})")

    return validate


def _complex_or_encoded(encoded: Validator) -> Validator:
    def validate(v: Any) -> Any:
        if isinstance(v, (list, tuple)):  # scityping's JSON form of a complex number
            return encoded(v)
        return _complex(v)

    return validate


# ---------------------------------------------------------------------------
# Arrays (scityping.numpy.Array, Array[T], Array[T, n])


def _array(ann: Any, decode: Validator) -> Validator:
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
        elif isinstance(v, (list, tuple, bool, int, float, complex, str, np.generic)):
            arr = _from_values(v, nptype, expected)
        else:
            raise Refused(v, expected, f"expected an array or a list of numbers, got {_kind(v)}")
        if ndim is not None and arr.ndim != ndim:
            raise Refused(v, expected, f"it has {arr.ndim} dimensions, the type expects {ndim}")
        if nptype is None or np.issubdtype(arr.dtype, nptype):
            return arr
        return _cast(arr, nptype, expected)

    return validate


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
    return "U" if isinstance(x, str) else _LEAF_KIND.get(_kind(x), "?")


def _from_values(v: Any, nptype: Any, expected: str) -> np.ndarray:
    """An array from (nested) lists of numbers, if every value converts exactly."""
    leaves = _leaves(v, expected)
    kinds = {_leaf_kind(x) for x in leaves}
    if "?" in kinds:
        bad = next(x for x in leaves if _leaf_kind(x) == "?")
        raise Refused(v, expected, f"{short(bad)} ({_kind(bad)}) cannot be an array value")
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


def short(value: Any, limit: int = 60) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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

