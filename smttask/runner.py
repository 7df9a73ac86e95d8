"""Run task description files, one process or N at a time.

Every file runs independently: a failing task never stops the others. The caller gets one
``Outcome`` per file, in the order given, and can follow progress through a callback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import config, fileio, hooks
from .errors import ConfigError, RunningElsewhereError, SmttaskError, TaskFileError
from .recording.fields import ATTEMPT_ENV
from .session import open_session
from .task import Task

if TYPE_CHECKING:
    from concurrent.futures import Future

#: Environment variable holding the worker's process number (1..N) in `run_files`.
PROCESS_NUM_ENV = config.PROCESS_NUM_ENV

TASKFILE_SUFFIX = ".json"


@dataclass(frozen=True)
class Outcome:
    path: Path
    status: str  # "ran" | "loaded" | "elsewhere" (another process computes it) | "failed"
    task: str = ""  # task name, when the file could be read
    message: str = ""  # failure message
    seconds: float = 0.0
    detail: str = ""  # traceback of a failure (for -v)
    record: str = ""  # label of the task's record, when it ran and was recorded

    @property
    def ok(self) -> bool:
        return self.status not in ("failed", "elsewhere")


@dataclass(frozen=True)
class RunOptions:
    recompute: bool = False
    record: bool = True
    reason: str | None = None
    clean: bool = False  # delete a task file once its task succeeded
    attempt: int | None = None  # which attempt this run is (a retried job): in the records
    #: Modules every process imports before reading task files (e.g. ones registering
    #: output formats or scityping types).
    imports: tuple[str, ...] = ()
    #: With worker processes: seconds between the start of one worker's first task and the
    #: next one's (staggers the first accesses to shared resources).
    start_spacing: float = 0.0
    #: A task another live process is computing: wait for its result and load it (True), or
    #: give up on its task file at once with the outcome "elsewhere" (False).
    wait_elsewhere: bool = True

    def session(self) -> hooks.Session:
        """A session for these options, with ``smttask.config.settings`` for the rest."""
        settings = config.settings
        if settings.record != self.record:
            settings = dataclasses.replace(settings, record=self.record)
        if not self.wait_elsewhere and settings.wait_for_leases:
            settings = dataclasses.replace(settings, wait_for_leases=False)
        return open_session(settings=settings)


#: Called with the exception of a task that failed, before the run goes on (e.g. a debugger).
OnError = Callable[[BaseException], None]


def collect_task_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders (recursively, ``*.json``) into a sorted, de-duplicated list;
    a path that does not exist is refused (TaskFileError)."""
    found, missing = find_task_files(paths)
    if missing:
        raise TaskFileError(missing_message(missing[0]))
    return found


def find_task_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """(the task files of `paths`, as `collect_task_files` finds them; the paths of `paths`
    that do not exist), so that a run can report the missing ones and run the others."""
    found: dict[Path, None] = {}
    missing: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for f in sorted(path.rglob(f"*{TASKFILE_SUFFIX}")):
                if f.is_file() and not f.name.startswith("."):
                    found.setdefault(f, None)
        elif path.exists() or path.is_symlink():  # a dangling link is reported when read
            found.setdefault(path, None)
        else:
            missing.append(path)
    return list(found), missing


def missing_message(path: Path) -> str:
    return f"No such task file or folder: {path}. Check the path."


def missing_outcome(path: Path) -> Outcome:
    """The outcome of a task file that is not there."""
    return Outcome(path, "failed", message=missing_message(path))


def run_file(
    path: Path,
    options: RunOptions = RunOptions(),
    *,
    session: hooks.Session | None = None,
    on_error: OnError | None = None,
) -> Outcome:
    """Load and run one task file in this process (in `session`, else one made for
    `options`); `on_error` sees a failure's exception before it becomes an Outcome."""
    start = time.perf_counter()
    name = ""
    try:
        with hooks.using(session or options.session()) as current:
            task = Task.from_desc(path)
            name = task.name
            task.run(recompute=options.recompute, reason=options.reason, progress=False)
        status = "ran" if task.computed else "loaded"
        if options.clean:
            path.unlink(missing_ok=True)
        recorded = task.computed and current.recorder is not hooks.NO_RECORDER
        label = _record_label(current.root) if recorded else ""
        return Outcome(path, status, name, seconds=time.perf_counter() - start, record=label)
    except RunningElsewhereError as exc:
        return Outcome(path, "elsewhere", name, str(exc), time.perf_counter() - start)
    except Exception as exc:
        if on_error is not None:
            on_error(exc)
        message = str(exc) if isinstance(exc, SmttaskError) else f"{type(exc).__name__}: {exc}"
        return _failure(path, name, message, exc, start)  # a bug in smttask too: keep going


def _failure(path: Path, name: str, message: str, exc: BaseException, start: float) -> Outcome:
    detail = "".join(traceback.format_exception(exc))
    return Outcome(path, "failed", name, message, time.perf_counter() - start, detail)


def run_files(
    files: Sequence[Path],
    options: RunOptions = RunOptions(),
    *,
    cores: int = 1,
    on_done: Callable[[Outcome], None] | None = None,
    on_error: OnError | None = None,
    detach: bool = False,
) -> list[Outcome]:
    """Run `files` with `cores` worker processes (1: in this process); return their outcomes.

    One session for the whole run (one per worker process). With recording, the records of
    every process (workers included) are in the record store when this returns (unless the
    setting ``flush_records`` is off: then they wait in journals for the next command that
    opens the store). With `detach`, a detached process started here moves them instead, if
    this process has not loaded the record store yet (``smttask run``: the process ends
    without importing Sumatra; the records are in the journal, and every smttask command
    that reads the store waits for that process). `on_error` (only with one process) sees
    each failure's exception. With ``options.attempt``, every record gets the tag
    ``attempt:<n>``.
    """
    if options.attempt is not None:
        with _attempt(options.attempt):
            return run_files(
                files,
                dataclasses.replace(options, attempt=None),
                cores=cores,
                on_done=on_done,
                on_error=on_error,
                detach=detach,
            )
    import_modules(options.imports)
    session = options.session()
    if cores <= 1 or len(files) <= 1:
        outcomes = []
        os.environ.setdefault(PROCESS_NUM_ENV, "1")
        for f in files:
            outcome = run_file(f, options, session=session, on_error=on_error)
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    else:
        if options.record:
            _prepare_store(session.root)
        outcomes = _run_parallel(files, options, min(cores, len(files)), on_done)
    if options.record and session.settings.flush_records:
        store_records(session.root, detach=detach and (cores <= 1 or len(files) <= 1))
    # A sync point: the results and records written by this run reach the disk (a worker's
    # files too: a file system is synced whole).
    settings = session.settings
    batched = settings.fsync and not settings.durable_calls and cores > 1
    ran = batched and any(o.status == "ran" for o in outcomes)
    fileio.sync(*((session.root, *session.data_roots) if ran else ()))
    return outcomes


def import_modules(names: Iterable[str]) -> None:
    """Import the modules `names` (from the project folder or installed packages)."""
    import importlib
    import sys

    root = str(config.project_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(
                f"Cannot import module {name!r} (asked for with --import): {exc}. Give a module "
                f"importable from the project folder {root} or an installed package."
            ) from None


@contextlib.contextmanager
def _attempt(number: int) -> Iterator[None]:
    """Name the attempt in the environment, where the recorder (and worker processes) read it."""
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise SmttaskError(f"An attempt is numbered 1, 2, ..., not {number!r}.")
    before = os.environ.get(ATTEMPT_ENV)
    os.environ[ATTEMPT_ENV] = str(number)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ATTEMPT_ENV, None)
        else:
            os.environ[ATTEMPT_ENV] = before


def _record_label(root: Path) -> str:
    from .recording import last_label

    return last_label(root)


def _prepare_store(root: Path) -> None:
    """Create the record store's tables before starting workers (they must not race)."""
    from .recording import prepare_store

    try:
        prepare_store(root)
    except SmttaskError as exc:  # the records wait in journals; the tasks can still run
        warnings.warn(f"The record store is not usable yet: {exc}", stacklevel=3)


def store_records(root: Path, *, detach: bool = False) -> None:
    """Move the records of this run (and of its worker processes) into the record store
    (with `detach`, this process's records only, by a detached process: see
    ``recording.handoff``)."""
    from .recording import find_project, flush

    if find_project(root) is None:
        return
    if detach:
        from .recording.handoff import store_later

        try:
            if store_later(root):
                return
        except Exception as exc:  # stored here instead (below)
            warnings.warn(f"Could not leave the records to another process: {exc}", stacklevel=2)
    try:
        report = flush(root, strict=False)
    except Exception as exc:  # the records are safe in their journals
        warnings.warn(f"The records stay in their journals for now: {exc}", stacklevel=2)
        return
    for error in report.errors:
        warnings.warn(f"Some records stay in their journal for now: {error}", stacklevel=2)


def _run_parallel(
    files: Sequence[Path],
    options: RunOptions,
    cores: int,
    on_done: Callable[[Outcome], None] | None,
) -> list[Outcome]:
    import multiprocessing  # (with the process pool: only a run with workers needs them)
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("spawn")  # no inherited locks or database connections
    counter = ctx.Value("i", 0)
    results: dict[Path, Outcome] = {}
    with ProcessPoolExecutor(
        max_workers=cores, mp_context=ctx, initializer=_init_worker, initargs=(counter, os.getcwd())
    ) as pool:
        pending: dict[Future[Outcome], Path] = {
            pool.submit(_run_in_worker, f, options): f for f in files
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                path = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker process died (killed, out of memory)
                    outcome = Outcome(path, "failed", message=f"worker process died: {exc}")
                results[path] = outcome
                if on_done:
                    on_done(outcome)
    return [results[f] for f in files]


_worker_session: hooks.Session | None = None


def _init_worker(counter: object, cwd: str) -> None:
    with counter.get_lock():  # type: ignore[attr-defined]
        counter.value += 1  # type: ignore[attr-defined]
        number = counter.value  # type: ignore[attr-defined]
    os.environ[PROCESS_NUM_ENV] = str(number)
    os.chdir(cwd)
    root = str(config.project_root())
    import sys

    if root not in sys.path:
        sys.path.insert(0, root)


def _run_in_worker(path: Path, options: RunOptions) -> Outcome:
    """`run_file` in a worker process, with one session for all the files it runs."""
    global _worker_session
    if _worker_session is None:
        import_modules(options.imports)
        if options.start_spacing > 0:  # worker n starts its first task (n-1) spacings late
            time.sleep((config.get_process_number() - 1) * options.start_spacing)
        _worker_session = options.session()
    return run_file(path, options, session=_worker_session)
