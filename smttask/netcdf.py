"""xarray objects as netCDF-4 bytes (HDF5 through ``h5netcdf``), exactly or not at all.

``to_bytes`` writes a ``DataArray`` or ``Dataset`` and reads it back at once: if anything
differs (values, dtypes, coordinates, attributes and their types, names), it raises
``SerializationError`` saying what, instead of storing a value that would load as another one.
``from_bytes`` reads such bytes and runs no code from them: the HDF5 file is checked first for
what would reach outside it (external links, external or virtual datasets), which is refused.

xarray, h5netcdf and h5py are imported on first use (the ``xarray`` extra installs them).
"""

from __future__ import annotations

import io
import sys
from typing import Any

from .errors import SerializationError, UnsafeContentError, short_repr

__all__ = ["HDF5_MAGIC", "difference", "from_bytes", "is_xarray", "to_bytes"]

#: The first bytes of every HDF5 (netCDF-4) file.
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: The first bytes of a netCDF-3 file (scityping's own in-memory encoding writes these).
NETCDF3_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")

_FIX = (
    "Store it differently (e.g. its .values as an array, attributes as str, numbers or "
    "arrays), or return a type that holds it exactly."
)


def is_xarray(value: Any) -> bool:
    """Whether `value` is an xarray ``DataArray`` or ``Dataset`` (without importing xarray)."""
    xr = sys.modules.get("xarray")
    return xr is not None and isinstance(value, (xr.DataArray, xr.Dataset))


def kind(value: Any) -> str:
    """ "DataArray" or "Dataset"."""
    import xarray as xr

    return "DataArray" if isinstance(value, xr.DataArray) else "Dataset"


def to_bytes(value: Any) -> bytes:
    """netCDF-4 bytes holding `value` exactly; SerializationError if netCDF cannot."""
    what = f"{kind(value)} {short_repr(value, 60)}"
    marked = _mark_time_units(value)
    data = None
    errors = []
    for invalid_netcdf in (
        False,
        True,
    ):  # True: HDF5 that only h5netcdf reads (complex, bool attrs)
        try:
            data = bytes(marked.to_netcdf(engine="h5netcdf", invalid_netcdf=invalid_netcdf))
            break
        except ImportError as exc:
            raise SerializationError(
                f"Cannot store the {what} as netCDF: {exc}. Install the xarray extra "
                f"(pip install 'smttask[xarray]')."
            ) from None
        except Exception as exc:  # xarray and h5netcdf raise several kinds for what they refuse
            errors.append(str(exc))
    if data is None:
        raise SerializationError(f"netCDF cannot hold the {what}: {errors[-1]} {_FIX}")
    back = from_bytes(data, kind(value))
    problem = difference(value, back)
    if problem:
        raise SerializationError(
            f"netCDF cannot hold the {what} exactly: read back, {problem}. {_FIX}"
        )
    return data


def from_bytes(data: bytes, kind: str) -> Any:
    """The ``DataArray`` or ``Dataset`` (`kind`) in netCDF-4 bytes `data`.

    Raises ValueError if `data` is not such a file, UnsafeContentError if it reaches outside
    itself."""
    import xarray as xr

    if data[:8] == HDF5_MAGIC:
        _check_self_contained(data)
        engine = "h5netcdf"
    elif data[:4] in NETCDF3_MAGIC:  # a flat file format: nothing in it names another file
        engine = "scipy"
    else:
        raise ValueError("the data are not a netCDF file")
    load = xr.load_dataarray if kind == "DataArray" else xr.load_dataset
    try:
        value = load(io.BytesIO(data), engine=engine)
    except (OSError, KeyError, TypeError) as exc:
        raise ValueError(f"the netCDF data cannot be read ({exc})") from None
    return _restore(value)


def scityping_form(value: Any) -> tuple[str, Any]:
    """scityping's encoding of `value` (its "inline" form, reduced to plain values), holding
    netCDF-4 bytes instead of the netCDF-3 scityping writes (which changes int64 into int32)."""
    import base64
    import zlib

    from scityping import xarray as sxr

    k = kind(value)
    inline = sxr.InlineDataArrayData if k == "DataArray" else sxr.InlineDatasetData
    data = base64.b85encode(zlib.compress(to_bytes(value)))
    fields = {"encoding": "b85", "compression": "zlib", "summary": "", "data": data}
    return f"scityping.xarray.{k}", {
        "data": (f"scityping.xarray.{inline.__name__}", (inline, fields))
    }


#: Attribute recording the dtype of a datetime or timedelta variable (netCDF stores times as
#: numbers with units, and xarray reads them back in nanoseconds).
_TIME_DTYPE = "smttask_dtype"


def _variables(value: Any) -> list[Any]:
    import xarray as xr

    if isinstance(value, xr.DataArray):
        return [value.variable, *(c.variable for c in value.coords.values())]
    return list(value.variables.values())


def _mark_time_units(value: Any) -> Any:
    """A shallow copy of `value` whose datetime/timedelta variables carry their dtype."""
    copy = value.copy(deep=False)
    for var in _variables(copy):
        if var.dtype.kind in "Mm":
            var.attrs = {**var.attrs, _TIME_DTYPE: var.dtype.str}
    return copy


def _restore(value: Any) -> Any:
    """Undo what storing changes: time units, numpy scalars in attributes."""
    import numpy as np
    import xarray as xr

    def plain(attrs: dict[Any, Any]) -> dict[Any, Any]:
        return {
            k: v.item() if isinstance(v, np.generic) and v.dtype.kind in "biufcU" else v
            for k, v in attrs.items()
        }

    value.attrs = plain(value.attrs)
    dtypes: dict[int, np.dtype[Any]] = {}
    for var in _variables(value):
        attrs = plain(var.attrs)
        dtype = attrs.pop(_TIME_DTYPE, None)
        var.attrs = attrs
        if isinstance(dtype, str) and dtype[1:2] in ("M", "m") and var.dtype.kind == dtype[1]:
            dtypes[id(var)] = np.dtype(dtype)
    if not dtypes:
        return value
    if isinstance(value, xr.DataArray):
        coords = {
            k: c.variable.astype(dtypes.get(id(c.variable), c.dtype))
            for k, c in value.coords.items()
        }
        data = value.variable.astype(dtypes.get(id(value.variable), value.dtype))
        return xr.DataArray(data, coords=coords, name=value.name, attrs=value.attrs)
    return value.assign(
        {k: v.astype(dtypes[id(v)]) for k, v in value.variables.items() if id(v) in dtypes}
    )


def _check_self_contained(data: bytes) -> None:
    import h5py

    refusals: list[str] = []

    def check_link(name: str, link: Any) -> None:
        if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
            refusals.append(f"its entry {name!r} is a link ({type(link).__name__})")

    def check_object(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and (obj.is_virtual or obj.external):
            refusals.append(f"its dataset {name!r} reads data from other files")

    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            f.visititems_links(check_link)
            if not refusals:
                f.visititems(check_object)
    except OSError as exc:
        raise ValueError(f"the HDF5 data cannot be read ({exc})") from None
    if refusals:
        raise UnsafeContentError(
            f"the netCDF data are not self-contained: {refusals[0]}, and smttask reads "
            f"nothing a result names outside it."
        )


def difference(a: Any, b: Any) -> str | None:
    """What differs between xarray objects `a` and `b` (None if they are the same value:
    identical, with the same dtypes and the same types of attributes and names)."""
    import xarray as xr

    for cls in (xr.DataArray, xr.Dataset):
        if isinstance(a, cls) != isinstance(b, cls):
            return f"it is a {type(b).__name__}, not a {type(a).__name__}"
    if isinstance(a, xr.DataArray):
        if type(a.name) is not type(b.name):
            return f"its name {b.name!r} is a {type(b.name).__name__}"
        a, b = (
            a.to_dataset(name="value", promote_attrs=True),
            b.to_dataset(name="value", promote_attrs=True),
        )
    if not a.identical(b):
        return "its values, coordinates or attributes differ"
    found = _attr_types(a.attrs, b.attrs, "")
    if found:
        return found
    for name, var in a.variables.items():
        other = b.variables[name]
        if var.dtype != other.dtype:
            return f"variable {name!r} has dtype {other.dtype}, not {var.dtype}"
        found = _attr_types(var.attrs, other.attrs, f" of {name!r}")
        if found:
            return found
    return None


def _attr_types(a: dict[Any, Any], b: dict[Any, Any], where: str) -> str | None:
    import numpy as np

    for key, value in a.items():
        other = b.get(key)
        if isinstance(value, np.generic) and value.dtype.kind in "biufcU":
            value = value.item()  # numpy scalars count as the Python value they hold
        same = type(value) is type(other) and (
            not isinstance(value, np.ndarray) or value.dtype == getattr(other, "dtype", None)
        )
        if not same:
            return (
                f"attribute {key!r}{where} is {short_repr(other, 40)} "
                f"({type(other).__name__}), not {short_repr(value, 40)} ({type(value).__name__})"
            )
    return None
