"""Task description files: self-contained, readable, versioned JSON.

::

    {
      "smttask_format": 1,
      "task": "analyze",
      "module": "project.tasks",
      "kind": "RecordedTask",
      "digest": "4c0f1e…",
      "inputs": {"arr": [...scityping encoding...], "dt": 0.5,
                 "upstream": {"smttask_format": 1, "task": "...", ...}}
    }

Upstream tasks are embedded where they appear in the inputs. Loading a description imports
the task's module (and those of embedded tasks) and nothing else.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import config, serialization
from .errors import SmttaskError, TaskDefinitionError, TaskFileError, short_repr
from .storage.atomic import write_atomic
from .task import Task

FORMAT_KEY = "smttask_format"
FORMAT_VERSION = 1
_REQUIRED = ("task", "module", "inputs")


def describe(task: Task) -> dict[str, Any]:
    spec = task._spec
    if "<locals>" in spec.qualname or spec.module == "__main__":
        where = (
            "inside a function" if "<locals>" in spec.qualname else "in a script run as __main__"
        )
        raise TaskDefinitionError(
            f"Task {spec.taskname} is defined {where}, so no other process could find it from a "
            f"task description. Define the task function at the top level of an importable "
            f"module (e.g. tasks.py) to save it or run it from files."
        )
    desc: dict[str, Any] = {
        FORMAT_KEY: FORMAT_VERSION,
        "task": spec.qualname,
        "module": spec.module,
        "kind": _kind_name(type(task)),
    }
    if not has_unpure(task):
        desc["digest"] = task.key
    desc["inputs"] = {
        name: serialization.encode(value, hook=_embed) for name, value in task.inputs.items()
    }
    return desc


def _embed(value: Any) -> Any:
    return describe(value) if isinstance(value, Task) else None


def _kind_name(cls: type) -> str:
    for base in cls.__mro__[1:]:
        if base.__dict__.get("_is_kind", False):
            return base.__name__
    return cls.__name__


def has_unpure(task: Task) -> bool:
    """Whether `task` or any task upstream of it is an UnpureMemoizedTask."""
    from .kinds import UnpureMemoizedTask

    stack, seen = [task], set()
    while stack:
        t = stack.pop()
        if isinstance(t, UnpureMemoizedTask):
            return True
        if id(t) not in seen:
            seen.add(id(t))
            stack.extend(t.upstream())
    return False


def default_filename(task: Task) -> str:
    return f"{task.name}__{task.key}.taskdesc.json"


def save(task: Task, path: Path) -> Path:
    if path.suffix != ".json":
        path = path / default_filename(task)
    text = json.dumps(describe(task), indent=2) + "\n"
    write_atomic(path, text.encode(), fsync=config.settings.fsync)
    return path


def load(source: Mapping[str, Any] | str | Path, *, check_digest: bool = True) -> Task:
    origin = "the task description"
    if isinstance(source, Mapping):
        desc: Any = source
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        desc = _parse(source, origin)
    else:
        path = Path(source)
        origin = f"task file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TaskFileError(f"Task file {path} does not exist. Check the path.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TaskFileError(f"Cannot read task file {path}: {exc}.") from None
        desc = _parse(text, origin)
    return _build(desc, origin, check_digest)


def _parse(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "it looks truncated" if exc.pos >= len(text.rstrip()) else "it is not valid JSON"
        raise TaskFileError(
            f"Cannot read {origin}: {hint} ({exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}). Regenerate it with task.save(), or fix the JSON by hand."
        ) from None


def _build(desc: Any, origin: str, check_digest: bool) -> Task:
    if not isinstance(desc, Mapping) or FORMAT_KEY not in desc:
        raise TaskFileError(
            f"{origin} is not a task description: expected a JSON object with a "
            f"{FORMAT_KEY!r} key, got {short_repr(desc)}. Task files are written by task.save()."
        )
    version = desc[FORMAT_KEY]
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise TaskFileError(
            f"{origin} has format version {version!r}, but this smttask reads versions 1 to "
            f"{FORMAT_VERSION}. Upgrade smttask (pip install -U smttask) to read it."
        )
    missing = [k for k in _REQUIRED if k not in desc]
    if missing or not isinstance(desc["inputs"], Mapping):
        raise TaskFileError(
            f"{origin} is incomplete: missing or malformed {missing or ['inputs']}. "
            f"Regenerate it with task.save()."
        )
    task_type = _find_type(str(desc["module"]), str(desc["task"]), origin)
    inputs = {k: _decode(v, origin, check_digest) for k, v in desc["inputs"].items()}
    try:
        task = task_type(**inputs)
    except SmttaskError as exc:
        raise TaskFileError(f"{origin}: its inputs do not fit {desc['task']}: {exc}") from None
    expected = desc.get("digest")
    if check_digest and expected is not None and not has_unpure(task) and task.key != expected:
        raise TaskFileError(
            f"{origin} was written for digest {expected}, but the current code of "
            f"{task.taskname} gives {task.key} for the same inputs (its signature, defaults "
            f"or version changed since). Regenerate the task file from the current code."
        )
    return task


def _decode(value: Any, origin: str, check_digest: bool) -> Any:
    if isinstance(value, Mapping):
        if FORMAT_KEY in value:
            return _build(value, origin, check_digest)
        return {k: _decode(v, origin, check_digest) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, origin, check_digest) for v in value]
    return value


def _find_type(module_name: str, qualname: str, origin: str) -> type[Task]:
    module = _import(module_name, origin)
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            break
    if not (isinstance(obj, type) and issubclass(obj, Task) and not obj.__dict__.get("_is_kind")):
        raise TaskFileError(
            f"{origin} names task {qualname!r} in module {module_name!r}, but that module "
            f"defines no task of that name. Was it renamed or removed? Regenerate the task file "
            f"or restore the task."
        )
    return obj


def _import(module_name: str, origin: str) -> Any:
    if module_name == "__main__":
        raise TaskFileError(
            f"{origin} refers to a task defined in a script run as __main__, which other "
            f"processes cannot import. Define tasks in an importable module (e.g. tasks.py)."
        )
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        root = str(config.project_root())
        if exc.name and module_name.startswith(exc.name) and root not in sys.path:
            sys.path.insert(0, root)
            return _import(module_name, origin)
        raise TaskFileError(
            f"{origin} needs module {module_name!r}, which cannot be imported ({exc}). Run from "
            f"the project folder, or add the folder holding the module to PYTHONPATH "
            f"(now: {os.environ.get('PYTHONPATH', '')!r})."
        ) from None
