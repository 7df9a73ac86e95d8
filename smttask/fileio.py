"""Crash-safe file writing.

A file appears under its final name only once it is complete: data goes to a hidden temporary
file in the same folder, which is then renamed (or hard-linked, to never replace an existing
file). A process killed at any point leaves at worst a hidden ``.*.tmp-*`` file, which no
reader ever opens.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

_UMASK: int | None = None


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
        return _link_exclusive(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _link_exclusive(tmp: Path, path: Path) -> bool:
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError as exc:  # filesystems without hard links
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
    if path.exists():
        return False
    os.rename(tmp, path)
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
