"""The strict rules for single values: a value that validation would change is refused.

bool, int, float, complex and str never turn into one another, except the exact widenings
int → float → complex (an int only if its float is exact); numpy scalars count as the Python
number they hold. ``Literal`` choices and ``Enum`` values compare under the same rules (``True``
is not ``1``, ``1.0`` is not ``1``). The whole table, with containers and arrays, is in
``docs/inputs.md``; ``smttask.validators`` applies the rules along an annotation.

For an accepted value the result is what pydantic gives (``2.0`` for an int given to
``float``, a numpy float64 kept as it is, a str Enum member as its value): the digests of
inputs that were valid before do not change.
"""

from __future__ import annotations

import enum
import functools
import sys
import typing
from collections.abc import Callable
from typing import Any

__all__ = [
    "BYTES_KEY",
    "SCALARS",
    "Refused",
    "bytes_validator",
    "enum_validator",
    "kind_of",
    "same_value",
    "short",
    "type_name",
]

Validator = Callable[[Any], Any]


class _NoInstances:
    """Stands for numpy's scalar types while numpy is not imported (no value is one then)."""


_WITHOUT_NUMPY = (_NoInstances, _NoInstances, _NoInstances, _NoInstances)
_numpy_types: tuple[Any, Any, Any, Any] | None = None


def _numpy_scalars() -> tuple[Any, Any, Any, Any]:
    """numpy's (bool_, integer, floating, complexfloating), once numpy is imported."""
    global _numpy_types
    if _numpy_types is None:
        np = sys.modules.get("numpy")
        if np is None:
            return _WITHOUT_NUMPY
        _numpy_types = (np.bool_, np.integer, np.floating, np.complexfloating)
    return _numpy_types


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


def short(value: Any, limit: int = 60) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind_of(v: Any) -> str:
    NB, NI, NF, NC = _numpy_scalars()
    if isinstance(v, (bool, NB)):
        return "bool"
    if isinstance(v, (int, NI)):
        return "int"
    if isinstance(v, (float, NF)):
        return "float"
    if isinstance(v, (complex, NC)):
        return "complex"
    return type(v).__qualname__


_NUMBER_FIX = "Pass a number (without quotes), or annotate the input as str."


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _never(v: Any, target: str) -> Refused:
    kind = kind_of(v)
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
    NB, _NI, _NF, _NC = _numpy_scalars()
    if v is True or v is False:
        return v
    if isinstance(v, NB):
        return bool(v)
    raise _never(v, "bool")


def _int(v: Any) -> Any:
    NB, NI, NF, _NC = _numpy_scalars()
    if type(v) is int:
        return v
    if isinstance(v, (bool, NB)):
        raise _never(v, "int")
    if isinstance(v, int):  # int subclasses (IntEnum members) stay as they are
        return v
    if isinstance(v, NI):
        return int(v)
    if isinstance(v, (float, NF)):
        f = float(v)
        if f == f and f not in (float("inf"), float("-inf")) and f.is_integer():
            fix = f"Write {int(f)} instead of {v!r}, or annotate the input as float."
        else:
            fix = "Round it yourself (round(x)) if you mean to, or annotate the input as float."
        raise Refused(v, "int", "a float never becomes an int", fix)
    raise _never(v, "int")


def _float(v: Any) -> Any:
    NB, NI, NF, _NC = _numpy_scalars()
    if type(v) is float:
        return v
    if isinstance(v, (bool, NB)):
        raise _never(v, "float")
    if isinstance(v, float):  # numpy float64 and other float subclasses stay as they are
        return v
    if isinstance(v, NF):
        f = float(v)
        if f != v and f == f:  # a longdouble with more precision than a float
            raise Refused(v, "float", f"{v!r} has no exact float (it would become {f!r})")
        return f
    if isinstance(v, (int, NI)):
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
    NB, NI, NF, NC = _numpy_scalars()
    if isinstance(v, (bool, NB)):
        raise _never(v, "complex")
    if isinstance(v, (complex, float, NC, NF)):
        c = complex(v)
        if c != v and c == c:
            raise Refused(v, "complex", f"{v!r} has no exact complex (it would become {c!r})")
        return c
    if isinstance(v, (int, NI)):
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


#: The JSON form of bytes that are not UTF-8 text: ``[BYTES_KEY, {"b85": <base85 text>}]``
#: (UTF-8 bytes are written as their text).
BYTES_KEY = "smttask.bytes"


def bytes_validator(text: Validator) -> Validator:
    """bytes as they are, in their JSON form, or from text as `text` (pydantic) converts it."""
    import base64

    def validate(v: Any) -> Any:
        if type(v) is bytes:
            return v
        if isinstance(v, list) and len(v) == 2 and v[0] == BYTES_KEY:
            data = v[1].get("b85") if isinstance(v[1], dict) else None
            try:
                return base64.b85decode(data) if isinstance(data, str) else _bad_bytes(v)
            except ValueError:
                return _bad_bytes(v)
        return text(v)

    return validate


def _bad_bytes(v: Any) -> Any:
    raise Refused(v, "bytes", 'it is not the JSON form of bytes ([..., {"b85": text}])')


#: Scalar annotations and their validators (also used for Literal and Enum values).
SCALARS: dict[type, Validator] = {
    bool: _bool,
    int: _int,
    float: _float,
    complex: _complex,
    str: _str,
    type(None): _none,
}


def same_value(v: Any, choice: Any) -> bool:
    """Whether `v` is `choice`, under the scalar rules (1 is not True, nor 1.0 is 1)."""
    if isinstance(choice, enum.Enum):
        try:
            return enum_validator(type(choice))(v) is choice
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
def enum_validator(cls: type[enum.Enum]) -> Validator:
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
