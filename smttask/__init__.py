"""smttask: reproducible, cached, recorded tasks for computational science.

>>> from smttask import RecordedTask
>>> @RecordedTask
... def square(x: float) -> float:
...     return x * x
"""

from typing import TYPE_CHECKING

from . import config, hooks
from .errors import (
    ConfigError,
    DirtyRepositoryError,
    OutputError,
    ParamError,
    RecordingError,
    SerializationError,
    SmttaskError,
    TaskDefinitionError,
    TaskExecutionError,
    TaskFileError,
    TaskInputError,
    WorkflowError,
)
from .generators import Create, Join
from .kinds import MemoizedTask, RecordedIterativeTask, RecordedTask, UnpureMemoizedTask
from .progress import display as _progress_display
from .session import default_session, open_session  # Sumatra and Django only when storing
from .session import prepare_default_session as _prepare_default_session
from .task import Task, clear_memory_cache, current_task, task_logger
from .taskoutput import OutputDir, TaskOutput

if TYPE_CHECKING:
    from .storage import FileOutputStore

__version__ = "0.1.0.dev0"

hooks.set_session_factory(default_session, _prepare_default_session)
hooks.set_progress_factory(_progress_display)


def _explain(task: Task) -> object:
    from .explain import explain  # lazy: networkx and the record store only when asked

    return explain(task)


hooks.set_explainer(_explain)


#: Parameter sweeps need numpy and scityping: imported on first use.
_PARAMS = frozenset({"ParamColl", "SeedGenerator", "expand", "run_workflow", "workflow_args"})


def __getattr__(name: str) -> object:
    if name in _PARAMS:
        from . import params

        return getattr(params, name)
    # Lazy: importing smttask must not import networkx and jinja2.
    if name == "export_snakemake":
        from .export import export_snakemake

        return export_snakemake
    if name == "sync":  # a sync point: results and records written so far reach the disk
        from .fileio import sync

        return sync
    if name == "FileOutputStore":  # lazy: storage is imported when a task type is defined
        from .storage import FileOutputStore

        return FileOutputStore
    if name == "RSView":  # lazy: Django and pandas only when records are browsed
        from .view import RSView

        return RSView
    raise AttributeError(f"module 'smttask' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "Create",
    "DirtyRepositoryError",
    "FileOutputStore",
    "Join",
    "MemoizedTask",
    "OutputDir",
    "OutputError",
    "ParamColl",
    "ParamError",
    "RSView",
    "RecordedIterativeTask",
    "RecordedTask",
    "RecordingError",
    "SeedGenerator",
    "SerializationError",
    "SmttaskError",
    "Task",
    "TaskDefinitionError",
    "TaskExecutionError",
    "TaskFileError",
    "TaskInputError",
    "TaskOutput",
    "UnpureMemoizedTask",
    "WorkflowError",
    "clear_memory_cache",
    "config",
    "current_task",
    "expand",
    "export_snakemake",
    "hooks",
    "open_session",
    "run_workflow",
    "sync",
    "task_logger",
    "workflow_args",
]
