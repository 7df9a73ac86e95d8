"""What a session's run of tasks tells the user: one log line per task, and progress.

The outermost ``task.run()`` of a session (or ``run_workflow``) opens a ``RunLog``; the
upstream tasks it runs report to the same one. Each task finished gets one INFO line on the
``smttask`` logger: how its result was obtained (computed, loaded from disk, from memory),
its label (``smttask.labels``) and the time it took itself (upstream tasks not counted)::

    INFO smttask: computed simulate(tau=0.5, seed=3) in 0.21 s

The progress display comes from the layer above (``hooks.progress_display``): a bar on a
terminal, a line of text in Jupyter, nothing when the output is not interactive. It appears
only for runs of more than one task. When neither the log line nor a display would be seen,
no ``RunLog`` is made and running costs nothing more.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from . import hooks
from .labels import task_labels
from .node import TaskNode

logger = logging.getLogger("smttask")

#: How a result was obtained, as the log line says it.
SOURCES = {"computed": "computed", "disk": "loaded from disk", "memory": "from memory"}


class RunLog:
    """The tasks of one run: their labels, what became of them, and the display."""

    def __init__(self, title: str, display: hooks.Progress | None) -> None:
        self.title = title
        self.display = display
        self.tasks: dict[str, TaskNode] = {}  # every task planned, upstream first
        self.labels: dict[str, str] = {}
        self.done: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.start = time.perf_counter()
        self._stack: list[list[float]] = []  # [start, seconds spent in upstream tasks]

    def plan(self, task: TaskNode) -> None:
        """Count `task` and its upstream tasks among the run's tasks."""
        new = [t for t in _graph(task) if t.key not in self.tasks]
        if new:
            for t in new:
                self.tasks[t.key] = t
            # Only the labels of the task types that gained tasks can change.
            types = {t.taskname for t in new}
            group = [t for t in self.tasks.values() if t.taskname in types]
            self.labels.update(task_labels(group, self.labels))

    def label(self, task: TaskNode) -> str:
        return self.labels.get(task.key, task.name)

    def timed(self, task: TaskNode, run: Callable[[], tuple[Any, str]]) -> Any:
        """Run `task` (`run` returns its result and how it was obtained) and report it."""
        if task.key not in self.tasks:
            self.plan(task)
        frame = [time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            result, source = run()
        finally:
            self._stack.pop()
            elapsed = time.perf_counter() - frame[0]
            if self._stack:
                self._stack[-1][1] += elapsed
        self.finished(task, source, elapsed - frame[1], last=not self._stack)
        return result

    def finished(self, task: TaskNode, source: str, seconds: float, last: bool = False) -> None:
        """`task` is done; `last`: it is the run's outermost task (the run ends)."""
        label = self.label(task)
        logger.info("%s %s in %.2f s", SOURCES.get(source, source), label, seconds)
        if task.key not in self.done:
            self.done.add(task.key)
            self.counts[source] += 1
        if self.display is not None and not (last and len(self.done) == 1):
            # (a run that only loaded its outermost task shows nothing)
            self.display.update(len(self.done), max(len(self.tasks), len(self.done)), label)

    def summary(self) -> str:
        parts = [f"{self.counts[s]} {SOURCES[s]}" for s in SOURCES if self.counts[s]]
        seconds = time.perf_counter() - self.start
        n = len(self.done)
        return f"{n} task{'s' if n != 1 else ''}: {', '.join(parts) or 'none'} ({seconds:.1f} s)"

    def close(self) -> None:
        if self.display is not None:
            self.display.close(self.summary())


def _graph(task: TaskNode) -> list[TaskNode]:
    """`task` and every task upstream of it, upstream first (each once)."""
    order: list[TaskNode] = []
    seen: set[int] = set()
    stack: list[tuple[TaskNode, bool]] = [(task, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((up, False) for up in reversed(node.upstream()) if id(up) not in seen)
    return order


#: Inside a run that reports nothing: its upstream tasks report nothing either.
_QUIET = "quiet"
_active: ContextVar[RunLog | str | None] = ContextVar("smttask_runlog", default=None)


def active() -> RunLog | None:
    log = _active.get()
    return log if isinstance(log, RunLog) else None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    token = _active.set(_QUIET)
    try:
        yield
    finally:
        _active.reset(token)


def open_log(title: str, progress: bool | None) -> RunLog | None:
    """A log for a new run, or None if nothing it says would be seen. `progress`: show
    progress (None: if the session's setting says so)."""
    display = None
    if progress is not False:  # ask the display first: usually None (not interactive), cheap
        display = hooks.progress_display(title)
        if display is not None and progress is None and not hooks.current().settings.progress:
            display = None
    if display is None and not logger.isEnabledFor(logging.INFO):
        return None
    return RunLog(title, display)


@contextlib.contextmanager
def activate(log: RunLog) -> Iterator[RunLog]:
    token = _active.set(log)
    try:
        yield log
    finally:
        _active.reset(token)
        log.close()


@contextlib.contextmanager
def progress_of(title: str, show: bool | None = None) -> Iterator[RunLog | None]:
    """Report every task run in the block as one run titled `title` (e.g. a workflow).
    `show`: whether to show progress (None: the session's setting)."""
    if _active.get() is not None:
        yield active()
        return
    log = open_log(title, show)
    if log is None:
        with _quiet():
            yield None
        return
    with activate(log):
        yield log


def run_task(task: TaskNode, run: Callable[[], tuple[Any, str]], progress: bool | None) -> Any:
    """`task.run()`: report to the active log, or open one if this is the outermost run."""
    current = _active.get()
    if current is not None:
        return run()[0] if current is _QUIET else current.timed(task, run)  # type: ignore[union-attr]
    log = open_log(task.name, progress)
    if log is None:  # the hot path (a script, a batch job): nothing to say, nothing to show
        token = _active.set(_QUIET)
        try:
            return run()[0]
        finally:
            _active.reset(token)
    with activate(log):
        return log.timed(task, run)


__all__ = ["RunLog", "active", "logger", "progress_of", "run_task"]
