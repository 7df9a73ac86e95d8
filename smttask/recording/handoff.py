"""Handing a process's journal to a detached mover, which moves its records into the store.

Moving records into the store needs Sumatra and Django, whose import costs more than a short
``smttask run`` itself. ``hand_off(root)`` lets the process end without them: its records are
already durable in its journal; it writes a ``handoff`` line, starts ``python -m
smttask.recording.handoff`` in a session of its own, hands it the journal's open file (and
with it the journal's lock), and lets the journal go (the next record opens a new one). The
mover stores the journal's records and deletes it, then moves the journals of ended
processes, as any flush does.

Guarantees:

- *No record lost.* Until the mover deletes the journal (after its records are committed),
  the records are in the journal. A mover killed at any point (a SLURM job ending, kill -9)
  releases the lock; the handed-off journal is then an orphan, moved by the next flush.
- *No record twice.* A journal is moved by whoever holds its lock; writing a record whose
  label is stored replaces it (in one transaction), so even a journal moved twice (a mover
  killed between its commit and the deletion; node-local locks) stores each record once.
- *A failure is reported.* A mover that cannot store the records (the store unreachable, a
  wrong password) leaves the note ``.smt/records-not-stored``; the next ``smttask run`` then
  stores its records itself and warns why, as every reader does. A flush that moves
  everything removes the note.
- *Readers see it at once.* ``flush(wait=True)`` (every smttask command that reads the store)
  waits for the lock of a journal being moved, so it reads the store after the mover has
  committed. Sumatra's own ``smt`` sees the records once the mover is done.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

    from .recorder import ProjectRecorder

# The journal and subprocess are imported by `hand_off`: a run that recorded nothing (a cache
# hit) imports only this module.

log = logging.getLogger("smttask.recording")

#: Movers started by this process (reaped by later hand-offs; never waited for).
_MOVERS: list[subprocess.Popen[bytes]] = []


#: The note a mover leaves in the project's ``.smt`` folder when it could not store records.
FAILED_NOTE = "records-not-stored"


def failed_note(root: Path) -> Path:
    """The note (see ``FAILED_NOTE``) of the project in `root`."""
    return root / ".smt" / FAILED_NOTE


def store_later(root: Path) -> bool:
    """Leave this process's records of the project in `root` to a detached mover (see
    ``hand_off``); True when nothing is left for this process to store (no record made here,
    or the journal handed off), False when the caller should store them itself (see
    ``leave_to_mover``)."""
    recorder = sys.modules.get(__package__ + ".recorder")
    if recorder is None:  # no record was made in this process
        return True
    rec = recorder.RECORDER.projects.get(root)
    if rec is None or not rec.pending:
        return not (rec is not None and rec.running)
    return leave_to_mover(rec)


def leave_to_mover(rec: ProjectRecorder) -> bool:
    """Hand the journal of `rec` (a project's recorder in this process) to a detached mover;
    False (nothing done) when the caller should store its records itself: nothing is
    pending, a task is still running, this process has loaded the record store already
    (storing here is then cheaper than starting a mover), or an earlier mover could not
    store its records (then storing here says why)."""
    if not rec.pending or rec.running:
        return False
    if "django.db" in sys.modules or os.name != "posix":  # (no journal locks elsewhere)
        return False
    if os.path.exists(failed_note(rec.info.root)):
        return False
    return give(rec) is not None


def hand_off(root: Path, *, mover: Sequence[str] | None = None) -> int | None:
    """Give this process's journal of the project in `root` to a detached mover; its process
    id, or None (and nothing done) when there is nothing to give or a task is still running.

    `mover` is the command to start (default: ``python -m smttask.recording.handoff``, which
    gets the journal's file descriptor, path and project folder as arguments)."""
    from .recorder import RECORDER

    rec = RECORDER.projects.get(root)
    return None if rec is None else give(rec, mover=mover)


def give(rec: ProjectRecorder, *, mover: Sequence[str] | None = None) -> int | None:
    """``hand_off`` for the recorder `rec` of one project in this process."""
    import subprocess

    from .journal import HANDOFF

    with rec.lock:
        journal = rec._journal
        if journal is None or journal.pid != os.getpid() or journal.fd is None:
            return None
        if rec.running or not rec.pending:
            return None
        journal.append({"kind": HANDOFF}, sync=False)
        fd, path = journal.fd, journal.path
        command = list(mover or [sys.executable, "-m", __name__])
        pid: int | None
        _MOVERS[:] = [p for p in _MOVERS if p.poll() is None]
        try:
            process = subprocess.Popen(
                [*command, str(fd), str(path), str(rec.info.root)],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                cwd=rec.info.root,
            )
            _MOVERS.append(process)
            pid = process.pid
        except OSError as exc:  # the journal is an orphan once closed: a flush moves it
            log.warning("Could not start a process to store the records: %s", exc)
            pid = None
        journal.close(delete=False)
        rec._journal = None
        rec.pending = []
        rec._ctx = None
    return pid


def move(fd: int, path: Path, root: Path) -> None:
    """The mover: store the records of the journal `path`, whose lock it holds through `fd`
    (the writer's descriptor, opened for appending only), delete it, then move the journals
    of ended processes."""
    from .flush import _move, flush
    from .journal import _NOFOLLOW
    from .projectfile import require_project

    info = require_project(root)
    try:
        try:
            reader = os.open(path, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:  # moved already (where locks are not seen by every node)
            reader = None
        if reader is not None:
            try:
                if os.path.samestat(os.fstat(fd), os.fstat(reader)):
                    _move(info, path, reader)
            finally:
                os.close(reader)
        os.close(fd)
        report = flush(root, strict=False, wait=False)
    except BaseException:
        _leave_note(root)
        raise
    if report.errors:
        _leave_note(root)


def _leave_note(root: Path) -> None:
    """Say to the next run that records could not be stored (it then stores its own and
    shows why); the note holds only when."""
    import time

    try:
        with open(failed_note(root), "w", encoding="utf-8") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S %z\n"))
    except OSError:
        pass


if __name__ == "__main__":
    move(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
