"""The record journal: one append-only file per process, moved into the record store later.

A record is first written as lines of JSON to ``.smt/journal/<host>-<pid>-<random>.jsonl``
(one file per process, so writers never contend; fine on a cluster's shared filesystem).
Each line is one ``write``: once the run that wrote a record's ``end`` line returns, the
record survives any kill of the process (kill -9 included: the kernel holds the data). It
survives a power cut or a crash of the machine once it is synced: at the next sync point
(``smttask.fileio.sync``: the end of ``smttask run``, the exit of the process,
``smttask.sync()``), together with the results written meanwhile, or, with
``config.settings.durable_calls``, before the run returns. A line cut short by a machine
that stopped is skipped (its record then reads as killed). Records move into the Sumatra
record store in batches (see ``flush``).

A journal's owner keeps it alive two ways: an exclusive ``flock`` on the file, which the
kernel releases when the process ends however it ends, and a heartbeat (a thread sets the
file's modification time every ``lease_timeout / 6`` seconds, see
``smttask.storage.lease``). A journal is orphaned, and any smttask process may move its
records and delete it, only when both say so: its lock can be taken *and* its heartbeat is
older than the lease timeout (or its header names a process of this host that no longer
exists). ``flock`` alone is not enough: many cluster file systems (Lustre ``localflock``,
BeeGFS, NFS mounted ``nolock``) keep locks node-local, so a login node could take the lock of
a journal a compute node is writing.

Lines (``kind`` first)::

    {"kind": "header", "format": 1, "host": ..., "pid": ..., "created": ...}
    {"kind": "ctx", "id": 1, ...fields shared by the records that follow...}
    {"kind": "begin", "label": ..., "ctx": 1, ...record fields known at the start...}
    {"kind": "end", "label": ..., "tags": [...], "duration": ..., "outcome": ..., ...}
    {"kind": "flushed", "labels": [...]}        # already in the record store
    {"kind": "handoff"}                         # the writer gave the journal up (last line)

A ``handoff`` line says that the writer will write no more to this journal and that the
process holding its lock (a mover, see ``handoff``) is moving its records into the store. A
reader that finds such a journal locked waits for the lock (the mover is about to finish),
and once its lock is free, the journal counts as orphaned even while its writer lives.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import RecordingError
from ..fileio import defer_sync
from ..storage.lease import DEFAULT_TIMEOUT, Heartbeat, gone_from_this_host, host_name, is_stale
from .utctime import utc_now

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: each process moves only its own journal
    fcntl = None  # type: ignore[assignment]

FORMAT = 1
SUFFIX = ".jsonl"
HANDOFF = "handoff"
#: Seconds between two tries at the lock of a journal being moved by another process.
_POLL = 0.01
#: Journals are opened and created without following a symbolic link.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

KILLED_OUTCOME = (
    "The process running this task ended before the task finished (killed, crashed or out "
    "of memory). No outputs were recorded."
)


def journal_dir(project_root: Path) -> Path:
    return project_root / ".smt" / "journal"


class Journal:
    """This process's journal for one project (created on first use)."""

    def __init__(self, folder: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        host = re.sub(r"[^A-Za-z0-9_.-]", "_", host_name())[:40] or "host"
        name = f"{host}-{os.getpid()}-{os.urandom(4).hex()}"
        tmp = folder / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | _NOFOLLOW, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            header = {
                "kind": "header",
                "format": FORMAT,
                "host": host_name(),
                "pid": os.getpid(),
                "created": utc_now()[1],
            }
            _write(fd, _line(header))
            # Visible to other processes only once locked: they never take a live file.
            self.path = folder / f"{name}{SUFFIX}"
            os.rename(tmp, self.path)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        self.fd: int | None = fd
        self.pid = os.getpid()
        self._heartbeat = Heartbeat(fd, max(timeout / 6, 0.02), f"smttask-journal-{name}")

    def append(self, entry: dict[str, Any], *, sync: bool, defer: bool = False) -> None:
        """Write `entry` as one line; with `sync`, flush it to disk now, or (with `defer`) at
        the next sync point."""
        if self.fd is None:
            raise RecordingError(f"The record journal {self.path} is closed.")
        try:
            _write(self.fd, _line(entry))
            if sync and defer:
                defer_sync(self.path.parent)
            elif sync:
                os.fsync(self.fd)
        except OSError as exc:
            raise RecordingError(
                f"Cannot write the record journal {self.path}: {exc}. Free disk space or fix "
                f"the permissions of {self.path.parent}; the task's outputs were written, its "
                f"record was not."
            ) from None

    def close(self, *, delete: bool) -> None:
        if self.fd is None:
            return
        self._heartbeat.stop()
        if delete:
            self.path.unlink(missing_ok=True)
        os.close(self.fd)
        self.fd = None


#: What ``json.dumps(entry, separators=(",", ":"), default=str)`` uses, made once (entries are
#: built here from JSON data: none holds itself, so no check for cycles).
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str, check_circular=False)


def _line(entry: dict[str, Any]) -> bytes:
    return (_ENCODER.encode(entry) + "\n").encode()


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def claim_orphans(
    folder: Path,
    skip: set[Path],
    refused: list[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    wait: bool = False,
) -> Iterator[tuple[Path, int]]:
    """Lock and yield (path, fd) of each journal whose process is gone: its lock free and its
    heartbeat older than `timeout` seconds (or its process gone from this host, or its
    writer handed it off).

    The caller deletes the file once its records are stored; the lock is released when the
    loop moves on. A journal left in place is taken again by a later call. A symbolic link
    among the journals is never read: it is listed in `refused` (one sentence each). With
    `wait`, a journal that another process is moving (locked, and handed off or left by a
    process gone from this host) is waited for, at most `timeout` seconds: once its lock is
    free, its records are in the store (and the file gone) or its mover died (and this call
    moves it).
    """
    if fcntl is None:  # pragma: no cover - no way to tell a live journal from a dead one
        return
    for name in _journal_names(folder):
        path = folder / name
        if path in skip:
            continue
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            continue
        except OSError:
            if not path.is_symlink():
                raise
            if refused is not None:
                refused.append(
                    f"{path} is a symbolic link (to {os.readlink(path)!r}), not a journal "
                    f"smttask wrote: its records are not read; remove it (rm {path})"
                )
            continue
        try:
            _lock(fd, timeout if wait else 0.0)
            # Still the file we opened? (Another process may have just stored and removed it.)
            st = os.fstat(fd)
            if os.path.samestat(st, os.stat(path)) and _silent(fd, st.st_mtime, timeout):
                yield path, fd
        except (BlockingIOError, FileNotFoundError):
            pass
        finally:
            os.close(fd)


def wait_for_movers(folder: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Wait (at most `timeout` seconds each) until no other process is moving a journal in
    `folder` into the store; moves, writes and deletes nothing (a reader that must not
    change the project, e.g. a dry run, then reads the store those processes wrote)."""
    if fcntl is None:  # pragma: no cover
        return
    for name in _journal_names(folder):
        try:
            fd = os.open(folder / name, os.O_RDONLY | _NOFOLLOW)
        except OSError:
            continue
        try:
            _lock(fd, timeout)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)


def _journal_names(folder: Path) -> list[str]:
    """The names of the journals in `folder`, sorted (none if it does not exist)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.endswith(SUFFIX) and not n.startswith("."))


def _lock(fd: int, patience: float) -> None:
    """Take the lock of the journal open as `fd`; BlockingIOError if it is busy, after
    waiting up to `patience` seconds when another process is moving the journal."""
    assert fcntl is not None
    deadline = time.monotonic() + patience
    moving: bool | None = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if moving is None:
                moving = patience > 0 and _being_moved(fd)
            if not moving or time.monotonic() >= deadline:
                raise
            time.sleep(_POLL)


def _being_moved(fd: int) -> bool:
    """Whether the locked journal open as `fd` is held by a mover, not by its writer: it
    was handed off, or its writer is a process of this host that no longer exists."""
    return handed_off(fd) or _writer_gone(fd)


def handed_off(fd: int) -> bool:
    """Whether the last line of the journal open as `fd` is a handoff."""
    with open(fd, "rb", closefd=False) as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - 256))
        tail = f.read()
    last = tail.rstrip(b"\n").rpartition(b"\n")[2]
    return last.startswith(b'{"kind":"%s"' % HANDOFF.encode())


def _writer_gone(fd: int) -> bool:
    with open(fd, "rb", closefd=False) as f:
        f.seek(0)
        first = f.readline(4096)
    try:
        header = json.loads(first)
        return gone_from_this_host(str(header["host"]), int(header["pid"]))
    except (ValueError, KeyError, TypeError):
        return False


def _silent(fd: int, mtime: float, timeout: float) -> bool:
    """Whether the journal open as `fd` has no live writer by its heartbeat, header or
    handoff."""
    return is_stale(mtime, timeout) or _writer_gone(fd) or handed_off(fd)


def read_entries(fd: int, path: Path) -> list[dict[str, Any]]:
    """All complete lines; a torn last line (process killed while writing it) is skipped."""
    with open(fd, "rb", closefd=False) as f:
        f.seek(0)
        data = f.read()
    entries = []
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            if number >= len(lines) - 1:
                continue  # the last line, cut short
            raise RecordingError(
                f"Line {number} of the record journal {path} is not valid JSON. The file was "
                f"edited or damaged; move it aside to continue, and check its records by hand."
            ) from None
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def assemble(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[str]]:
    """(complete records in order of their start, labels already in the record store).

    A record that has a start but no end belongs to a task interrupted by the end of its
    process: it is completed with the tag ``_killed_``.
    """
    contexts: dict[Any, dict[str, Any]] = {}
    records: dict[str, dict[str, Any]] = {}
    flushed: set[str] = set()
    for entry in entries:
        kind = entry.get("kind")
        if kind == "ctx":
            contexts[entry.get("id")] = _fields(entry, ("kind", "id"))
        elif kind == "begin":
            ctx = contexts.get(entry.get("ctx"), {})
            records[entry["label"]] = {**ctx, **_fields(entry, ("kind", "ctx"))}
        elif kind == "end" and entry.get("label") in records:
            records[entry["label"]].update(_fields(entry, ("kind",)))
            records[entry["label"]]["_ended"] = True
        elif kind == "flushed":
            flushed.update(entry.get("labels", ()))
    done = []
    for record in records.values():
        if not record.pop("_ended", False):  # keeps the tags it began with (its attempt)
            record["tags"] = ["_killed_", *(t for t in record.get("tags", ()) if t != "_running_")]
            record["outcome"] = KILLED_OUTCOME
        done.append(record)
    return done, flushed


def _fields(entry: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in drop}
