"""The seams between the task core and the layers above it: sessions.

The core knows *when* to load, save and record; the layers above decide *how*. Tasks run in a
``Session``: the settings, the project root, the data stores, an output store
(``smttask.storage``) and a recorder (``smttask.recording``). A session is made once per
run, command or view by ``smttask.session.open_session`` and made current for a block with
``using(session)``; outside any, ``current()`` gives a default session that follows
``smttask.config.settings`` and the working directory (made by the factory that
``smttask/__init__.py`` installs, and made again only when those change).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from . import config

if TYPE_CHECKING:
    from .task import Task


class OutputStore(Protocol):
    """Where recorded results live on disk."""

    def load(self, task: Task) -> Any | None:
        """The task's result if all its outputs are on disk, else None. Never computes."""

    def load_output(self, task: Task, name: str) -> Any | None:
        """One output (or one value of a variable output) if it is on disk, else None;
        raises OutputError for a name the task has not."""

    def save(self, task: Task, result: Any, *, recompute: bool) -> Mapping[str, Path]:
        """Write the result atomically; return the archive path of each output."""

    def paths(self, task: Task) -> Mapping[str, Path]:
        """Where each output is read from (whether or not it exists yet)."""

    def archive_paths(self, task: Task) -> Mapping[str, Path]:
        """The files a first run of the task creates, one per output (whether or not they
        exist yet); ``save`` returns these unless ``recompute`` numbers new ones."""

    def iterations(self, task: Task) -> list[int]:
        """For an iterative task: the iteration counts saved on disk for its family."""

    def new_folder(self, task: Task) -> Path:
        """A fresh, empty folder for a task with an ``OutputDir`` parameter to write into;
        ``save`` publishes it as the task's result."""

    def discard_folder(self, folder: Path) -> None:
        """Remove a folder from ``new_folder`` whose task failed."""

    def lease(self, task: Task) -> contextlib.AbstractContextManager[object]:
        """Hold the task's lease for the block: while another live process (on any node)
        computes the task, wait until it is done or dead (without the setting
        ``wait_for_leases``: raise ``RunningElsewhereError`` instead). One computation per
        task at a time; the caller looks for the result again once it holds the lease."""


class RecordHandle(Protocol):
    """One provenance record, opened before a task's function runs."""

    def finished(self, outputs: Mapping[str, Path], outcome: str) -> None: ...

    def crashed(self, error: BaseException) -> None: ...


class Recorder(Protocol):
    """Creates provenance records (one per recorded execution)."""

    def guard(self, task: Task) -> None:
        """Raise if `task` must not run now (e.g. uncommitted code). Called before a task runs
        that gets no record of its own (memoized tasks)."""

    def begin(
        self, task: Task, *, reason: str | None, resumed_from: Task | None = None
    ) -> RecordHandle:
        """Check as `guard` does, then open a record for `task`, just before its function is
        called. `resumed_from`: the earlier iteration whose stored results an iterative task
        starts from (the record lists them among the results it read)."""


class _NoRecorder:
    """Used until a real recorder is installed, and when recording is switched off."""

    def guard(self, task: Task) -> None:
        return None

    def begin(
        self, task: Task, *, reason: str | None, resumed_from: Task | None = None
    ) -> RecordHandle:
        return _NoRecord()


class _NoRecord:
    def finished(self, outputs: Mapping[str, Path], outcome: str) -> None:
        return None

    def crashed(self, error: BaseException) -> None:
        return None


NO_RECORDER: Recorder = _NoRecorder()


class Progress(Protocol):
    """Shows how far a run of tasks has come (a bar, a line of text...)."""

    def update(self, done: int, total: int, label: str) -> None:
        """`done` of `total` tasks are finished; `label` names the last one."""

    def close(self, summary: str) -> None:
        """The run ended; `summary` says what it did."""


#: Makes a display for a run titled `title`, or returns None where nothing should be shown
#: (the output is not interactive). Installed by ``smttask/__init__.py``.
_progress_factory: Callable[[str], Progress | None] | None = None


def set_progress_factory(factory: Callable[[str], Progress | None] | None) -> None:
    global _progress_factory
    _progress_factory = factory


def progress_display(title: str) -> Progress | None:
    """A display for a run titled `title`, if progress can be shown here."""
    return None if _progress_factory is None else _progress_factory(title)


@dataclass(frozen=True)
class Session:
    """What tasks run with: made once per run, command or view, and passed down."""

    settings: config.Settings
    root: Path  # the project folder
    data_roots: tuple[Path, Path]  # (input data store: links, output data store: archives)
    outputs: OutputStore
    recorder: Recorder  # NO_RECORDER when runs are not recorded


_current: ContextVar[Session | None] = ContextVar("smttask_session", default=None)
_factory: Callable[[], Session] | None = None
_prepare: Callable[[], None] | None = None
_default: tuple[tuple[object, ...], Session] | None = None


def set_session_factory(
    factory: Callable[[], Session], prepare: Callable[[], None] | None = None
) -> None:
    """Install the function making default sessions (``smttask/__init__.py`` does), and the
    one reading ahead what it will read (`prepare`, see ``prepare_default``)."""
    global _factory, _prepare, _default
    _factory, _prepare, _default = factory, prepare, None


def prepare_default() -> None:
    """Outside any ``using()`` block, read ahead what the default session will read (a task
    type calls it when it is defined, so that its first run finds it read), into caches
    checked when used. Errors are left for the session to meet and report."""
    if _prepare is None or _current.get() is not None or _default is not None:
        return
    try:
        _prepare()
    except Exception:  # the session meets it again, and reports it
        return


def entered() -> Session | None:
    """The session of the enclosing ``using()`` block (None outside any)."""
    return _current.get()


def current() -> Session:
    """The session of the enclosing ``using()`` block, else the default session."""
    session = _current.get()
    if session is not None:
        return session
    global _default
    settings = config.settings
    key = (os.getcwd(), id(settings), settings.change, config.generation())
    default = _default
    if default is not None and default[0] == key:
        return default[1]
    if _factory is None:  # pragma: no cover - smttask/__init__ always installs one
        raise RuntimeError("No session factory installed; import smttask (the package) first.")
    session = _factory()
    _default = (key, session)
    return session


_explainer: Callable[[Task], Any] | None = None


def set_explainer(explainer: Callable[[Task], Any]) -> None:
    """Install what ``task.explain()`` calls (``smttask/__init__.py`` installs
    ``smttask.explain.explain``, imported on first use)."""
    global _explainer
    _explainer = explainer


def explain(task: Task) -> Any:
    """The explanation of `task` and what it needs, made by the installed explainer."""
    if _explainer is None:  # pragma: no cover - smttask/__init__ always installs one
        raise RuntimeError("No explainer installed; import smttask (the package) first.")
    return _explainer(task)


@contextlib.contextmanager
def using(session: Session) -> Iterator[Session]:
    """Run the block's tasks in `session`."""
    token = _current.set(session)
    try:
        yield session
    finally:
        _current.reset(token)
