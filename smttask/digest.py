"""Stable digests of task inputs.

A digest depends only on *values*, never on how they were built: keyword order, dict
insertion order and set order do not change it; list and tuple hash alike (JSON has one
sequence type); numpy scalars hash as the Python number they hold. Arrays hash their raw
bytes (xxh3-128, several GB/s) together with dtype and shape, so a million floats cost a
fraction of a millisecond and never go through JSON.

Objects that carry their own identity (tasks) expose ``__smttask_digest__()``; sequences
standing for sets (a set holding tasks is kept as a list) set ``__smttask_unordered__``.
xarray objects hash their variables (dims, data as arrays, attributes), coordinates and name,
order-free where xarray's equality is. Other scityping types hash the canonical JSON of their
scityping encoding, in which arrays of more than 100 values appear as the hash of their bytes
(their compressed form would depend on the compressor installed).

The byte layout below is part of the on-disk format: changing it changes every digest and
invalidates users' caches. ``tests/test_digest.py`` pins expected values.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import math
import struct
import sys
from collections.abc import Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from . import netcdf
from .datatypes import load_support
from .errors import SerializationError, short_repr

if TYPE_CHECKING:
    import numpy as np

# numpy, pydantic and scityping are imported only when a value needs them: a value cannot be
# an array (a pydantic model, a scityping type) unless its module was imported first, so
# ``sys.modules`` tells whether to look. Importing smttask stays light.

#: Hex characters in a digest: 20 hex = 80 bits.
DIGEST_LENGTH = 20

_pack_double = struct.Struct("<d").pack
_pack_len = struct.Struct("<Q").pack


def _blake(*parts: bytes) -> bytes:
    """Hash of a sequence of byte strings; each is length-prefixed so parts never run together."""
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(_pack_len(len(p)))
        h.update(p)
    return h.digest()


@functools.cache
def _no_item() -> tuple[type, ...]:
    """numpy scalars whose ``item()`` is no exact Python value (records; extended precision
    floats would become doubles): they count as 0-d arrays."""
    import numpy as np

    return (np.void, np.longdouble, np.clongdouble)


def hash_value(value: Any) -> bytes:
    """16-byte hash of `value`, stable across processes, machines and Python versions."""
    t = type(value)
    fast = _FAST.get(t)
    if fast is not None:
        return fast(value)
    own = getattr(value, "__smttask_digest__", None)
    if own is not None and callable(own):
        return b"t" + own().encode()
    if isinstance(value, bool):
        return _h_bool(value)
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        return _h_int(value)
    if isinstance(value, float):
        return _h_float(value)
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        return _h_str(value)
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            _FAST.setdefault(np.ndarray, _h_array)  # the next array takes the fast path
            return _h_array(value)
        if isinstance(value, np.generic):
            item = None if isinstance(value, _no_item()) else value.item()
            if isinstance(item, (bool, int, float, complex, str, bytes)):
                return hash_value(item)
            return _blake(b"g", _h_array(np.asarray(value)))  # no exact Python value: datetime64
    if isinstance(value, (set, frozenset)) or getattr(value, "__smttask_unordered__", False):
        return _blake(b"S", *sorted(hash_value(v) for v in value))  # sorted: order-free
    if isinstance(value, (list, tuple)):
        return _h_seq(value)
    if netcdf.is_xarray(value):  # before Mapping: a Dataset is one
        return _h_xarray(value)
    if isinstance(value, Mapping):
        return _h_map(value)
    if isinstance(value, complex):
        return b"c" + _pack_double(value.real) + _pack_double(value.imag)
    if isinstance(value, enum.Enum):
        return _blake(b"e", _qualname(t).encode(), hash_value(value.value))
    if isinstance(value, PurePath):
        return _blake(b"p", value.as_posix().encode())
    if isinstance(value, bytes):
        return _blake(b"y", value)
    serializable = _serializable_type()
    pydantic = sys.modules.get("pydantic")
    if (
        pydantic is not None
        and isinstance(value, pydantic.BaseModel)
        and not isinstance(value, serializable)
    ):
        return _blake(b"m", _qualname(t).encode(), _h_map(dict(value)))
    if dataclasses.is_dataclass(value) and not isinstance(value, (type, serializable)):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _blake(b"D", _qualname(t).encode(), _h_map(fields))
    return _h_serializable(value)


def _serializable_type() -> type | tuple[()]:
    """scityping's ``ABCSerializable`` if scityping is imported (else no value is one)."""
    base = sys.modules.get("scityping.base")
    return getattr(base, "ABCSerializable", ()) if base is not None else ()


def prepare() -> None:
    """Import what hashing arrays needs, if numpy is imported (a task with array inputs is
    being defined): the first digest then imports nothing."""
    if "numpy" in sys.modules:
        import xxhash  # noqa: F401

        _x87()


def _h_none(value: None) -> bytes:
    return b"n"


def _h_bool(value: bool) -> bytes:
    return b"b1" if value else b"b0"


def _h_int(value: int) -> bytes:
    return b"i" + str(int(value)).encode()


def _h_float(value: float) -> bytes:
    if math.isnan(value):
        return b"fnan"
    return b"f" + _pack_double(value)


def _h_str(value: str) -> bytes:
    data = value.encode()
    return b"s" + data if len(data) < 64 else _blake(b"s", data)


def _h_seq(value: list[Any] | tuple[Any, ...]) -> bytes:
    return _blake(b"l", _pack_len(len(value)), *(hash_value(v) for v in value))


def _h_map(value: Mapping[Any, Any]) -> bytes:
    items = sorted(_blake(hash_value(k), hash_value(v)) for k, v in value.items())
    return _blake(b"d", *items)


def _h_array(value: np.ndarray) -> bytes:
    import numpy as np
    import xxhash

    if value.dtype.hasobject:
        return _blake(
            b"O", _pack_len(value.ndim), str(value.shape).encode(), hash_value(value.tolist())
        )
    dtype = value.dtype
    if dtype.names is not None:  # field by field: the padding between fields is no value
        fields = (_h_array(value[name]) for name in dtype.names)
        return _blake(b"r", repr(dtype.descr).encode(), str(value.shape).encode(), *fields)
    data = value if value.flags.c_contiguous else np.ascontiguousarray(value)
    return _blake(
        b"a",
        dtype.str.encode(),
        str(value.shape).encode(),
        xxhash.xxh3_128_digest(_bytes_of(data) if data.size else b""),
    )


@functools.cache
def _x87() -> bool:
    """Whether ``np.longdouble`` is x87 extended precision (on x86): 10 bytes of value in 16,
    the rest is padding whose content is arbitrary."""
    import numpy as np

    return bool(np.finfo(np.longdouble).nmant == 63 and np.dtype(np.longdouble).itemsize > 10)


def _bytes_of(data: np.ndarray) -> Any:
    import numpy as np

    if data.dtype.type in (np.longdouble, np.clongdouble) and _x87():
        native = data.astype(data.dtype.newbyteorder("="), copy=False)
        part = np.dtype(np.longdouble).itemsize
        return np.ascontiguousarray(native.reshape(-1).view(np.uint8).reshape(-1, part)[:, :10])
    try:
        return data.data.cast("B")
    except (TypeError, ValueError):  # dtypes the buffer protocol lacks (datetime64...)
        return data.reshape(-1).view(np.uint8).data


def _h_variable(var: Any) -> bytes:
    import numpy as np

    return _blake(b"v", _h_seq(list(var.dims)), _h_array(np.asarray(var.values)), _h_map(var.attrs))


def _h_variables(variables: Mapping[Any, Any]) -> bytes:
    items = sorted(_blake(hash_value(k), _h_variable(v.variable)) for k, v in variables.items())
    return _blake(b"d", *items)


def _h_xarray(value: Any) -> bytes:
    if netcdf.kind(value) == "DataArray":
        return _blake(
            b"X", hash_value(value.name), _h_variable(value.variable), _h_variables(value.coords)
        )
    return _blake(
        b"XD", _h_variables(value.data_vars), _h_variables(value.coords), _h_map(value.attrs)
    )


def _h_serializable(value: Any) -> bytes:
    """Fallback: hash the canonical JSON of the scityping encoding."""
    from scityping.json import scityping_encoder

    load_support(type(value))
    try:
        reduced = scityping_encoder(value)
        text = json.dumps(reduced, sort_keys=True, default=_nested_encoder)
    except Exception as exc:
        raise SerializationError(
            f"Cannot compute a digest of {short_repr(value)} (type "
            f"{type(value).__module__}.{type(value).__qualname__}): {exc or type(exc).__name__}. "
            f"Task inputs must be serializable: use numbers, strings, containers, numpy arrays or "
            f"scityping types, or subclass scityping.Serializable for your own type."
        ) from None
    return _blake(b"x", text.encode())


def _nested_encoder(value: Any) -> Any:
    from scityping.json import scityping_encoder

    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray) and value.size > _LISTED_ARRAY_SIZE:
        return ["smttask.array-hash", _h_array(value).hex()]
    if np is not None and isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return scityping_encoder(value)


#: Arrays up to this size are listed in scityping's encoding, larger ones compressed.
_LISTED_ARRAY_SIZE = 100


def _qualname(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


_FAST: dict[type, Any] = {
    type(None): _h_none,
    bool: _h_bool,
    int: _h_int,
    float: _h_float,
    str: _h_str,
    list: _h_seq,
    tuple: _h_seq,
    dict: _h_map,
}


def compute_digest(name: str, inputs: Mapping[str, Any], extra: bytes = b"") -> str:
    """Digest of a task: its qualified name, its inputs (by name) and optional extra bytes
    (for tasks: the kind and the code fingerprint or version, ``TaskSpec.digest_extra``).

    Layout v2 (v1 had no code identity: its digests name no result of v2)."""
    parts = [b"smttask-digest-v2", name.encode(), extra]
    for key in sorted(inputs):
        parts.append(key.encode())
        try:
            parts.append(hash_value(inputs[key]))
        except SerializationError as exc:
            raise SerializationError(f"{name}: input {key!r}: {exc}") from None
    payload = b"".join([_pack_len(len(p)) + p for p in parts])
    return hashlib.blake2b(payload, digest_size=DIGEST_LENGTH // 2).hexdigest()
