"""The seams between the task core and the layers above it.

The core knows *when* to load, save and record; the layers above decide *how*. They plug in
here at import time (``smttask/__init__.py`` wires the defaults): the output store
(``smttask.storage``) and the recorder (``smttask.recording``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .task import Task


class OutputStore(Protocol):
    """Where recorded results live on disk."""

    def load(self, task: Task) -> Any | None:
        """The task's result if all its outputs are on disk, else None. Never computes."""

    def save(self, task: Task, result: Any, *, recompute: bool) -> Mapping[str, Path]:
        """Write the result atomically; return the archive path of each output."""

    def paths(self, task: Task) -> Mapping[str, Path]:
        """Where each output is read from (whether or not it exists yet)."""

    def archive_paths(self, task: Task) -> Mapping[str, Path]:
        """The files a first run of the task creates, one per output (whether or not they
        exist yet); ``save`` returns these unless ``recompute`` numbers new ones."""

    def iterations(self, task: Task) -> list[int]:
        """For an iterative task: the iteration counts saved on disk for its family."""


class RecordHandle(Protocol):
    """One provenance record, opened before a task's function runs."""

    def finished(self, outputs: Mapping[str, Path], outcome: str) -> None: ...

    def crashed(self, error: BaseException) -> None: ...


class Recorder(Protocol):
    """Creates provenance records (one per recorded execution)."""

    def guard(self, task: Task) -> None:
        """Raise if `task` must not run now (e.g. uncommitted code). Called before any run."""

    def begin(self, task: Task, *, reason: str | None) -> RecordHandle:
        """Open a record for `task`, just before its function is called."""


class _NoRecorder:
    """Used until a real recorder is installed, and when recording is switched off."""

    def guard(self, task: Task) -> None:
        return None

    def begin(self, task: Task, *, reason: str | None) -> RecordHandle:
        return _NoRecord()


class _NoRecord:
    def finished(self, outputs: Mapping[str, Path], outcome: str) -> None:
        return None

    def crashed(self, error: BaseException) -> None:
        return None


NO_RECORDER: Recorder = _NoRecorder()

_output_store: OutputStore | None = None
_recorder: Recorder = NO_RECORDER


def set_output_store(store: OutputStore) -> None:
    global _output_store
    _output_store = store


def output_store() -> OutputStore:
    if _output_store is None:  # pragma: no cover - smttask/__init__ always installs one
        raise RuntimeError("No output store installed; import smttask (the package) first.")
    return _output_store


def set_recorder(recorder: Recorder) -> None:
    global _recorder
    _recorder = recorder


def recorder() -> Recorder:
    return _recorder
