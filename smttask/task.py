"""``Task``: the base class users see, a task node plus where its files and results live.

The node (``smttask.node``) knows identity, inputs and calling the function; the file format
(``smttask.taskfile``) knows task files and sees tasks only as nodes; the output store is
reached through ``smttask.hooks``. ``Task`` joins them, so ``task.desc``, ``task.save(folder)``
and ``Task.from_desc(path)`` need no import back from the file format. The task kinds
(``smttask.kinds``) derive from ``Task``.

The layers above the core import tasks from here (or from ``smttask``): this module also
re-exports the node-level names they use.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, cast

from . import hooks, runlog, taskfile
from .errors import ConfigError, OutputError
from .node import (
    _MISSING,
    PartialTask,
    TaskNode,
    clear_memory_cache,
    current_task,
    is_task,
    memory_cache,
    task_logger,
)
from .taskoutput import OutputDir

__all__ = [
    "OutputDir",
    "PartialTask",
    "Task",
    "clear_memory_cache",
    "current_task",
    "is_task",
    "memory_cache",
    "task_logger",
]


class Task(TaskNode):
    """Base of all tasks. Use a kind (``RecordedTask``...) as decorator to create task types."""

    _is_kind: ClassVar[bool] = True
    _is_base: ClassVar[bool] = True
    #: Whether results are stored on disk (and their executions recorded).
    recorded: ClassVar[bool] = False

    def upstream(self) -> list[Task]:
        """The tasks this task's inputs depend on directly (in input order, deduplicated)."""
        return cast(
            "list[Task]", super().upstream()
        )  # every task kind derives from Task (see TaskNode)

    # -- running --------------------------------------------------------------------------------

    def run(
        self,
        *,
        recompute: bool = False,
        reason: str | None = None,
        record: bool | None = None,
        cache: bool | None = None,
        progress: bool | None = None,
    ) -> Any:
        """Compute the result, or load it if it exists; return it.

        `recompute`: compute it again even if a result exists (recorded tasks write new
        numbered files). `reason`: why it runs, stored in the record. `record=False`: run this
        call (and the upstream tasks it runs) without records, as ``smttask run --no-record``
        does. `cache`: keep the result in memory or not, overriding the decorator's
        ``cache=`` for this call. `progress`: show progress while the task and its upstream
        tasks run (None: the setting ``smttask.config.settings.progress``; only on a terminal
        or in Jupyter). Each task also gets one INFO line on the ``smttask`` logger (see
        ``smttask.runlog``).
        """
        session = _session_for(self, record)
        if session is not hooks.entered():  # (then the task's own look-ups find it at once)
            with hooks.using(session):
                return self.run(recompute=recompute, reason=reason, cache=cache, progress=progress)
        return runlog.run_task(
            self, lambda: self._run(recompute=recompute, reason=reason, cache=cache), progress
        )

    @abc.abstractmethod
    def _run(
        self, *, recompute: bool, reason: str | None, cache: bool | None = None
    ) -> tuple[Any, str]:
        """What a kind does on `run()`: return the result and how it was obtained,
        ``"computed"``, ``"disk"`` (loaded) or ``"memory"``. `cache`: as in `run`."""

    # -- results --------------------------------------------------------------------------------

    def get_output(self, name: str | None = None) -> Any:
        """The result (or one named output) if it was already computed. Never computes.

        A value of a variable output (``smttask.typing``) is an output of its own
        (``"<output>_<name>"``); a recorded task reads one output from its file alone."""
        if name is not None and self.recorded and name not in self._spec.output.names:
            value = hooks.current().outputs.load_output(self, name)  # refuses unknown names
            if value is None:
                raise OutputError(
                    f"{self!r} has not been computed yet (digest {self.key}): no output "
                    f"{name!r} is on disk. Call .run() to compute it."
                )
            return value
        result = memory_cache.get(self.key, _MISSING)
        if result is _MISSING and self.recorded:
            loaded = hooks.current().outputs.load(self)
            result = _MISSING if loaded is None else loaded
        if result is _MISSING:
            raise OutputError(
                f"{self!r} has not been computed yet (digest {self.key}). Call .run() to "
                f"compute it; get_output() only returns existing results."
            )
        if name is None:
            return result
        names = self._spec.output.names
        if name not in names:
            raise OutputError(
                f"{self._spec.name} has no output named {name!r}; its outputs are {list(names)}."
            )
        return self._spec.output.split(result)[name]

    @property
    def output_paths(self) -> Mapping[str, Path]:
        """Where each output is (or will be) read from."""
        return hooks.current().outputs.paths(self)

    def explain(self) -> Any:
        """What running this task would do, for it and every task it needs: compute or load,
        and why (an ``smttask.explain.Explanation``; print it, or ``.as_dict()`` for JSON).
        ``smttask explain`` does the same from the command line."""
        return hooks.explain(self)

    # -- task files -----------------------------------------------------------------------------

    @property
    def desc(self) -> dict[str, Any]:
        """Self-contained, JSON-compatible description of this task (upstream tasks embedded)."""
        return taskfile.describe(self)

    def save(self, path: str | Path) -> Path:
        """Write the task description JSON into folder `path` (or to file `path` if *.json)."""
        return taskfile.save(self, path)

    @staticmethod
    def from_desc(source: Mapping[str, Any] | str | Path, *, check_digest: bool = True) -> Task:
        """Rebuild a task from a description: a dict, JSON text, or a path to a task file."""
        task = taskfile.load(source, check_digest=check_digest)
        return cast(Task, task)  # every task kind derives from Task (see TaskNode)


def _session_for(task: Task, record: bool | None) -> hooks.Session:
    """The session a ``run(record=...)`` call runs in: the current one, or the same without
    its recorder (``record=False``)."""
    session = hooks.current()
    if record is None or record == (session.recorder is not hooks.NO_RECORDER):
        return session
    if record is False:
        return dataclasses.replace(session, recorder=hooks.NO_RECORDER)
    raise ConfigError(
        f"{task!r}.run(record=True): recording is off in this session (setting "
        f"smttask.config.settings.record is False, or smttask run --no-record). Switch it on "
        f"(smttask.config.settings.record = True) to record this run."
    )
