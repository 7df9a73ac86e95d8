"""Ending the records a dead process left open, with the reason its supervisor knows.

A process killed while it runs a task (``SIGKILL`` from an out-of-memory killer, a segfault)
leaves a ``begin`` line without an ``end`` in its journal; the next ``flush`` would complete
it with the generic ``journal.KILLED_OUTCOME``. A supervising parent that saw how its child
ended says more: `end_open_records` appends the ``end`` lines itself, with that outcome.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..storage.lease import host_name
from .fields import KILLED, RUNNING
from .journal import SUFFIX, _line, _write, journal_dir, read_entries

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fork, hence no supervisor
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class OpenRecord:
    label: str
    task: str  # the task's name, e.g. "mymodule.simulate"


def end_open_records(project_root: Path, pid: int, outcome: str) -> list[OpenRecord]:
    """End every record that process `pid` of this host left open (begun, neither ended nor
    stored) with the tag ``_killed_`` and `outcome`; return them. The process must be gone:
    a journal still locked by a live process is left alone."""
    if fcntl is None:  # pragma: no cover
        return []
    folder = journal_dir(project_root)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(SUFFIX) and f"-{pid}-" in n)
    except FileNotFoundError:
        return []
    ended: list[OpenRecord] = []
    for name in names:
        path = folder / name
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            ended += _end(fd, path, pid, outcome)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
    return ended


def _end(fd: int, path: Path, pid: int, outcome: str) -> list[OpenRecord]:
    entries = read_entries(fd, path)
    header = entries[0] if entries and entries[0].get("kind") == "header" else {}
    if header.get("pid") != pid or header.get("host") != host_name():
        return []
    begun: dict[str, dict[str, object]] = {}
    for entry in entries:
        kind, label = entry.get("kind"), entry.get("label")
        if kind == "begin" and isinstance(label, str):
            begun[label] = entry
        elif kind == "end":
            begun.pop(str(label), None)
        elif kind == "flushed":
            for done in entry.get("labels", ()):
                begun.pop(done, None)
    ended = []
    for label, entry in begun.items():
        tags = [t for t in entry.get("tags", ()) or () if t != RUNNING]  # type: ignore[attr-defined]
        end = {"kind": "end", "label": label, "tags": [KILLED, *tags], "outcome": outcome}
        _write(fd, _line(end))
        ended.append(OpenRecord(label, str(entry.get("script_arguments", ""))))
    if ended:
        os.fsync(fd)
    return ended


__all__ = ["OpenRecord", "end_open_records"]
