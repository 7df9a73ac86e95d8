"""Moving journaled records into the record store.

``flush()`` moves this process's finished records and every journal left by processes that
are gone (workers of ``smttask run -n``, cluster jobs, killed runs). Every smttask command
that reads or changes the store calls it first, so that Sumatra's tools see every record.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config
from ..errors import RecordingError
from .projectfile import ProjectInfo, require_project

# The journal and the recorder are imported by ``flush()``: importing the package (as a
# session does, for the project file) stays light.

log = logging.getLogger("smttask.recording")


@dataclass
class FlushReport:
    records: int = 0  # records moved into the store (once per label)
    journals: int = 0  # journals of ended processes emptied and removed
    killed: int = 0  # records of tasks whose process ended before they finished
    errors: list[str] = field(default_factory=list)  # journals that could not be moved
    #: Labels of the records moved from ended processes' journals: a record that two
    #: journals hold (a copied journal) is one row in the store, and counted once.
    moved: set[str] = field(default_factory=set, repr=False)


def flush(root: Path | None = None, *, strict: bool = True, wait: bool = True) -> FlushReport:
    """Move every waiting record of the project in `root` (default: the current project).

    With `strict`, a journal that cannot be moved raises RecordingError; otherwise it is
    reported in the result and left in place for the next try. With `wait`, journals that
    other processes are moving (see ``handoff``) are waited for: when this returns, the
    records of every ended process are in the store.
    """
    from .journal import claim_orphans, journal_dir
    from .recorder import RECORDER

    info = require_project(root)
    report = FlushReport()
    own = RECORDER.projects.get(info.root)
    skip: set[Path] = set()
    if own is not None:
        try:
            report.records += own.flush()
        except Exception as exc:
            if strict:
                raise
            report.errors.append(f"records of this process: {type(exc).__name__}: {exc}")
        if own._journal is not None:
            skip.add(own._journal.path)
    refused: list[str] = []
    timeout = config.settings.lease_timeout
    claimed: list[_Claimed] = []
    try:
        for path, fd in claim_orphans(journal_dir(info.root), skip, refused, timeout, wait=wait):
            try:
                claimed.append(_claim(path, fd))
            except RecordingError as exc:
                if strict:
                    raise
                report.errors.append(f"{path}: {exc}")
                continue
            if (
                len(claimed) >= JOURNALS_PER_WRITE
                or sum(len(c.todo) for c in claimed) >= RECORDS_PER_WRITE
            ):
                _store(info, claimed, report, strict)
        _store(info, claimed, report, strict)
    finally:
        for c in claimed:
            os.close(c.fd)
    if refused and strict:
        raise RecordingError(refused[0] + ".")
    report.errors.extend(refused)
    if not report.errors:  # the store works again: no run needs to say why it did not
        from .handoff import failed_note

        with contextlib.suppress(OSError):
            failed_note(info.root).unlink(missing_ok=True)
    return report


#: Journals (and at most how many records) moved into the store in one write: one
#: transaction, one commit and one look-up of the rows the records share (interpreter,
#: machine, packages), instead of one of each per journal (one per job of a workflow).
JOURNALS_PER_WRITE = 200
RECORDS_PER_WRITE = 2000


@dataclass
class _Claimed:
    path: Path
    fd: int  # a duplicate of the locked descriptor: the lock holds until it is closed
    todo: list[dict[str, Any]]


def _claim(path: Path, fd: int) -> _Claimed:
    """The records of the journal `path` (locked through `fd`) that are not in the store yet,
    with a descriptor that keeps it locked after `claim_orphans` closes its own."""
    from .journal import assemble, read_entries

    records, flushed = assemble(read_entries(fd, path))
    own = os.dup(fd)
    return _Claimed(path, own, [r for r in records if r["label"] not in flushed])


def _store(info: ProjectInfo, claimed: list[_Claimed], report: FlushReport, strict: bool) -> None:
    """Store the records of the `claimed` journals in one write and delete the journals; if
    that write fails, journal by journal, so that one that cannot be stored (reported, or
    raised if `strict`) holds back no other. Their locks are released in the end (the list
    is emptied)."""
    try:
        if len(claimed) > 1:
            try:
                _write(info, claimed, report)
                return
            except RecordingError:
                pass  # one of them, at least: found below
        for c in claimed:
            try:
                _write(info, [c], report)
            except RecordingError as exc:
                if strict:
                    raise
                report.errors.append(f"{c.path}: {exc}")
    finally:
        for c in claimed:
            os.close(c.fd)
        claimed.clear()


def _write(info: ProjectInfo, claimed: list[_Claimed], report: FlushReport) -> None:
    todo = [r for c in claimed for r in c.todo]
    if todo:
        from .store import backend

        backend(info).write(todo)
    for c in claimed:
        c.path.unlink(missing_ok=True)
        new = [r for r in c.todo if r["label"] not in report.moved]
        report.moved.update(r["label"] for r in new)
        killed = sum("_killed_" in r.get("tags", ()) for r in new)
        if killed:
            log.warning(
                "%d record(s) in %s belong to tasks whose process ended early.", killed, c.path
            )
        report.records += len(new)
        report.killed += killed
        report.journals += 1


def _move(info: ProjectInfo, path: Path, fd: int) -> tuple[int, int]:
    from .journal import assemble, read_entries

    records, flushed = assemble(read_entries(fd, path))
    todo = [r for r in records if r["label"] not in flushed]
    if todo:
        from .store import backend

        backend(info).write(todo)
    path.unlink(missing_ok=True)
    killed = sum("_killed_" in r.get("tags", ()) for r in todo)
    if killed:
        log.warning("%d record(s) in %s belong to tasks whose process ended early.", killed, path)
    return len(todo), killed


def pending_journals(root: Path | None = None) -> list[Path]:
    """Journal files of the project (of running and of ended processes)."""
    from .journal import journal_dir

    info = require_project(root)
    folder = journal_dir(info.root)
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
