"""The recorders of sessions (``hooks.Recorder``): one Sumatra record per recorded execution.

Per project folder, this process keeps one ``ProjectRecorder``: a git watcher (see
``gitstate``), this process's journal (see ``journal``) and the finished records not yet in
the record store. A session records through a ``SessionRecorder``, which applies the
session's settings: unless ``flush_records`` is off, records move into the store in batches
(``flush_every`` records, or a record finishing ``flush_interval`` seconds after the last move)
and at process exit. A batch goes to a detached mover (see ``handoff``: the journal first,
then the store) while this process has not imported the record store; Sumatra and Django are
imported only to move records here.

Without a Sumatra project (no ``.smt/project``), runs are not recorded and not checked;
a warning says so once per folder.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import traceback
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config, fileio, hooks
from ..config import Settings
from ..errors import RecordingError
from . import fields
from .address import require_database
from .capture import Capture
from .context import Dependencies, executable, platform_info
from .gitstate import GitState, GitWatcher
from .journal import Journal, journal_dir
from .projectfile import ProjectInfo, find_project
from .utctime import utc_now

if TYPE_CHECKING:
    from ..task import Task

log = logging.getLogger("smttask.recording")


class RecordingWarning(UserWarning):
    """Records are safe in the journal, but could not be moved into the record store yet."""


_DEPENDENCIES = Dependencies()

#: How many batches a process leaves to movers before it stores its batches itself.
MOVED_BATCHES = 3


class ProjectRecorder:
    """Recording state of one project in this process."""

    def __init__(self, info: ProjectInfo) -> None:
        self.info = info
        self.lock = threading.RLock()
        self._watcher: GitWatcher | None = None
        self._watcher_dirty: tuple[str, ...] = ()
        self._journal: Journal | None = None
        self._ctx: tuple[Any, int] | None = None
        self._ctx_fields: dict[str, Any] = {}
        self._next_ctx = 1
        self.pending: list[dict[str, Any]] = []
        self.running = 0
        self.last_flush = time.monotonic()
        self.moved_batches = 0  # batches left to movers (what is left at exit is not counted)
        self.last_label = ""
        #: The settings of the last session that recorded here (applied at process exit).
        self.settings: Settings | None = None

    # -- checks -------------------------------------------------------------------------------

    def watcher(self) -> GitWatcher:
        dirty = self.info.dirty_dirs
        if self._watcher is None or self._watcher_dirty != dirty:
            self._watcher = GitWatcher(self.info.root, dirty)
            self._watcher_dirty = dirty
        return self._watcher

    def check(self, task: Task, settings: Settings) -> GitState:
        require_database(self.info)
        return self.watcher().check(settings.git_check_interval, fields.module_file(task))

    # -- journal ------------------------------------------------------------------------------

    def journal(self) -> Journal:
        journal = self._journal
        if journal is not None and journal.pid != os.getpid():
            # A forked child: the parent's journal, records and lock stay the parent's.
            if journal.fd is not None:
                os.close(journal.fd)
            journal = None
            self.pending, self.running, self._ctx = [], 0, None
        if journal is None:
            timeout = (self.settings or config.settings).lease_timeout
            journal = Journal(journal_dir(self.info.root), timeout)
            self._journal = journal
            _register_exit()
        return journal

    def _context_id(self, state: GitState, roots: tuple[Path, Path]) -> int:
        """Id of the journal's `ctx` line for the current context (written when it changes)."""
        cwd = os.getcwd()
        input_root, output_root = str(roots[0]), str(roots[1])
        deps = _DEPENDENCIES.current()  # the same list object until new packages are imported
        key = (state, cwd, output_root, input_root, id(deps))
        if self._ctx is not None and self._ctx[0] == key:
            return self._ctx[1]
        watcher = self.watcher()
        ctx = {
            "executable": executable(),
            "repository": {"url": str(state.root), "upstream": watcher.upstream},
            "version": state.commit,
            "diff": state.diff,
            "user": watcher.user,
            "launch_mode": {"working_directory": cwd},
            "datastore": output_root,
            "input_datastore": input_root,
            "platforms": [platform_info()],
            "dependencies": deps,
        }
        ctx_id = self._next_ctx
        self._next_ctx += 1
        self.journal().append({"kind": "ctx", "id": ctx_id, **ctx}, sync=False)
        self._ctx = (key, ctx_id)
        self._ctx_fields = ctx
        return ctx_id

    # -- records ------------------------------------------------------------------------------

    def begin(
        self,
        task: Task,
        reason: str | None,
        settings: Settings,
        roots: tuple[Path, Path],
        resumed_from: Task | None = None,
    ) -> RecordHandle:
        extra_tags = fields.attempt_tags()
        with self.lock:
            state = self.check(task, settings)
            self.settings = settings
            journal = self.journal()
            ctx_id = self._context_id(state, roots)
            ctx = self._ctx_fields
            second, timestamp = utc_now()
            record: dict[str, Any] = {
                "label": fields.new_label(task.name, second),
                "timestamp": timestamp,
                "reason": reason or "",
                "main_file": fields.main_file(fields.module_file(task), state.root),
                "script_arguments": task.taskname,
                "parameters": task.desc,
                "input_data": fields.input_keys(
                    task, ctx["input_datastore"], ctx["datastore"], resumed_from
                ),
                "tags": [fields.RUNNING, *extra_tags],
                "outcome": "",
                "duration": None,
                "output_data": [],
                "stdout_stderr": "",
                "repeats": None,
            }
            journal.append({"kind": "begin", "ctx": ctx_id, **record}, sync=False)
            self.running += 1
        capture = Capture().start() if settings.capture_output else None
        return RecordHandle(self, {**ctx, **record}, capture, settings, extra_tags)

    def end(self, record: dict[str, Any], end: dict[str, Any], settings: Settings) -> None:
        with self.lock:
            self.running -= 1
            self.journal().append(
                {"kind": "end", "label": record["label"], **end},
                sync=settings.fsync,
                defer=not settings.durable_calls,
            )
            record.update(end)
            self.pending.append(record)
            self.last_label = record["label"]
            due = settings.flush_records and (
                len(self.pending) >= settings.flush_every
                or time.monotonic() - self.last_flush >= settings.flush_interval
            )
        if due and not self.leave_to_mover(batch=True):
            self.flush(quiet=True)

    def leave_to_mover(self, *, batch: bool = False) -> bool:
        """Leave the finished records to a detached mover (see ``handoff``) while this
        process has not loaded the record store, so that the run goes on without its import
        and writes; False when they are to be stored here (see ``handoff.leave_to_mover``).
        A long session (a notebook recording a task now and then) leaves only its first
        `MOVED_BATCHES` batches so: a mover costs about a second of CPU, and once the store
        is loaded here every later batch is cheap."""
        from .handoff import leave_to_mover

        if batch and self.moved_batches >= MOVED_BATCHES:
            return False
        try:
            given = leave_to_mover(self)
        except Exception as exc:  # stored here instead
            log.warning("Could not leave the records to another process: %s", exc)
            return False
        if given:
            self.last_flush = time.monotonic()
            self.moved_batches += batch
        return given

    def flush(self, *, quiet: bool = False) -> int:
        """Move the finished records into the record store; return how many moved."""
        with self.lock:
            batch = list(self.pending)
            if not batch:
                self.last_flush = time.monotonic()
                return 0
            try:
                from .store import backend

                backend(self.info).write(batch)
            except Exception as exc:
                if not quiet:
                    raise
                warnings.warn(_unflushed(self, exc), RecordingWarning, stacklevel=2)
                self.last_flush = time.monotonic()  # retry after another interval
                return 0
            del self.pending[: len(batch)]
            labels = [r["label"] for r in batch]
            self.journal().append({"kind": "flushed", "labels": labels}, sync=False)
            self.last_flush = time.monotonic()
            return len(batch)

    def close(self) -> None:
        """At exit: move what is pending (if configured), then drop the journal if empty."""
        journal = self._journal
        if journal is None or journal.pid != os.getpid():
            return
        flush = self.settings.flush_records if self.settings is not None else True
        if flush and self.pending:
            if self.leave_to_mover():
                return  # the journal is the mover's now
            try:
                self.flush()
            except Exception as exc:
                log.warning(_unflushed(self, exc))
        journal.close(delete=not self.pending and not self.running)


def _unflushed(rec: ProjectRecorder, exc: BaseException) -> str:
    return (
        f"{len(rec.pending)} record(s) could not be moved into the record store "
        f"{rec.info.shown_store} yet: {type(exc).__name__}: {exc}. They are safe in "
        f"{journal_dir(rec.info.root)} and move on the next try, or with `smttask store flush`."
    )


class RecordHandle:
    """The record of one running task (``hooks.RecordHandle``)."""

    def __init__(
        self,
        owner: ProjectRecorder,
        record: dict[str, Any],
        capture: Capture | None,
        settings: Settings,
        extra_tags: list[str] | None = None,
    ) -> None:
        self.owner = owner
        self.record = record
        self.capture = capture
        self.settings = settings
        self.extra_tags = list(extra_tags or ())  # kept beside the status tag (the attempt)
        self.start = time.perf_counter()

    def _stop(self) -> tuple[float, str]:
        duration = time.perf_counter() - self.start
        return duration, self.capture.stop() if self.capture is not None else ""

    def finished(self, outputs: Mapping[str, Path], outcome: str) -> None:
        duration, text = self._stop()
        end = {
            "tags": [fields.FINISHED, *self.extra_tags],
            "duration": duration,
            "outcome": outcome or "",
            "output_data": fields.output_keys(outputs, self.record["datastore"]),
            "stdout_stderr": text,
        }
        self.owner.end(self.record, end, self.settings)

    def crashed(self, error: BaseException) -> None:
        duration, text = self._stop()
        original = error.__cause__ if error.__cause__ is not None else error
        trace = "".join(traceback.format_exception(original))
        killed = isinstance(error, KeyboardInterrupt | SystemExit)
        end = {
            "tags": [fields.KILLED if killed else fields.CRASHED, *self.extra_tags],
            "duration": duration,
            "outcome": fields.error_text(error),
            "stdout_stderr": f"{text}{'' if not text or text.endswith(chr(10)) else chr(10)}{trace}",
        }
        try:
            self.owner.end(self.record, end, self.settings)
        except RecordingError as exc:  # never hide the task's own error
            log.warning("The record of a failed task could not be written: %s", exc)


class SumatraRecorder:
    """This process's recording state: one ``ProjectRecorder`` per project folder."""

    def __init__(self) -> None:
        self.projects: dict[Path, ProjectRecorder] = {}
        self._warned: set[Path] = set()
        self._lock = threading.Lock()

    def for_root(self, root: Path) -> ProjectRecorder | None:
        """The recorder of the project in `root` (None, with a warning once, if there is none)."""
        info = find_project(root)
        if info is None:
            if root not in self._warned:
                self._warned.add(root)
                log.warning(
                    "Runs are not recorded: no Sumatra project in %s. Run `smttask project "
                    "init` there to record them (or set smttask.config.settings.record = "
                    "False to silence this message).",
                    root,
                )
            return None
        with self._lock:
            rec = self.projects.get(root)
            if rec is None:
                rec = self.projects[root] = ProjectRecorder(info)
            rec.info = info
            return rec

    def session_recorder(
        self, root: Path, settings: Settings, roots: tuple[Path, Path]
    ) -> SessionRecorder:
        """The recorder of a session in the project folder `root`."""
        return SessionRecorder(self, root, settings, roots)

    def close(self) -> None:
        for rec in list(self.projects.values()):
            rec.close()
        fileio.sync()  # a sync point: the journal lines written since the last one


class SessionRecorder:
    """The ``hooks.Recorder`` of one session: its project folder, settings and data stores.

    The project is looked up once per run (a few ``stat`` calls: the project files are read
    again only when they change), so a project created or reconfigured while a session lives
    is seen by its next run."""

    def __init__(
        self, owner: SumatraRecorder, root: Path, settings: Settings, roots: tuple[Path, Path]
    ) -> None:
        self.owner, self.root, self.settings, self.roots = owner, root, settings, roots

    def project(self) -> ProjectRecorder | None:
        return self.owner.for_root(self.root)

    def guard(self, task: Task) -> None:
        rec = self.project()
        if rec is not None:
            rec.check(task, self.settings)

    def begin(
        self, task: Task, *, reason: str | None, resumed_from: Task | None = None
    ) -> hooks.RecordHandle:
        rec = self.project()
        if rec is None:
            return hooks.NO_RECORDER.begin(task, reason=reason)
        return rec.begin(task, reason, self.settings, self.roots, resumed_from)


RECORDER = SumatraRecorder()

_registered = False


def _register_exit() -> None:
    global _registered
    if not _registered:
        _registered = True
        # Imported now: at exit, importing it (Django does) would fail ("can't register atexit
        # after shutdown").
        import concurrent.futures.thread  # noqa: F401

        atexit.register(RECORDER.close)
