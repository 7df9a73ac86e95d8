"""Provenance: a Sumatra record for every recorded execution (the only Sumatra/Django user).

Importing this package is cheap: Sumatra and Django are imported only when records move into
the record store or the store is read. See ``docs/recording.md`` for the record layout.

Modules: ``recorder`` (the ``hooks.Recorder``), ``gitstate`` (clean-code check),
``context`` (interpreter, machine, packages), ``capture`` (stdout/stderr tee), ``fields``
(record fields from a task), ``journal`` (per-process journal files), ``flush`` (journal →
store), ``projectfile`` (``.smt/`` files), ``address`` (record-store addresses),
``sumatraload`` (importing Sumatra's store without SciPy).

The record store, behind one seam: ``api`` (``RecordSink``, ``RecordSource``, store-neutral
conditions), ``store`` (opening a project's store), its implementations ``django`` (Sumatra's
Django store; the only ORM user) and ``memory``; on any of them, ``edit`` (tags,
invalidating results), ``lookup`` (selecting, finding the producer of a file, deleting),
``maintenance`` (rebuild, surrogates, merge); result file names come from ``smttask.storage``.
Also ``projectinit`` (project creation) and ``smtcli`` (Sumatra's command line).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .flush import FlushReport, flush
from .projectfile import ProjectInfo, find_project, require_project, set_dirty_dirs

if TYPE_CHECKING:
    from .recorder import RECORDER, RecordingWarning, SumatraRecorder

#: Imported on first use (the recorder brings in git, the journal and the machine details):
#: a session reads the project file and makes no record on a cache hit.
_RECORDER_NAMES = frozenset({"RECORDER", "RecordingWarning", "SumatraRecorder"})


def __getattr__(name: str) -> Any:
    if name in _RECORDER_NAMES:
        from . import recorder

        return getattr(recorder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def last_label(root: Path | None = None) -> str:
    """Label of the last record this process finished in the project (``""`` if none)."""
    from .. import config
    from .recorder import RECORDER

    rec = RECORDER.projects.get(root or config.project_root())
    return rec.last_label if rec is not None else ""


def prepare_store(root: Path | None = None) -> None:
    """Create the record store's tables now, if the project has a store without them.

    Called before starting parallel workers, so that they never race to create them.
    """
    from .. import config

    info = find_project(root or config.project_root())
    if info is not None:
        from .store import backend

        backend(info)


def check_committed(root: Path | None = None) -> None:
    """Raise DirtyRepositoryError, with the message a recorded run gives, if the project in
    `root` (default: the current one) records runs and tracked code outside its dirty
    directories has uncommitted changes (ProjectError: no commit yet). Nothing happens
    without a Sumatra project (runs there are not recorded)."""
    from .. import config

    folder = root or config.project_root()
    if find_project(folder) is None:
        return
    from .recorder import RECORDER

    rec = RECORDER.for_root(folder)
    if rec is not None:
        rec.watcher().check(0.0)


__all__ = [
    "RECORDER",
    "FlushReport",
    "ProjectInfo",
    "RecordingWarning",
    "SumatraRecorder",
    "check_committed",
    "find_project",
    "flush",
    "last_label",
    "prepare_store",
    "require_project",
    "set_dirty_dirs",
]
