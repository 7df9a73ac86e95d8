"""The closed decoding world: what a task file, a record or a result file can make smttask build.

Decoding a value calls scityping, which resolves names found in the data: type references
(``scityping.base_types.Type``: a module and a dotted name), the class a dataclass payload is
built from, NumPy bit generators, SciPy distributions, functions. Outside smttask, scityping
keeps its own rules (users may use it directly). Inside ``resolving(annotation)``, which
``serialization`` enters around every call into pydantic and scityping, each of those look-ups
is replaced by a strict one:

- a type reference resolves only to a scityping data class (a registered ``Serializable`` or
  its ``Data``) or to a type reachable from `annotation`, looked up in a table: nothing is
  imported, no module attribute is read, and nothing in ``__main__`` or ``builtins`` matches;
- a dataclass payload is built only from such a class, and only if it is a dataclass;
- a bit generator name must name a NumPy ``BitGenerator`` class, a distribution name a SciPy
  distribution; generic types are not built at all;
- functions are never built from source code, and by name only from the project's modules
  and trusted packages (``smttask.trust``); composite functions use arithmetic operators only;
- the fields of scityping's data classes follow smttask's strict rules (``smttask.strict``):
  a range whose ``start`` is 1.5 is refused, not truncated;
- xarray objects are read only from the netCDF bytes inside the data (``smttask.netcdf``:
  a netCDF-4 file that links to other files is refused), never from an "annex" file the
  data name.

A refusal raises ``UnsafeContentError``. scityping sometimes catches every exception and keeps
the raw data instead; a refusal is therefore also recorded, and re-raised when the outermost
``resolving`` block ends.
"""

from __future__ import annotations

import contextvars
import dataclasses
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from . import strict, trust
from .datatypes import FORBIDDEN_MODULES, data_classes, reachable_types
from .errors import UnsafeContentError

__all__ = ["resolving"]


class _Frame:
    __slots__ = ("_reachable", "annotation", "refusals")

    def __init__(self, annotation: Any, refusals: list[str]) -> None:
        self.annotation = annotation
        self.refusals = refusals
        self._reachable: dict[tuple[str, str], type] | None = None

    def reachable(self) -> dict[tuple[str, str], type]:
        if self._reachable is None:
            self._reachable = reachable_types(self.annotation)
        return self._reachable

    def refuse(self, message: str) -> UnsafeContentError:
        self.refusals.append(message)
        return UnsafeContentError(message)


_FRAME: contextvars.ContextVar[_Frame | None] = contextvars.ContextVar(
    "smttask_decoding", default=None
)


class resolving:
    """Decode with strict name resolution while inside; `annotation` is what is decoded."""

    __slots__ = ("annotation", "frame", "token")

    def __init__(self, annotation: Any) -> None:
        self.annotation = annotation

    def __enter__(self) -> None:
        if not _patched["core"]:
            _patch()
        if not _patched["scipy"] and "scityping.scipy" in sys.modules:
            _patch()
        if not _patched["xarray"] and "scityping.xarray" in sys.modules:
            _patch()
        outer = _FRAME.get()
        self.frame = _Frame(self.annotation, outer.refusals if outer is not None else [])
        self.token = _FRAME.set(self.frame)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        _FRAME.reset(self.token)
        refusals = self.frame.refusals
        if refusals and _FRAME.get() is None and not isinstance(exc, UnsafeContentError):
            raise UnsafeContentError(refusals[0])


# ---------------------------------------------------------------------------
# What a type reference may resolve to (tables: ``smttask.datatypes``)


def resolve_type(frame: _Frame, module: Any, name: Any) -> type:
    if isinstance(module, str) and isinstance(name, str):
        key = (module, name)
        if module not in FORBIDDEN_MODULES and "__builtins__" not in name.split("."):
            found = data_classes().get(key) or frame.reachable().get(key)
            if found is not None:
                return found
    raise frame.refuse(
        f"it names the type {name!r} of module {module!r}, which is neither a scityping data "
        f"type nor a type of its annotation {strict.type_name(frame.annotation)}, and smttask "
        f"builds no other type from a file: regenerate the file with task.save() from code "
        f"you trust."
    )


# ---------------------------------------------------------------------------
# The strict replacements of scityping's look-ups

_patched = {"core": False, "scipy": False, "xarray": False}

_ARITHMETIC = frozenset(
    {"abs", "neg", "pos", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"}
)


def _strict(original: Callable[..., Any], replacement: Callable[..., Any]) -> Callable[..., Any]:
    """`replacement(frame, *args)` inside ``resolving``, `original(*args)` outside it."""

    def dispatch(*args: Any, **kwargs: Any) -> Any:
        frame = _FRAME.get()
        if frame is None:
            return original(*args, **kwargs)
        return replacement(frame, *args, **kwargs)

    dispatch.__wrapped__ = original  # type: ignore[attr-defined]
    dispatch.__doc__ = original.__doc__
    return dispatch


def _type_decode(frame: _Frame, data: Any) -> type:
    return resolve_type(frame, data.module, data.name)


def _generic_decode(frame: _Frame, data: Any) -> Any:
    raise frame.refuse(
        f"it holds a generic type ({getattr(data.baseT, '__qualname__', data.baseT)}[...]), "
        f"which smttask does not build from a file."
    )


def _dataclass_decode(original: Callable[[Any], Any]) -> Callable[..., Any]:
    def decode(frame: _Frame, data: Any) -> Any:
        cls = data.type
        allowed = isinstance(cls, type) and (
            data_classes().get((cls.__module__, cls.__qualname__)) is cls
            or frame.reachable().get((cls.__module__, cls.__qualname__)) is cls
        )
        if not (allowed and dataclasses.is_dataclass(cls)):
            raise frame.refuse(
                f"it asks to build {strict.short(cls)} from a dataclass payload, but only the "
                f"dataclasses of scityping and of its annotation "
                f"{strict.type_name(frame.annotation)} are built from a file."
            )
        return original(data)

    return decode


def _rng_decode(original: Callable[[Any], Any]) -> Callable[..., Any]:
    import numpy as np

    def decode(frame: _Frame, data: Any) -> Any:
        name = data.bit_generator
        found = vars(np.random).get(name) if isinstance(name, str) else None
        if not (isinstance(found, type) and issubclass(found, np.random.BitGenerator)):
            known = sorted(
                k
                for k, v in vars(np.random).items()
                if isinstance(v, type) and issubclass(v, np.random.BitGenerator) and v.__name__ == k
            )
            raise frame.refuse(
                f"it names {strict.short(name)} as the bit generator of a random generator, "
                f"which is not one (NumPy's are {', '.join(known)})."
            )
        return original(data)

    return decode


def _function_decode(frame: _Frame, s: Any, *args: Any, **kwargs: Any) -> Any:
    if not isinstance(s, str) or any(c.isspace() for c in s) or "." not in s:
        raise frame.refuse(
            "it holds a function as source code, and smttask never runs code from a file: "
            "refer to a function of the project by name instead."
        )
    module_name, name = s.rsplit(".", 1)
    module = sys.modules.get(module_name)
    found = vars(module).get(name) if module is not None else None
    if (
        not isinstance(found, types.FunctionType)
        or found.__module__ != module_name
        or not trust.module_allowed(module_name)
    ):
        raise frame.refuse(
            f"it names the function {s!r}, which is not a function defined in an imported "
            f"module of the project or of a trusted package; if you trust that module's "
            f"package, add it to the trusted packages (SMTTASK_TRUSTED_PACKAGES)."
        )
    return found


def _composite_decode(original: Callable[[Any], Any]) -> Callable[..., Any]:
    def decode(frame: _Frame, data: Any) -> Any:
        if data.opname not in _ARITHMETIC:
            raise frame.refuse(
                f"it names the operator {strict.short(data.opname)}, which is not one of the "
                f"arithmetic operators ({', '.join(sorted(_ARITHMETIC))})."
            )
        return original(data)

    return decode


def _strict_fields(original: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    from scityping.typing import StrictBool, StrictFloat, StrictInt, StrictStr

    def strict_float(v: Any) -> Any:
        if isinstance(v, float):
            return v
        raise strict.Refused(v, "float", f"expected a float, got a {type(v).__qualname__}")

    checks: dict[Any, Callable[[Any], Any]] = {
        **strict.SCALARS,
        StrictInt: strict.SCALARS[int],
        StrictFloat: strict_float,
        StrictBool: strict.SCALARS[bool],
        StrictStr: strict.SCALARS[str],
    }
    del checks[type(None)]

    def validate_field(frame: _Frame, val: Any, T: Any) -> Any:
        check = checks.get(T) if isinstance(T, type) else None
        if check is None:
            return original(val, T)
        try:
            return check(val)
        except strict.Refused as r:
            raise TypeError(f"{strict.short(val)}: {r.reason}") from None

    return validate_field


def _patch_core() -> None:
    from scityping import base, base_types, functions
    from scityping import numpy as snp

    Type, GenericType = base_types.Type, base_types.GenericType
    Type.Data.decode = staticmethod(_strict(Type.Data.decode, _type_decode))
    GenericType.Data.decode = staticmethod(_strict(GenericType.Data.decode, _generic_decode))
    original = base.Dataclass.Data.decode
    base.Dataclass.Data.decode = staticmethod(_strict(original, _dataclass_decode(original)))
    original = snp.RNGenerator.Data.decode
    snp.RNGenerator.Data.decode = staticmethod(_strict(original, _rng_decode(original)))
    functions.deserialize_function = _strict(functions.deserialize_function, _function_decode)
    composite = functions.CompositePureFunction.Data
    composite.decode = staticmethod(_strict(composite.decode, _composite_decode(composite.decode)))
    original_field = base.validate_dataclass_field
    base.validate_dataclass_field = _strict(original_field, _strict_fields(original_field))
    _patched["core"] = True


def _patch_scipy() -> None:
    from scipy import stats
    from scityping import scipy as sscipy

    kinds = (stats._distn_infrastructure.rv_generic, stats._multivariate.multi_rv_generic)
    original = sscipy.Distribution.get_dist

    def get_dist(frame: _Frame, name: Any) -> Any:
        for module in sscipy.stat_modules:
            found = vars(module).get(name) if isinstance(name, str) else None
            if isinstance(found, kinds):
                return found
        raise frame.refuse(
            f"it names {strict.short(name)} as a SciPy distribution, which is not one of the "
            f"distributions in {', '.join(m.__name__ for m in sscipy.stat_modules)}."
        )

    sscipy.Distribution.get_dist = staticmethod(_strict(original, get_dist))
    _patched["scipy"] = True


def _patch_xarray() -> None:
    from scityping import xarray as sxr
    from scityping.numpy import decoders, decompressors

    from . import netcdf

    def inline_decode(frame: _Frame, cls: Any, data: Any) -> Any:
        decoded = decompressors[data.compression](decoders[data.encoding](data.data))
        try:
            return netcdf.from_bytes(decoded, cls.clsname)
        except UnsafeContentError as exc:
            raise frame.refuse(str(exc)) from None

    def annex_decode(frame: _Frame, cls: Any, data: Any) -> Any:
        raise frame.refuse(
            f"it names an annex file ({strict.short(getattr(data, 'digest', None))}) to read "
            f"an xarray {cls.clsname} from, and smttask reads no file a value names: "
            f"regenerate the file with task.save(), which keeps the data inside it."
        )

    for inline in (sxr.InlineDataArrayData, sxr.InlineDatasetData):
        inline.decode = classmethod(_strict(inline.decode.__func__, inline_decode))
    for annex in (sxr.AnnexDataArrayData, sxr.AnnexDatasetData):
        annex.decode = classmethod(_strict(annex.decode.__func__, annex_decode))
    _patched["xarray"] = True


_patching = threading.Lock()


def _patch() -> None:
    """Install the strict look-ups: scityping's on first use, SciPy's and xarray's once
    scityping supports them. Outside ``resolving`` they call scityping's own, so installing
    them late changes nothing before, and importing smttask does not import scityping."""
    with _patching:
        if not _patched["core"]:
            _patch_core()
        if not _patched["scipy"] and "scityping.scipy" in sys.modules:
            _patch_scipy()
        if not _patched["xarray"] and "scityping.xarray" in sys.modules:
            _patch_xarray()
