"""Find the tasks a command-line target names.

A target is one of

* ``path/to/file.py:NAME`` or ``package.module:NAME``: attribute NAME of that module, a task or
  a (nested) list, tuple, set or dict of tasks;
* ``task.json``: a task description file;
* a folder: every task description file under it (``*.json``, recursively).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import config
from .errors import TaskFileError
from .runner import collect_task_files
from .task import Task
from .trust import import_failure


def load_targets(targets: Iterable[str]) -> list[Task]:
    """The tasks named by `targets`, in order, without duplicates."""
    found: dict[str, Task] = {}
    for target in targets:
        for task in _load(target):
            found.setdefault(task.key, task)
    return list(found.values())


def _load(target: str) -> list[Task]:
    source, sep, attr = target.rpartition(":")
    if sep and attr.isidentifier() and not Path(target).exists():
        return _from_module(target, source, attr)
    path = Path(target)
    if path.suffix == ".py":
        raise TaskFileError(
            f"Target {target} is a Python file: name the variable holding the tasks, e.g. "
            f"{target}:tasks."
        )
    return [Task.from_desc(f) for f in collect_task_files([path])]


def _from_module(target: str, source: str, attr: str) -> list[Task]:
    root = config.project_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    name = _module_name(source, root)
    try:
        module = importlib.import_module(name)
    except Exception as exc:
        raise import_failure(name, exc, f"Target {target}") from exc
    if not hasattr(module, attr):
        raise TaskFileError(
            f"Target {target}: module {module.__name__} has no attribute {attr!r}. Names it "
            f"defines: {', '.join(n for n in vars(module) if not n.startswith('_'))[:300]}."
        )
    tasks = list(_flatten(getattr(module, attr), target))
    if not tasks:
        raise TaskFileError(f"Target {target} holds no task: it is empty.")
    return tasks


def _module_name(source: str, root: Path) -> str:
    if not (source.endswith(".py") or "/" in source):
        return source
    path = Path(source).resolve()
    if not path.is_file():
        raise TaskFileError(f"Target file {source} does not exist. Check the path.")
    try:
        parts = path.with_suffix("").relative_to(root).parts
    except ValueError:
        raise TaskFileError(
            f"Target file {source} lies outside the project folder {root}. Jobs import it "
            f"from the project folder: move it into the project."
        ) from None
    if not all(p.isidentifier() for p in parts):
        raise TaskFileError(
            f"Target file {source} cannot be imported as a module: {'/'.join(parts)} is not a "
            f"dotted Python name (folders and file names must be identifiers). Rename it."
        )
    return ".".join(parts)


def _flatten(value: Any, target: str) -> Iterable[Task]:
    if isinstance(value, Task):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _flatten(v, target)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _flatten(v, target)
    elif isinstance(value, type) and issubclass(value, Task):
        raise TaskFileError(
            f"Target {target} is the task type {value.__name__}, not a task: export tasks made "
            f"by calling it, e.g. tasks = [{value.__name__}(...), ...]."
        )
    else:
        raise TaskFileError(
            f"Target {target} holds {type(value).__name__} {value!r:.80}, not a task. It must "
            f"be a task or a list, tuple, set or dict of tasks."
        )
