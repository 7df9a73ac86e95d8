"""Is a folder on a network file system? (``statfs``'s ``f_type``, Linux.)

SQLite's WAL journal needs shared memory between the processes writing one database, which
network file systems do not give; and their locking is often unreliable. Such a store is
opened without WAL, and smttask warns once, recommending PostgreSQL.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable
from pathlib import Path

#: ``f_type`` magic numbers (``linux/magic.h`` and the file systems' own sources).
NETWORK_FILESYSTEMS: dict[int, str] = {
    0x6969: "NFS",
    0x0BD00BD0: "Lustre",
    0x19830326: "BeeGFS",
    0x47504653: "GPFS (IBM Spectrum Scale)",
    0xFF534D42: "CIFS/SMB",
    0xFE534D42: "SMB2/SMB3",
    0x517B: "SMB",
    0x00C36400: "CephFS",
    0x5346414F: "AFS",
    0x6B414653: "AFS (kAFS)",
    0xAAD7AAEA: "PanFS",
    0x01021997: "9P",
    0x65735546: "FUSE (sshfs, GlusterFS, s3fs...)",
}


class _Statfs(ctypes.Structure):
    # Only f_type is read: the first field, a C long on every Linux architecture. The buffer
    # is larger than any platform's struct statfs.
    _fields_ = [("f_type", ctypes.c_long), ("_rest", ctypes.c_byte * 256)]


def _load_statfs() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True).statfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Statfs)]
    fn.restype = ctypes.c_int
    return fn


_STATFS = _load_statfs()


def filesystem_type(path: Path) -> int | None:
    """The ``f_type`` of the file system holding `path` (its nearest existing folder), or
    None where ``statfs`` is not available."""
    if _STATFS is None:
        return None
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    buf = _Statfs()
    if _STATFS(os.fsencode(path), ctypes.byref(buf)) != 0:
        return None
    return int(buf.f_type) & 0xFFFFFFFF


def network_filesystem(
    path: Path, fstype: Callable[[Path], int | None] = filesystem_type
) -> str | None:
    """The name of the network file system holding `path`, or None for a local one."""
    found = fstype(path)
    return None if found is None else NETWORK_FILESYSTEMS.get(found)
