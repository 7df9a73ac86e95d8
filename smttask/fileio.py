"""Crash-safe file writing.

A file appears under its final name only once it is complete: data goes to a hidden temporary
file in the same folder, which is then moved to the final name. A process killed at any point
leaves at worst a hidden ``.*.tmp-*`` file, which no reader ever opens.

Publishing never replaces a file (``move_new``), even when several processes publish the
same name at the same moment: exactly one of them wins. It uses the first of these that the
file system supports:

1. a hard link (``link``; the temporary is then removed): POSIX, exclusive everywhere;
2. ``renameat2(RENAME_NOREPLACE)`` (Linux ≥ 3.15, glibc ≥ 2.28; FAT, exFAT and CIFS support
   it but not hard links);
3. an exclusively created empty placeholder under the final name (``O_CREAT | O_EXCL``),
   then a rename over it. Exactly one process wins here too; but a process killed between
   the two steps leaves the empty placeholder. Stored results are never empty, so the
   output store reports such a file as an interrupted write instead of loading it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

_UMASK: int | None = None

#: errno values meaning "this file system does not do that" (as opposed to a real failure).
_UNSUPPORTED = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})
_NO_RENAMEAT2 = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP})
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _load_renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without it (glibc < 2.28, some musl)
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _load_renameat2()


def _file_mode() -> int:
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0)
        os.umask(_UMASK)
    return 0o666 & ~_UMASK


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def _write_temp(path: Path, data: bytes, fsync: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _file_mode())
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def write_atomic(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write `data` to `path`, replacing it atomically if it exists."""
    tmp = _write_temp(path, data, fsync)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def publish_new(path: Path, data: bytes, *, fsync: bool = True) -> bool:
    """Create `path` with `data` unless it exists. Return True if this call created it.

    Never replaces an existing file, even when another process publishes the same path at the
    same moment: exactly one of them wins, and the file is always complete.
    """
    tmp = _write_temp(path, data, fsync)
    try:
        return move_new(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def move_new(src: Path, dst: Path) -> bool:
    """Move the file `src` to `dst` unless `dst` exists; return True if it moved.

    Never replaces `dst`: of several processes moving files to one name at the same moment,
    exactly one succeeds. On False, `src` is left where it was.
    """
    try:
        os.link(src, dst)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise
    else:
        os.unlink(src)
        return True
    moved = _rename_noreplace(src, dst)
    if moved is not None:
        return moved
    return _rename_onto_placeholder(src, dst)


def _rename_noreplace(src: Path, dst: Path) -> bool | None:
    """Rename with RENAME_NOREPLACE; None if neither the C library nor the file system has it."""
    if _RENAMEAT2 is None:
        return None
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE):
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            return False
        if code in _NO_RENAMEAT2:
            return None
        raise OSError(code, os.strerror(code), str(src), None, str(dst))
    return True


def _rename_onto_placeholder(src: Path, dst: Path) -> bool:
    try:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _file_mode())
    except FileExistsError:
        return False
    os.close(fd)
    try:
        os.replace(src, dst)
    except BaseException:
        os.unlink(dst)  # our own empty placeholder
        raise
    return True


def replace_symlink(link: Path, target: Path) -> None:
    """Point `link` at `target` (relative), atomically replacing any existing link."""
    link.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(target, link.parent)
    tmp = _temp_path(link)
    os.symlink(relative, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
