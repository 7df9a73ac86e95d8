"""``.nc``: xarray ``DataArray`` and ``Dataset`` outputs as netCDF-4 files (``smttask.netcdf``).

A file is written only if it reads back as the same value (else the output is refused with
what differs), and is read without running anything from it: a file that links to other files
or datasets is refused. Needs the ``xarray`` extra (xarray, h5netcdf, h5py).
"""

from __future__ import annotations

import sys
from typing import Any

from .. import netcdf
from .formats import OutputFormat


def xarray_kind(annotation: Any) -> str | None:
    """ "DataArray" or "Dataset" if `annotation` is one of those classes (or a subclass, such
    as scityping's), else None. Never imports xarray."""
    xr = sys.modules.get("xarray")
    if xr is None or not isinstance(annotation, type):
        return None
    for kind in ("DataArray", "Dataset"):
        if issubclass(annotation, getattr(xr, kind)):
            return kind
    return None


class NetcdfFormat(OutputFormat):
    """netCDF-4 (HDF5) for xarray annotations."""

    name, extension = "netcdf", "nc"

    def stores(self, annotation: Any) -> bool:
        return xarray_kind(annotation) is not None

    def encode(self, value: Any, annotation: Any) -> bytes:
        if not netcdf.is_xarray(value):
            raise ValueError(f"expected an xarray DataArray or Dataset, got {type(value)}")
        return netcdf.to_bytes(value)

    def decode(self, data: bytes, annotation: Any) -> Any:
        return netcdf.from_bytes(data, xarray_kind(annotation) or "Dataset")
