"""Validation and JSON serialization of task inputs and outputs (pydantic v1 + scityping).

Values travel through three forms:
- *raw*: whatever the user passed (``np.array([1, 2])``, ``0.5``, a ``Path``...);
- *validated*: the raw value checked against the annotation under the strict rules
  (``smttask.validators``: a value validation would change is refused, never coerced), with
  pydantic and scityping for the types those rules leave to them (decoded in the closed world
  of ``smttask.decoding``);
- *encoded*: a JSON-compatible structure (``encode``), which ``validate`` turns back into the
  validated form. Arrays and other scientific types use scityping's tagged encoding. JSON read
  from files goes through ``parse_json`` (``smttask.jsonparse``: bounded).

Values that contain lazy objects (upstream tasks) are validated *around* them: containers are
walked along the annotation and every leaf that is not lazy is validated on its own.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import enum
import functools
import json
import math
import sys
import threading
import types
import typing
from collections import abc
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from . import decoding, netcdf, strict, validators
from .datatypes import load_support, serializer_for
from .errors import SerializationError, TaskInputError, UnsafeContentError, short_repr
from .jsonparse import MAX_VALUE_DEPTH, check_depth, parse_json

if TYPE_CHECKING:
    import numpy as np
    import pydantic
    from pydantic.fields import ModelField

# pydantic, scityping and numpy are imported when a value or an annotation first needs them
# (a value cannot be an array, a model or a scityping type unless its module is imported):
# importing smttask, and validating plain values, stays light.

__all__ = [
    "MAX_VALUE_DEPTH",
    "annotation_compatible",
    "check_depth",
    "dumps",
    "encode",
    "field_model",
    "from_json",
    "parse_json",
    "validate",
    "validate_around",
]


class _ModelConfig:
    arbitrary_types_allowed = True
    smart_union = True
    copy_on_model_validation = "none"


def field_model(name: str, annotations: Mapping[str, Any]) -> type[pydantic.BaseModel]:
    """A pydantic model with one required field per entry of `annotations`."""
    return _create(name, {key: (ann, ...) for key, ann in annotations.items()})


class _ComplexValue:
    """Validator for `complex` annotations: any number, or scityping's JSON form."""

    @classmethod
    def __get_validators__(cls) -> Any:
        yield cls.validate

    @classmethod
    def validate(cls, value: Any) -> complex:
        from scityping.base_types import Complex

        np = sys.modules.get("numpy")
        number = (int, float, complex) if np is None else (int, float, complex, np.number)
        if isinstance(value, number) and not isinstance(value, bool):
            return complex(value)
        return Complex.validate(value)


@functools.cache
def _aliases() -> dict[Any, Any]:
    """Builtin types whose JSON form is scityping's: validate them with scityping's type."""
    from scityping.base_types import Range, Slice

    return {complex: _ComplexValue, range: Range, slice: Slice}


def pydantic_annotation(annotation: Any) -> Any:
    """`annotation` with builtins that need scityping (complex, range, slice) replaced, and
    plain library classes scityping serializes (``np.random.Generator``, ``xr.DataArray``,
    SciPy's frozen distributions...) validated by their serializer."""
    aliases = _aliases()
    if annotation in aliases:
        return aliases[annotation]
    plain = _plain_class(annotation)
    if plain is not None:
        return plain
    args = typing.get_args(annotation)
    if args and hasattr(annotation, "copy_with"):
        new = tuple(pydantic_annotation(a) for a in args)
        if new != args:
            return annotation.copy_with(new)
    return annotation


def _plain_class(annotation: Any) -> type | None:
    """A validator class for a plain class with a scityping serializer (None if it is not one).

    An instance of the class is kept as it is (scityping would copy it, or make an xarray
    object an instance of its own subclass); anything else is decoded by the serializer and
    must give an instance of the class. scityping's own xarray types stand for xarray's.
    """
    if not isinstance(annotation, type) or annotation.__module__ == "builtins":
        return None
    if annotation.__module__ == "scityping.xarray":
        import xarray as xr

        base = getattr(xr, annotation.__name__, None)
        if isinstance(base, type) and issubclass(annotation, base):
            return _plain_validator(base, typing.cast(Any, annotation))
    serializer = serializer_for(annotation)
    return None if serializer is None else _plain_validator(annotation, serializer)


def _seed_sequence(s: Any) -> Any:
    import numpy as np

    return np.random.SeedSequence(
        s.entropy,
        spawn_key=s.spawn_key,
        pool_size=s.pool_size,
        n_children_spawned=s.n_children_spawned,
    )


@functools.cache
def _to_plain() -> dict[type, Callable[[Any], Any]]:
    """Plain copies of what scityping decodes as its own subclass of a plain class."""
    import numpy as np

    return {np.random.SeedSequence: _seed_sequence}


@functools.lru_cache(maxsize=256)
def _plain_validator(cls: type, serializer: Any) -> type:
    def validate(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        result = serializer.validate(value)
        to_plain = _to_plain()
        if type(result) is serializer and cls in to_plain:
            result = to_plain[cls](result)
        if not isinstance(result, cls):
            raise TypeError(
                f"expected a {cls.__qualname__} (or its encoded form), got a "
                f"{type(value).__qualname__}"
            )
        return result

    def get_validators(_: type) -> Any:
        yield validate

    namespace: dict[str, Any] = {
        "__get_validators__": classmethod(get_validators),
        "__doc__": cls.__doc__,
    }
    return type(cls.__qualname__, (), namespace)


def _create(name: str, fields: dict[str, Any]) -> type[pydantic.BaseModel]:
    annotations = {k: pydantic_annotation(a) for k, (a, _) in fields.items()}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    namespace["Config"] = _ModelConfig
    model: Any = _scityping_model()
    return type(model)(name, (model,), namespace)


@functools.cache
def _scityping_model() -> type[pydantic.BaseModel]:
    """scityping's pydantic base model. Its metaclass asks the package metadata for
    pydantic's version at every new class (~2 ms the first time, a listing of ``sys.path``),
    and its module imports ``importlib.metadata`` for that (15-30 ms): `_package_version`
    answers the same from pydantic's own ``VERSION``, without either."""
    module = _import_scityping_pydantic()
    module.version = _package_version
    model: type[pydantic.BaseModel] = module.BaseModel
    return model


def _package_version(name: str) -> str:
    """``importlib.metadata.version(name)``; pydantic's from ``pydantic.VERSION`` (the same
    text, read from the package rather than from its metadata files)."""
    if name == "pydantic":
        import pydantic

        return str(pydantic.VERSION)
    from importlib.metadata import version

    return version(name)


_scityping_lock = threading.Lock()


def _import_scityping_pydantic() -> Any:
    """``scityping.pydantic``, imported without importing ``importlib.metadata`` when nothing
    has yet. The one name it takes from there, ``version``, is bound to `_package_version`
    (which imports the real module when asked about another package than pydantic). Only
    that import statement is answered differently, through the module's own
    ``__builtins__`` (a copy of the builtins whose ``__import__`` is put back once the
    module has run): no other module, and no other thread, ever sees a stand-in."""
    import builtins
    import importlib.util

    with _scityping_lock:
        loaded = sys.modules.get("scityping.pydantic")
        if loaded is not None:
            return loaded
        spec = importlib.util.find_spec("scityping.pydantic")
        if "importlib.metadata" in sys.modules or spec is None or spec.loader is None:
            import scityping.pydantic

            return scityping.pydantic
        real_import = builtins.__import__
        stand_in = types.SimpleNamespace(version=_package_version)

        def answer(
            name: str,
            globals: Any = None,
            locals: Any = None,
            fromlist: Any = (),
            level: int = 0,
        ) -> Any:
            if name == "importlib.metadata" and not level and tuple(fromlist or ()) == ("version",):
                return stand_in
            return real_import(name, globals, locals, fromlist, level)

        module = importlib.util.module_from_spec(spec)
        namespace = {**vars(builtins), "__import__": answer}
        module.__builtins__ = namespace  # type: ignore[attr-defined]
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(spec.name, None)
            raise
        finally:
            namespace["__import__"] = real_import
        import scityping

        scityping.pydantic = module
        return module


@functools.lru_cache(maxsize=1024)
def _leaf_field(annotation: Any) -> tuple[ModelField, type[pydantic.BaseModel]]:
    model = _create("Value", {"value": (annotation, ...)})
    return model.__fields__["value"], model


def _format_errors(errors: Any, model: type[pydantic.BaseModel]) -> str:
    from pydantic.error_wrappers import flatten_errors

    lines = []
    for err in flatten_errors([errors], model.__config__):
        loc = ".".join(str(p) for p in err["loc"] if p != "value")
        lines.append(f"{loc + ': ' if loc else ''}{err['msg']}")
    return "; ".join(lines)


def _leaf(annotation: Any) -> strict.Validator:
    """The pydantic (and scityping) validator of `annotation`, for the types the strict rules
    leave to them; scityping resolves names strictly meanwhile (``decoding.resolving``)."""
    try:
        field, model = _leaf_field(annotation)
    except TypeError:  # unhashable annotation (rare): build an uncached field
        model = _create("Value", {"value": (annotation, ...)})
        field = model.__fields__["value"]
    expected = type_name(annotation)

    def check(value: Any) -> Any:
        with decoding.resolving(annotation):
            result, errors = field.validate(value, {}, loc=field.name, cls=model)
        if errors:
            raise strict.Refused(value, expected, _format_errors(errors, model))
        return result

    return check


def validate(annotation: Any, value: Any, *, what: str = "value", json_source: bool = False) -> Any:
    """Validate `value` against `annotation` under the strict rules (``smttask.strict``):
    a value that validation would change is refused with a TaskInputError naming `what`.
    With `json_source`, `value` was decoded from JSON (see ``from_json``)."""
    if type(value) is annotation and annotation in EXACT_TYPES:
        return value
    if json_source:
        with from_json():
            return validate(annotation, value, what=what)
    try:
        return validators.validator(annotation, _leaf)(value)
    except strict.Refused as r:
        raise TaskInputError(_refusal(r, what, annotation)) from None
    except UnsafeContentError as exc:
        raise UnsafeContentError(f"{what}: {exc}") from None


def prepare(annotation: Any) -> None:
    """Build (and cache) the validator of `annotation` now, with the modules it needs, so that
    validating a first value later imports nothing."""
    validators.validator(annotation, _leaf)


def _refusal(r: strict.Refused, what: str, annotation: Any) -> str:
    declared = type_name(annotation)
    where = f" ({r.expected} expected there)" if r.path and r.expected != declared else ""
    fix = r.fix or "Pass a value of that type, or change the annotation."
    reason = " ".join(str(r.reason).split()).rstrip(".")  # a validator's report on one line
    if len(reason) > 400:  # keep both ends: what was received, and why it does not fit
        reason = reason[:200] + " … " + reason[-200:]
    return (
        f"{what}{''.join(r.path)} = {short_repr(r.value)} does not fit the declared type "
        f"{declared}{where}: {reason}. {fix}"
    )


#: Types whose exact instances are valid as they are (no validator call needed).
EXACT_TYPES = frozenset({float, int, str, bool})

type_name = strict.type_name


class from_json:
    """Validate values decoded from JSON: object keys spelling numbers ("1") fit number keys."""

    __slots__ = ("token",)

    def __enter__(self) -> None:
        self.token = validators.JSON_KEYS.set(True)

    def __exit__(self, *exc: Any) -> None:
        validators.JSON_KEYS.reset(self.token)


# ---------------------------------------------------------------------------
# Validation around lazy values (tasks nested in containers)


def validate_around(
    annotation: Any,
    value: Any,
    is_lazy: Callable[[Any], bool],
    *,
    what: str,
    check_lazy: Callable[[Any, Any, str], None] | None = None,
) -> Any:
    """Validate the parts of `value` that are not lazy, keeping lazy objects in place.

    Containers (list, tuple, set, dict) holding lazy objects are walked along `annotation`;
    every other leaf is validated against the matching element type, and every lazy leaf is
    passed to ``check_lazy(annotation, leaf, what)``. The result has the same shape as `value`,
    with validated leaves.
    """
    if is_lazy(value):
        if check_lazy is not None:
            check_lazy(annotation, value, what)
        return value
    if not contains(value, is_lazy):
        return validate(annotation, value, what=what)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union:
        # Pick the first member whose container kind matches the value.
        for member in args:
            if _kind_matches(member, value):
                return validate_around(member, value, is_lazy, what=what, check_lazy=check_lazy)
        return validate_around(Any, value, is_lazy, what=what, check_lazy=check_lazy)
    if isinstance(value, Mapping):
        ktype, vtype = (*args, Any, Any)[:2] if origin in _MAPPINGS else (Any, Any)
        return {
            validate(ktype, k, what=f"{what}[key {k!r}]"): validate_around(
                vtype, v, is_lazy, what=f"{what}[{k!r}]", check_lazy=check_lazy
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(items):
                raise TaskInputError(
                    f"{what} = {short_repr(value)} has {len(items)} items, but the declared "
                    f"type {type_name(annotation)} expects {len(args)}."
                )
            elem_types = list(args)
        else:
            elem_types = [args[0] if args and origin in _SEQUENCES else Any] * len(items)
        out = [
            validate_around(t, v, is_lazy, what=f"{what}[{i}]", check_lazy=check_lazy)
            for i, (t, v) in enumerate(zip(elem_types, items))
        ]
        if isinstance(value, tuple) or origin is tuple:
            return tuple(out)
        if isinstance(value, (set, frozenset)):
            return frozenset(out) if isinstance(value, frozenset) else _LazySet(out)
        return out
    return validate(annotation, value, what=what)


class _LazySet(list[Any]):
    """A set whose members include tasks (hashing a task would compute its digest now): kept
    as a list, but digested and encoded as a set (order-free)."""

    __smttask_unordered__ = True


_MAPPINGS = {dict, abc.Mapping, abc.MutableMapping}
_SEQUENCES = {list, set, frozenset, tuple, abc.Sequence, abc.Iterable, abc.Collection, abc.Set}


def _kind_matches(member: Any, value: Any) -> bool:
    origin = typing.get_origin(member) or member
    if not isinstance(origin, type):
        return False
    try:
        return isinstance(value, origin)
    except TypeError:
        return False


def contains(value: Any, pred: Callable[[Any], bool]) -> bool:
    """True if `value` or anything nested in its lists, tuples, sets or dicts satisfies `pred`."""
    if pred(value):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(contains(v, pred) for v in value)
    # (a Mapping has ``values``: asked first, no array waits for the ABC's first check)
    if isinstance(value, dict) or (hasattr(type(value), "values") and isinstance(value, Mapping)):
        return any(contains(v, pred) for v in value.values())
    return False


def substitute(value: Any, pred: Callable[[Any], bool], fn: Callable[[Any], Any]) -> Any:
    """Copy of `value` with every nested item satisfying `pred` replaced by ``fn(item)``."""
    if pred(value):
        return fn(value)
    if isinstance(value, _LazySet):
        return {substitute(v, pred, fn) for v in value}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = (substitute(v, pred, fn) for v in value)
        make = getattr(type(value), "_make", None)  # named tuples (and TaskOutput) take values so
        return make(items) if isinstance(value, tuple) and make else type(value)(items)
    if isinstance(value, Mapping):
        return {k: substitute(v, pred, fn) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------
# Type compatibility of an upstream task's output with a downstream input

_COERCIBLE = {(int, float), (int, complex), (float, complex)}


def annotation_compatible(produced: Any, expected: Any) -> bool | None:
    """Whether values of type `produced` fit an input annotated `expected`.

    True: certainly; False: certainly not; None: cannot tell statically (checked at run time).
    ``Annotated`` metadata (such as that of variable outputs) does not count.
    """
    produced, expected = _unannotated(produced), _unannotated(expected)
    if expected is Any or expected is object or produced == expected:
        return True
    if produced is Any:
        return None
    e_origin, p_origin = typing.get_origin(expected), typing.get_origin(produced)
    if e_origin is typing.Union:
        answers = [annotation_compatible(produced, m) for m in typing.get_args(expected)]
        return True if True in answers else (None if None in answers else False)
    if e_origin is not None or p_origin is not None:
        e_base, p_base = e_origin or expected, p_origin or produced
        if (
            isinstance(e_base, type)
            and isinstance(p_base, type)
            and not (issubclass(p_base, e_base) or _sequence_like(p_base, e_base))
        ):
            return False
        return None  # parameterised generics: element types are checked at run time
    if isinstance(expected, type) and isinstance(produced, type):
        if issubclass(produced, expected) or (produced, expected) in _COERCIBLE:
            return True
        if _numpy_like(produced) or _numpy_like(expected):
            return None
        serializable = _serializable_type()
        if issubclass(expected, serializable) or issubclass(produced, serializable):
            return None
        return False
    return None


def _unannotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _sequence_like(produced: type, expected: type) -> bool:
    seqs = (list, tuple, set, frozenset)
    return issubclass(produced, seqs) and issubclass(expected, seqs)


def _numpy_like(t: type) -> bool:
    np = sys.modules.get("numpy")
    if np is not None and issubclass(t, (np.ndarray, np.generic)):
        return True
    return "numpy" in getattr(t, "__module__", "")


def _serializable_type() -> type | tuple[()]:
    """scityping's ``ABCSerializable`` if scityping is imported (else nothing is one)."""
    base = sys.modules.get("scityping.base")
    return getattr(base, "ABCSerializable", ()) if base is not None else ()


# ---------------------------------------------------------------------------
# Encoding to JSON-compatible structures


@functools.cache
def _no_item() -> tuple[type, ...]:
    """numpy scalars whose ``item()`` is no exact Python value (records; extended precision
    floats would become doubles): they count as 0-d arrays."""
    import numpy as np

    return (np.void, np.longdouble, np.clongdouble)


def encode(value: Any, hook: Callable[[Any], Any] | None = None, *, sort_keys: bool = False) -> Any:
    """JSON-compatible structure for `value`. `hook(v)` may return a replacement or None.

    An Enum member encodes as its value (validation against the Enum turns it back into the
    member). With `sort_keys`, every mapping's keys come out sorted, except an OrderedDict's,
    whose order is part of its value; a hook's replacement is kept as the hook returns it.
    """
    if hook is not None:
        replaced = hook(value)
        if replaced is not None:
            return replaced
    if type(value) in _JSON_SCALARS:
        return value
    if isinstance(value, enum.Enum):  # before str and int: (str, Enum) and IntEnum are both
        return encode(value.value, hook, sort_keys=sort_keys)
    if isinstance(value, (bool, int, str)):
        return _plain(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (set, frozenset)) or getattr(value, "__smttask_unordered__", False):
        items = [encode(v, hook, sort_keys=sort_keys) for v in value]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [encode(v, hook, sort_keys=sort_keys) for v in value]
    if isinstance(value, types.FunctionType) and _by_name(value):
        return f"{value.__module__}.{value.__qualname__}"  # (in scityping's PureFunction)
    functions = sys.modules.get("scityping.functions")  # no PureFunction exists without it
    if functions is not None and isinstance(value, functions.PureFunction):
        from scityping.base import Serializable  # its fields encoded here: functions by name

        key, data = Serializable.reduce(value)
        fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
        return encode([key, fields], hook, sort_keys=sort_keys)
    if netcdf.is_xarray(value):  # before Mapping: a Dataset is one
        return encode(netcdf.scityping_form(value), hook, sort_keys=sort_keys)
    if isinstance(value, Mapping):
        out = {_encode_key(k): encode(v, hook, sort_keys=sort_keys) for k, v in value.items()}
        return dict(sorted(out.items())) if sort_keys and not _ordered(value) else out
    np = sys.modules.get("numpy")  # no value is a numpy one unless numpy was imported
    if np is not None:
        if isinstance(value, np.generic):
            item = None if isinstance(value, _no_item()) else value.item()
            if isinstance(item, (bool, int, float, complex, str, bytes)):
                return encode(item, hook, sort_keys=sort_keys)
            value = np.asarray(value)  # no exact Python value (datetime64...): a 0-d array
        if isinstance(value, np.ndarray) and not value.dtype.hasobject and not _listable(value):
            return encode(_compressed_array(value), hook, sort_keys=sort_keys)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, bytes):  # scityping's compressed array data is base85 ASCII
        return _encode_bytes(value)
    pydantic = sys.modules.get("pydantic")
    if (
        pydantic is not None
        and isinstance(value, pydantic.BaseModel)
        and not isinstance(value, _serializable_type())
    ):
        fields = {k: encode(v, hook, sort_keys=sort_keys) for k, v in value}
        return dict(sorted(fields.items())) if sort_keys else fields
    from scityping.json import scityping_encoder

    load_support(type(value))
    try:
        reduced = scityping_encoder(value, base_encoder=_no_encoder)
    except Exception as exc:
        raise SerializationError(
            f"Cannot serialize a value of type {type(value).__module__}.{type(value).__qualname__}"
            f" ({short_repr(value)}): {exc or type(exc).__name__}. Use a type that pydantic or "
            f"scityping can serialize (numbers, strings, lists, dicts, numpy arrays, ...), or make "
            f"the type serializable by subclassing scityping.Serializable."
        ) from None
    return encode(reduced, hook, sort_keys=sort_keys)


_JSON_SCALARS = frozenset({type(None), bool, int, float, str})


def _by_name(fn: types.FunctionType) -> bool:
    """Whether `fn` is found by its name in its module (then it is stored by name, which
    smttask decodes, instead of the source code scityping writes, which it never runs)."""
    module = sys.modules.get(fn.__module__)
    return (
        module is not None
        and fn.__module__ != "__main__"
        and vars(module).get(fn.__qualname__) is fn
    )


def _listable(arr: np.ndarray) -> bool:
    """Whether scityping's list form holds `arr` exactly (its values as JSON numbers or
    strings, its dtype by name); other arrays are stored as compressed ``.npy`` bytes."""
    dtype = arr.dtype
    if not dtype.isnative or dtype.names is not None:
        return False
    if dtype.kind in "if" and dtype.itemsize <= 8:
        return True
    return arr.ndim > 0 and dtype.kind in "buU"


def _compressed_array(arr: np.ndarray) -> tuple[str, Any]:
    """scityping's compressed form of `arr` (reduced to plain values), zlib-compressed:
    every installation reads it (blosc is optional)."""
    from scityping.numpy import CompressedArrayData

    data = CompressedArrayData.encode(arr, compression="zlib")
    fields = {f: getattr(data, f) for f in ("encoding", "compression", "summary", "data")}
    return _ARRAY_KEY, {"data": (_COMPRESSED_KEY, (CompressedArrayData, fields))}


_ARRAY_KEY = "scityping.numpy._ArrayType"
_COMPRESSED_KEY = "scityping.numpy.CompressedArrayData"


def _encode_bytes(value: bytes) -> Any:
    """UTF-8 bytes as their text (as before); other bytes base85-encoded, tagged."""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return [strict.BYTES_KEY, {"b85": base64.b85encode(value).decode()}]


def _plain(value: Any) -> Any:  # other subclasses of bool/int/str (Enum members are above)
    for t in (bool, int, str):
        if isinstance(value, t):
            return t(value)
    return value


def _ordered(mapping: Mapping[Any, Any]) -> bool:
    """Whether the order of `mapping` is part of its value (OrderedDict equality compares it)."""
    return isinstance(mapping, collections.OrderedDict)


def _no_encoder(value: Any) -> Any:
    raise TypeError("no JSON encoding is known for this type")


def _encode_key(key: Any) -> str:
    if isinstance(key, enum.Enum):  # before str and int, as in encode
        return str(key.value)
    if isinstance(key, str):
        return key
    if isinstance(key, (bool, int, float)) and math.isfinite(float(key)):
        return json.dumps(key)
    raise SerializationError(
        f"Dictionary key {short_repr(key)} of type {type(key).__qualname__} cannot be a JSON "
        f"object key. Use strings or numbers as keys."
    )


def dumps(
    value: Any, *, indent: int | None = None, hook: Callable[[Any], Any] | None = None
) -> str:
    """JSON text for `value`, with sorted keys: equal values give the same text.

    Only an OrderedDict keeps its own order (see ``encode``).
    """
    return json.dumps(encode(value, hook, sort_keys=True), indent=indent)
