"""Strict validators compiled from annotations: the rules of ``smttask.strict`` and
``smttask.strictarrays`` applied along an annotation.

``validator(annotation, leaf)`` returns a function that gives the validated value or raises
``Refused``. Containers (``List``, ``Tuple``, ``Set``, ``FrozenSet``, ``Sequence``, ``Dict``,
``Mapping``, bare ``list``/``dict``/...) apply the rules to every element, ``Optional``/``Union``
pick the member that takes the value unchanged, ``Literal`` and ``Enum`` compare under the
scalar rules. Any other annotation is a *leaf*: ``leaf(annotation)`` validates it (pydantic and
scityping, see ``smttask.serialization``).
"""

from __future__ import annotations

import contextvars
import enum
import functools
import json
import re
import sys
import types
import typing
from collections import abc
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .strict import (
    SCALARS,
    Refused,
    Validator,
    bytes_validator,
    enum_validator,
    kind_of,
    same_value,
    type_name,
)

if TYPE_CHECKING:
    import pydantic

__all__ = ["JSON_KEYS", "validator"]

LeafFactory = Callable[[Any], Validator]

#: True while validating values decoded from JSON, whose object keys are strings: a key
#: annotated as a number (or an Enum of numbers) then accepts its exact JSON spelling ("1").
JSON_KEYS: contextvars.ContextVar[bool] = contextvars.ContextVar("smttask_json_keys", default=False)


def validator(annotation: Any, leaf: LeafFactory) -> Validator:
    """The strict validator of `annotation` (cached); `leaf` validates the other types."""
    try:
        return _cached(annotation, leaf)
    except TypeError:  # unhashable annotation (rare)
        return _compile(annotation, leaf)


@functools.lru_cache(maxsize=2048)
def _cached(annotation: Any, leaf: LeafFactory) -> Validator:
    return _compile(annotation, leaf)


def _identity(v: Any) -> Any:
    return v


def _compile(ann: Any, leaf: LeafFactory) -> Validator:
    if ann is Any or ann is object:
        return _identity
    if ann is None:
        return SCALARS[type(None)]
    scalar = SCALARS.get(ann) if isinstance(ann, type) else None
    if scalar is not None:
        return scalar if ann is not complex else _complex_or_encoded(_lazy(leaf, complex))
    supertype = getattr(ann, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return _compile(supertype, leaf)
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:  # metadata (e.g. smttask's separate outputs) is no rule
        return _compile(args[0], leaf)
    if ann is bytes:
        return bytes_validator(_lazy(leaf, bytes))
    if _numpy_type(ann):  # np.ndarray or a numpy scalar type
        from scityping.numpy import Array

        from .strictarrays import array_validator, is_scalar_type, scalar_validator

        if ann is sys.modules["numpy"].ndarray:
            return array_validator(Array, _lazy(leaf, Array))
        if is_scalar_type(ann):
            return scalar_validator(ann, _lazy(leaf, Array))
    if origin is typing.Union or origin is types.UnionType:
        return _union(ann, [(a, _compile(a, leaf)) for a in args])
    if origin is typing.Literal:
        return _literal(ann, args)
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return enum_validator(ann)
    if isinstance(ann, type) and _is_array_type(ann):
        from scityping.numpy import Array

        from .strictarrays import array_validator

        return array_validator(ann, _lazy(leaf, Array))
    if _plain_model(ann):
        return _model(ann, leaf)
    base = origin or ann
    if base in _SEQUENCE_KINDS:
        return _sequence_of(ann, base, args, leaf)
    if base in _MAPPING_KINDS:
        key_ann, value_ann = (*args, Any, Any)[:2] if args else (Any, Any)
        return _mapping(ann, _compile(key_ann, leaf), _compile(value_ann, leaf))
    return leaf(ann)


def _numpy_type(ann: Any) -> bool:
    """Whether `ann` is a numpy class (none is unless numpy was imported)."""
    np = sys.modules.get("numpy")
    return np is not None and isinstance(ann, type) and issubclass(ann, (np.ndarray, np.generic))


def _is_array_type(ann: type) -> bool:
    """Whether `ann` is scityping's ``Array`` (or ``Array[...]``); none is unless scityping's
    numpy module was imported, which is then not imported here."""
    snp = sys.modules.get("scityping.numpy")
    return snp is not None and issubclass(ann, snp._ArrayType)


def _plain_model(ann: Any) -> bool:
    """Whether `ann` is a pydantic model that is no scityping type (no class is a pydantic
    model unless pydantic was imported)."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(ann, type) or not issubclass(ann, pydantic.BaseModel):
        return False
    base = sys.modules.get("scityping.base")
    return base is None or not issubclass(ann, base.ABCSerializable)


def _model(ann: type[pydantic.BaseModel], leaf: LeafFactory) -> Validator:
    """A pydantic model (encoded as the dict of its fields): each field validated by the
    strict rules (pydantic alone would make 3.5 or "3" an int 3), an unknown field refused
    (unless the model allows extra fields), then the model built from the exact values."""
    hints = typing.get_type_hints(ann)
    fields = {f.alias: validator(hints.get(name, Any), leaf) for name, f in ann.__fields__.items()}
    import pydantic

    extra = ann.__config__.extra == pydantic.Extra.allow
    build = _lazy(leaf, ann)
    expected = type_name(ann)

    def validate(v: Any) -> Any:
        if isinstance(v, ann):
            return v
        if not isinstance(v, Mapping):
            raise Refused(v, expected, f"expected the dict of its fields, got a {kind_of(v)}")
        out = {}
        for k, x in v.items():
            field = fields.get(k)
            if field is None:
                if extra:
                    out[k] = x
                    continue
                raise Refused(
                    v, expected, f"{k!r} is none of its fields ({', '.join(map(repr, fields))})"
                )
            try:
                out[k] = field(x)
            except Refused as r:
                raise r.at(f".{k}") from None
        return build(out)

    return validate


def _lazy(leaf: LeafFactory, ann: Any) -> Validator:
    """``leaf(ann)``, built when first needed (a pydantic model costs a millisecond or two,
    and only encoded values need one)."""
    built: list[Validator] = []

    def validate(v: Any) -> Any:
        if not built:
            built.append(leaf(ann))
        return built[0](v)

    return validate


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
        items = typing.cast("abc.Iterable[Any]", v)
        out: list[Any] = []
        for i, x in enumerate(items):
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
    return Refused(v, expected, f"expected a list or tuple, got a {kind_of(v)}")


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


_JSON_NUMBER = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false"  # compiled on first use


def _mapping(ann: Any, key: Validator, value: Validator) -> Validator:
    expected = type_name(ann)

    def validate(v: Any) -> Any:
        if not isinstance(v, Mapping):
            raise Refused(v, expected, f"expected a dict, got a {kind_of(v)}")
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
    if type(k) is str and JSON_KEYS.get() and re.fullmatch(_JSON_NUMBER, k):
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
            if same_value(v, choice):
                return choice
        raise Refused(v, expected, f"it is none of {', '.join(map(repr, choices))}")

    return validate


def _complex_or_encoded(encoded: Validator) -> Validator:
    def validate(v: Any) -> Any:
        if isinstance(v, (list, tuple)):  # scityping's JSON form of a complex number
            return encoded(v)
        return SCALARS[complex](v)

    return validate
