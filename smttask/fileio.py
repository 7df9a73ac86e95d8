"""Crash-safe file writing.

A file appears under its final name only once it is complete. `publish_new` writes a new file
without a name (``O_TMPFILE``, Linux ≥ 3.11 on ext4, XFS, btrfs, tmpfs) and links it under its
final name once complete (``linkat`` of ``/proc/self/fd/<n>``): no temporary name, no rename,
and a process killed before the link leaves nothing at all (the kernel frees the unnamed file).
Elsewhere (a file system or system without ``O_TMPFILE``, e.g. NFS, or without ``/proc``;
found out once per folder and remembered for the life of the process), and for
`write_atomic` and `replace_symlink`, data goes to a hidden temporary file in the same
folder, which is then moved to the final name; a process killed at any point leaves at worst
a hidden ``.*.tmp-*`` file, which no reader ever opens.

Publishing never replaces a file, even when several processes publish the same name at the
same moment: exactly one of them wins. The link of an unnamed file is exclusive (``linkat``
fails with EEXIST when the name exists, and the loser's unnamed file is freed). A named
temporary (``move_new``) is moved with the first of these that the file system supports:

1. ``renameat2(RENAME_NOREPLACE)`` (Linux ≥ 3.15, glibc ≥ 2.28): one system call, exclusive;
   file systems without it (NFS, for one) answer EINVAL and the next tier is tried;
2. a hard link (``link``; the temporary is then removed): POSIX, exclusive everywhere;
3. an exclusively created empty placeholder under the final name (``O_CREAT | O_EXCL``),
   then a rename over it. Exactly one process wins here too; but a process killed between
   the two steps leaves the empty placeholder. Stored results are never empty, so the
   output store reports such a file as an interrupted write instead of loading it.

Folders are created when a write finds its folder missing (not looked up before every write).

Durability (surviving a power cut or a crash of the machine, not only of the process) comes
one of two ways. ``fsync=True`` flushes each file before it is published. ``batch=True``
(results, with the default settings) publishes at once and leaves the flush to the next
*sync point*, `sync()`: one ``syncfs`` per file system written to, instead of one ``fsync``
per file. Until then a killed process loses nothing (the kernel holds the data); a machine
that stops may lose the file, or leave it empty (an empty result is never loaded), but never
cut short: only a file of at most `PAGE_SIZE` bytes is batched, and file systems that order
data before metadata (ext4's default ``data=ordered``, XFS, btrfs) write a page whole or not
at all; a larger file is fsynced before it is published, as with ``fsync=True``.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import functools
import itertools
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import FileWriteError

_UMASK: int | None = None

#: errno values meaning "this file system does not do that" (as opposed to a real failure).
_UNSUPPORTED = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})
_NO_RENAMEAT2 = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP})
_AT_FDCWD = -100
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_RENAME_NOREPLACE = 1

#: ``O_TMPFILE`` where an unnamed file can then be linked by its ``/proc/self/fd`` entry (0:
#: never tried). The folders where it failed (unsupported) are noted in `_named_only`.
_O_TMPFILE = getattr(os, "O_TMPFILE", 0) if os.path.isdir("/proc/self/fd") else 0
#: errno of ``open(folder, O_TMPFILE)`` meaning "not here": the file system lacks it
#: (EOPNOTSUPP), or the kernel does (EISDIR: it sees a directory opened for writing; EINVAL).
_NO_TMPFILE = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL})
#: Folders where unnamed files are unsupported (`publish_new` uses named temporaries there).
_named_only: set[str] = set()


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


def _load_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_SYNCFS = _load_syncfs()

#: The largest file a batched write leaves unsynced until the next sync point: one page,
#: which the file systems smttask runs on write whole or not at all.
PAGE_SIZE = 4096

#: Folders holding files written since the last sync point (one entry per folder).
_unsynced: dict[str, None] = {}
_unsynced_lock = threading.Lock()
_sync_at_exit = False


def _file_mode() -> int:
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0)
        os.umask(_UMASK)
    return 0o666 & ~_UMASK


class Names:
    """Names unique to this process without a system call each: a random word of `size`
    bytes drawn once per process (anew in a forked child), after the process id, and a
    counter (``next()``: ``<pid>-<word>-<n>``)."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._new()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._new)

    def _new(self) -> None:
        self._word = f"{os.getpid()}-{os.urandom(self._size).hex()}-"
        self._count = itertools.count()

    def next(self) -> str:
        """A name no other call of this or any other process returns (with all likelihood:
        processes of other hosts differ by their random words)."""
        return f"{self._word}{next(self._count)}"


_TEMP_NAMES = Names()


def _temp_path(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.tmp-{_TEMP_NAMES.next()}")


@functools.lru_cache(maxsize=1024)
def _relative_dir(target_dir: str, link_dir: str) -> str:
    return os.path.relpath(target_dir, link_dir)


def _relative(target: str, link: str) -> str:
    """The path of `target` relative to the folder of `link`."""
    (target_dir, name), link_dir = os.path.split(target), os.path.dirname(link)
    if not (os.path.isabs(target_dir) and os.path.isabs(link_dir)):  # depends on the cwd
        return os.path.relpath(target, link_dir or os.curdir)
    return os.path.join(_relative_dir(target_dir, link_dir), name)


def _make_parent(path: str) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)


def _unlink_quiet(path: str) -> None:
    try:  # (not contextlib.suppress: this is on the path of every result written)
        os.unlink(path)
    except FileNotFoundError:
        return


def _write_temp(path: str, data: bytes, fsync: bool) -> str:
    tmp = _temp_path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC
    try:
        fd = os.open(tmp, flags, _file_mode())
    except FileNotFoundError:  # the folder does not exist yet
        _make_parent(path)
        fd = os.open(tmp, flags, _file_mode())
    try:
        _write_all(fd, data)
        if fsync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quiet(tmp)
        raise
    os.close(fd)
    return tmp


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written < len(data):  # (a short write: rare, on a full disk or a signal)
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]


#: errno -> why a write failed and what to do, said of the folder written to.
_WRITE_HINTS = {
    errno.ENOSPC: "the file system holding {folder} is full. Free some space there (or write "
    "to a larger disk) and run again",
    errno.EDQUOT: "your disk quota on the file system holding {folder} is used up. Free some "
    "space there (or write to another disk) and run again",
    errno.EROFS: "{folder} is on a read-only file system. Write to a writable folder instead "
    "(or remount it read-write) and run again",
    errno.EACCES: "you have no permission to write in {folder}. Fix its permissions (chmod, "
    "chown) or write to another folder",
    errno.EPERM: "the system does not allow writing in {folder}. Fix its permissions or write "
    "to another folder",
    errno.EFBIG: "the file is larger than this system or process allows (see `ulimit -f`)",
    errno.ENOTDIR: "a part of {folder} is a file, not a folder. Move that file away",
}


class writing:  # used as a function: ``with writing(path): ...``
    """Report an OSError of the block as a `FileWriteError` naming `path` and its folder
    (the temporary files involved are an implementation detail)."""

    __slots__ = ("path",)

    def __init__(self, path: str | Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None or isinstance(exc, FileWriteError) or not isinstance(exc, OSError):
            return
        if exc.errno is None:
            return
        raise _write_error(self.path, exc.errno, exc) from exc


def _write_error(path: str | Path, code: int, exc: OSError) -> FileWriteError:
    folder = Path(os.path.abspath(path)).parent
    hint = _WRITE_HINTS.get(code, f"{exc.strerror or exc}")
    return FileWriteError(
        code,
        f"Cannot write {os.path.basename(path)} in {folder}: {hint.format(folder=folder)}.",
    )


def write_atomic(path: str | Path, data: bytes, *, fsync: bool = True) -> None:
    """Write `data` to `path`, replacing it atomically if it exists."""
    with writing(path):
        target = os.fspath(path)
        tmp = _write_temp(target, data, fsync)
        try:
            os.replace(tmp, target)
        except BaseException:
            _unlink_quiet(tmp)
            raise


def publish_new(path: str | Path, data: bytes, *, fsync: bool = True, batch: bool = False) -> bool:
    """Create `path` with `data` unless it exists. Return True if this call created it.

    Never replaces an existing file, even when another process publishes the same path at the
    same moment: exactly one of them wins, and the file is always complete. With `fsync`,
    the data is flushed to disk before the file is published; with `batch` too, a file of
    at most `PAGE_SIZE` bytes is not, and the next `sync()` makes it durable instead.
    """
    with writing(path):
        target = os.fspath(path)
        deferred = fsync and batch and len(data) <= PAGE_SIZE
        folder = os.path.dirname(target) or os.curdir
        moved = None
        if _O_TMPFILE and folder not in _named_only:
            moved = _publish_unnamed(folder, target, data, fsync and not deferred)
        if moved is None:
            moved = _publish_named(target, data, fsync and not deferred)
        if moved and deferred:
            defer_sync(folder)
        return moved


def _publish_unnamed(folder: str, target: str, data: bytes, fsync: bool) -> bool | None:
    """`publish_new` with an unnamed file (``O_TMPFILE``) linked once complete; None where
    the system or the file system cannot (the folder is then noted in `_named_only`)."""
    try:
        fd = _open_unnamed(folder)
    except FileNotFoundError:  # the folder does not exist yet
        _make_parent(target)
        fd = _open_unnamed(folder)
    if fd is None:
        return None
    try:
        _write_all(fd, data)
        if fsync:
            os.fsync(fd)
        # (src_dir_fd: Python then calls linkat with AT_SYMLINK_FOLLOW, which links the file
        # that /proc names; an absolute source path ignores the folder given)
        os.link(f"/proc/self/fd/{fd}", target, src_dir_fd=fd)
    except FileExistsError:
        return False  # published by another call: this file goes when it is closed
    except FileNotFoundError:
        return None  # the folder was removed meanwhile: the named way makes it again
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED and exc.errno != errno.EXDEV:
            raise
        _named_only.add(folder)  # no hard links here
        return None
    finally:
        os.close(fd)
    return True


def _open_unnamed(folder: str) -> int | None:
    """A new unnamed file in `folder`, open for writing; None if the file system (or the
    kernel) has no unnamed files (the folder is then noted in `_named_only`)."""
    try:
        return os.open(folder, _O_TMPFILE | os.O_WRONLY | _CLOEXEC, _file_mode())
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_TMPFILE:
            raise
        _named_only.add(folder)
        return None


def _publish_named(target: str, data: bytes, fsync: bool) -> bool:
    """`publish_new` with a named temporary file, moved with `_move_new`."""
    tmp = _write_temp(target, data, fsync)
    moved = False
    try:
        moved = _move_new(tmp, target)
        return moved
    finally:
        if not moved:  # a moved temporary is gone: no need to ask
            _unlink_quiet(tmp)


def move_new(src: str | Path, dst: str | Path) -> bool:
    """Move the file `src` to `dst` unless `dst` exists; return True if it moved.

    Never replaces `dst`: of several processes moving files to one name at the same moment,
    exactly one succeeds. On False, `src` is left where it was.
    """
    with writing(dst):
        return _move_new(os.fspath(src), os.fspath(dst))


def _move_new(src: str, dst: str) -> bool:
    moved = _rename_noreplace(src, dst)
    if moved is not None:
        return moved
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
    return _rename_onto_placeholder(src, dst)


def _rename_noreplace(src: str, dst: str) -> bool | None:
    """Rename with RENAME_NOREPLACE; None if neither the C library nor the file system has it."""
    if _RENAMEAT2 is None:
        return None
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE):
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            return False
        if code in _NO_RENAMEAT2:
            return None
        raise OSError(code, os.strerror(code), src, None, dst)
    return True


def _rename_onto_placeholder(src: str, dst: str) -> bool:
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


def replace_symlink(link: str | Path, target: str | Path) -> None:
    """Point `link` at `target` (relative), atomically replacing any existing link."""
    with writing(link):
        link = os.fspath(link)
        relative = _relative(os.fspath(target), link)
        tmp = _temp_path(link)
        try:
            os.symlink(relative, tmp)
        except FileNotFoundError:  # the folder does not exist yet
            _make_parent(link)
            os.symlink(relative, tmp)
        try:
            os.replace(tmp, link)
        except BaseException:
            _unlink_quiet(tmp)
            raise


def symlink_new(link: str | Path, target: str | Path) -> bool:
    """Create the symbolic link `link` to `target` (relative) unless `link` exists; return
    True if this call created it. A symbolic link is created whole, in one step."""
    with writing(link):
        link = os.fspath(link)
        relative = _relative(os.fspath(target), link)
        try:
            os.symlink(relative, link)
        except FileExistsError:
            return False
        except FileNotFoundError:  # the folder does not exist yet
            _make_parent(link)
            try:
                os.symlink(relative, link)
            except FileExistsError:
                return False
        return True


def defer_sync(folder: str | Path) -> None:
    """Note that `folder` holds files (or links) written without an fsync: the next sync
    point (`sync()`, at the latest when the process exits) makes them durable."""
    global _sync_at_exit
    key = os.fspath(folder)
    if key in _unsynced:
        return
    with _unsynced_lock:
        _unsynced[key] = None
        if not _sync_at_exit:
            _sync_at_exit = True
            atexit.register(sync)


def pending_syncs() -> list[str]:
    """The folders written to since the last sync point."""
    with _unsynced_lock:
        return list(_unsynced)


def sync(*folders: str | Path) -> int:
    """A sync point: make every file written since the last one durable, with one
    ``syncfs`` per file system (of the folders noted by `defer_sync`, and of `folders`);
    return how many file systems were synced. Where ``syncfs`` is missing (not Linux), one
    ``sync`` does it for all."""
    with _unsynced_lock:
        pending = [*_unsynced, *(os.fspath(f) for f in folders)]
        _unsynced.clear()
    if not pending:
        return 0
    if _SYNCFS is None:
        os.sync()
        return 1
    devices: set[int] = set()
    for folder in pending:
        try:
            fd = os.open(folder, os.O_RDONLY | _CLOEXEC)
        except FileNotFoundError:  # removed since: nothing left to sync there
            continue
        try:
            device = os.fstat(fd).st_dev
            if device in devices:
                continue
            devices.add(device)
            if _SYNCFS(fd):
                code = ctypes.get_errno()
                raise FileWriteError(
                    code,
                    f"Cannot flush the files written in {folder} to disk: "
                    f"{os.strerror(code)}. The disk or its file system failed (see `dmesg`); "
                    f"results written there since the last sync may be lost if the machine "
                    f"stops. Check the disk, then run the tasks again.",
                )
        finally:
            os.close(fd)
    return len(devices)
