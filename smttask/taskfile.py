"""Task description files: self-contained, readable, versioned JSON.

::

    {
      "smttask_format": 2,
      "task": "analyze",
      "module": "project.tasks",
      "kind": "RecordedTask",
      "code": {"digest": "9b1d…", "parts": {"project.tasks.analyze": "5e2a…", ...}},
      "digest": "4c0f1e…",
      "inputs": {"arr": [...scityping encoding...], "dt": 0.5,
                 "upstream": {"smttask_format": 2, "task": "...", ...}}
    }

Upstream tasks are embedded where they appear in the inputs. ``code`` is the fingerprint of
the task's code (``smttask.codeid``) and of each part of it; ``version`` is written when the
task type pins one (then the digest covers it instead of the code). A file whose code digest
differs from the current code's is refused with the names of the parts that changed; a file
of format 1 (digests without code) is refused where its digest matters. Loading a description imports
the task's module (and those of embedded tasks) and nothing else, and only from inside the
project or a trusted package (``smttask.trust``); its inputs are decoded in the closed world
of ``smttask.decoding``, under the strict rules of ``smttask.strict``. ``digest`` is left out
when the task's identity depends on a task output (see ``TaskNode.digest_from_output``).

Reading is bounded: only regular files of at most ``MAX_FILE_BYTES`` are read (a FIFO, a
device or a folder is refused before reading), JSON nested deeper than ``MAX_FILE_DEPTH``
levels (or an input value deeper than ``serialization.MAX_VALUE_DEPTH``) and number literals
that overflow are refused.

The format sees tasks as nodes (``smttask.node``); ``smttask.task.Task`` offers these
functions as ``task.desc``, ``task.save()`` and ``Task.from_desc()``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from . import config, serialization, trust
from .errors import (
    SmttaskError,
    TaskDefinitionError,
    TaskFileError,
    UnsafeContentError,
    short_repr,
)
from .fileio import write_atomic
from .node import TaskNode, _Visits, enter

FORMAT_KEY = "smttask_format"
FORMAT_VERSION = 2
#: The format versions whose digests did not cover the task's code.
_CODELESS_FORMATS = (1,)
_REQUIRED = ("task", "module", "inputs")
_OLD_KEYS = frozenset({"taskname", "module", "inputs"})  # SumatraTask 0.2 (smttask.migrate)
#: Task files larger than this are refused before reading (large arrays belong in the results
#: of an upstream task, not inline in a task file).
MAX_FILE_BYTES = 100 * 2**20
#: Deepest JSON nesting read from a task file (each embedded upstream task adds two levels).
MAX_FILE_DEPTH = 256
_describing = _Visits()
#: Task types made from another task type (``Join[simulate]``), by generator name: found from
#: the task type they are made from (``smttask.generators`` registers its own).
_GENERATED: dict[str, Callable[[type[TaskNode]], type[TaskNode]]] = {}
_GENERATED_NAME = r"^([A-Za-z_][A-Za-z0-9_]*)\[(.+)\]$"  # compiled on first use


def register_generated(name: str, make: Callable[[type[TaskNode]], type[TaskNode]]) -> None:
    """Let task files name ``<name>[<task>]``: the type `make` builds from task type <task>."""
    _GENERATED[name] = make


def describe(task: TaskNode) -> dict[str, Any]:
    """Self-contained, JSON-compatible description of `task` (upstream tasks embedded)."""
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
    if getattr(type(task), "_generated", False):
        bound = (
            vars(sys.modules[spec.module]).get(spec.qualname)
            if spec.module in sys.modules
            else None
        )
        if bound is not type(task):
            raise TaskDefinitionError(
                f"Task type {spec.taskname} was made by Create() but is not bound to the name "
                f"{spec.qualname!r} in module {spec.module!r}, so no other process could find "
                f"it from a task description. Write `{spec.qualname} = Create(...)` at the top "
                f"level of {spec.module}."
            )
    desc: dict[str, Any] = {
        FORMAT_KEY: FORMAT_VERSION,
        "task": spec.qualname,
        "module": spec.module,
        "kind": _kind_name(type(task)),
    }
    if spec.version is not None:
        desc["version"] = spec.version
    code = spec.code
    desc["code"] = {"digest": code.digest, "parts": code.as_dict()}
    stack = enter(_describing, task, "describing it")
    try:
        if not depends_on_output(task):
            desc["digest"] = task.key
        desc["inputs"] = {
            name: serialization.encode(value, hook=_embed) for name, value in task.inputs.items()
        }
    finally:
        stack.pop()
    return desc


def _embed(value: Any) -> Any:
    return describe(value) if isinstance(value, TaskNode) else None


@functools.cache
def _kind_name(cls: type) -> str:
    for base in cls.__mro__[1:]:
        if base.__dict__.get("_is_kind", False):
            return base.__name__
    return cls.__name__


def depends_on_output(task: TaskNode) -> bool:
    """Whether the identity of `task` depends on a task output: that of `task` itself or of a
    task upstream of it whose type declares ``digest_from_output``."""
    stack, seen = [task], set()
    while stack:
        t = stack.pop()
        if t.digest_from_output:
            return True
        if id(t) not in seen:
            seen.add(id(t))
            stack.extend(t.upstream())
    return False


def default_filename(task: TaskNode) -> str:
    """The file name ``save`` gives `task` in a folder."""
    return f"{task.name}__{task.key}.taskdesc.json"


def save(task: TaskNode, path: str | Path) -> Path:
    """Write the description of `task` into folder `path` (or to file `path` if *.json)."""
    path = Path(path)
    if path.suffix != ".json":
        path = path / default_filename(task)
    text = json.dumps(describe(task), indent=2) + "\n"
    write_atomic(path, text.encode(), fsync=config.settings.fsync)
    return path


def load(source: Mapping[str, Any] | str | Path, *, check_digest: bool = True) -> TaskNode:
    """Rebuild a task from a description: a dict, JSON text, or a path to a task file.

    With `check_digest`, a description whose recorded digest differs from the one the current
    code gives is refused (the code changed since it was written).
    """
    origin = "the task description"
    if isinstance(source, Mapping):
        desc: Any = source
        _check_depth(desc, origin)
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        desc = parse(source, origin)
    else:
        path = Path(source)
        origin = f"task file {path}"
        desc = parse(read(path), origin)
    try:
        return _build(desc, origin, check_digest)
    except RecursionError:
        raise TaskFileError(
            f"{origin} nests its tasks or values too deeply to be read (Python's recursion "
            f"limit). Split the pipeline into shorter chains of tasks."
        ) from None


def read(path: Path) -> str:
    """The text of task file `path`: a regular file of at most MAX_FILE_BYTES, else refused
    without reading it (a FIFO or a device is never opened for a blocking read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise TaskFileError(f"Task file {path} does not exist. Check the path.") from None
    except IsADirectoryError:
        raise TaskFileError(
            f"Task file {path} is a folder, not a task file. Pass the *.json files in it "
            f"(smttask run accepts folders)."
        ) from None
    except OSError as exc:
        raise TaskFileError(f"Cannot read task file {path}: {exc}.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a folder"
                if stat.S_ISDIR(info.st_mode)
                else "a FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "a device or socket"
            )
            raise TaskFileError(
                f"Task file {path} is {kind}, not a regular file, so it is not read. Pass the "
                f"path of a task file written by task.save()."
            )
        if info.st_size > MAX_FILE_BYTES:
            raise TaskFileError(_too_large(path, info.st_size))
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise TaskFileError(_too_large(path, len(data)))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskFileError(
            f"Cannot read task file {path}: it is not UTF-8 text ({exc})."
        ) from None


def _too_large(path: Path, size: int) -> str:
    return (
        f"Task file {path} has {size} bytes, more than the {MAX_FILE_BYTES} a task file may "
        f"have (smttask.taskfile.MAX_FILE_BYTES), so it is not read. Pass large arrays as the "
        f"result of an upstream task instead of inline."
    )


def parse(text: str, origin: str) -> Any:
    """The JSON value of `text`, with the limits of task files; `origin` names it in errors."""
    try:
        return serialization.parse_json(text, max_depth=MAX_FILE_DEPTH)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = "it looks truncated" if truncated else "it is not valid JSON"
        raise TaskFileError(
            f"Cannot read {origin}: {hint} ({exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}). Regenerate it with task.save(), or fix the JSON by hand."
        ) from None
    except ValueError as exc:
        raise TaskFileError(
            f"Cannot read {origin}: {exc}. Regenerate it with task.save()."
        ) from None


def _check_depth(desc: Any, origin: str) -> None:
    try:
        serialization.check_depth(desc, MAX_FILE_DEPTH)
    except ValueError as exc:
        raise TaskFileError(
            f"Cannot read {origin}: {exc}. Regenerate it with task.save()."
        ) from None


def _build(desc: Any, origin: str, check_digest: bool) -> TaskNode:
    if isinstance(desc, Mapping) and FORMAT_KEY not in desc and desc.keys() >= _OLD_KEYS:
        raise TaskFileError(
            f"{origin} is a task file of SumatraTask 0.2 (keys 'taskname', 'module', "
            f"'inputs'), not of this smttask, and its digest is not valid here. Convert it with "
            f"`smttask migrate FILE -o NEW_FOLDER` (or smttask.migrate.migrate(FILE)), which "
            f"rebuilds the task from its inputs with a new digest (see docs/migrating.md)."
        )
    if not isinstance(desc, Mapping) or FORMAT_KEY not in desc:
        raise TaskFileError(
            f"{origin} is not a task description: expected a JSON object with a "
            f"{FORMAT_KEY!r} key, got {short_repr(desc)}. Task files are written by task.save()."
        )
    version = desc[FORMAT_KEY]
    if type(version) is not int or version > FORMAT_VERSION or version < 1:
        raise TaskFileError(
            f"{origin} has format version {version!r}, but this smttask reads versions 1 to "
            f"{FORMAT_VERSION}. Upgrade smttask (pip install -U smttask) to read it."
        )
    if version in _CODELESS_FORMATS and check_digest:
        raise TaskFileError(
            f"{origin} has format version {version}: it was written by an earlier smttask "
            f"whose digests did not cover code, so its digest names no result of this one. "
            f"Export or save it again (smttask export-snakemake, task.save()) from the "
            f"current code."
        )
    missing = [k for k in _REQUIRED if k not in desc]
    if missing or not isinstance(desc["inputs"], Mapping):
        raise TaskFileError(
            f"{origin} is incomplete: missing or malformed {missing or ['inputs']}. "
            f"Regenerate it with task.save()."
        )
    task_type = _find_type(desc["module"], desc["task"], origin)
    kind = desc.get("kind", _kind_name(task_type))
    if kind != _kind_name(task_type):
        raise TaskFileError(
            f"{origin} describes {desc['task']} as a {short_repr(kind)}, but the current code "
            f"makes it a {_kind_name(task_type)}: the file was written for other code (or "
            f"edited), and running it would not do what it says. Save or export the task "
            f"again from the current code."
        )
    if check_digest:
        check_code(desc, task_type, origin)
    for name, value in desc["inputs"].items():
        try:
            serialization.check_depth(value, serialization.MAX_VALUE_DEPTH, boundary=FORMAT_KEY)
        except ValueError as exc:
            raise TaskFileError(f"{origin}: input {name!r}: {exc}.") from None
    inputs = {k: _decode(v, origin, check_digest) for k, v in desc["inputs"].items()}
    try:
        with serialization.from_json():
            task = task_type(**inputs)
    except UnsafeContentError as exc:
        raise UnsafeContentError(f"{origin}: {exc}") from None
    except SmttaskError as exc:
        raise TaskFileError(f"{origin}: its inputs do not fit {desc['task']}: {exc}") from None
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:  # a decoder failing on malformed data
        raise TaskFileError(
            f"{origin}: its inputs cannot be decoded for {desc['task']} "
            f"({type(exc).__name__}: {exc}). Regenerate the file with task.save()."
        ) from exc
    expected = desc.get("digest")
    if (
        check_digest
        and expected is not None
        and not depends_on_output(task)
        and task.key != expected
    ):
        raise TaskFileError(
            f"{origin} was written for digest {expected}, but the current code of "
            f"{task.taskname} gives {task.key} for the same inputs (its signature, defaults, "
            f"kind or version changed since). Regenerate the task file from the current code."
        )
    return task


def check_code(desc: Mapping[str, Any], task_type: type[TaskNode], origin: str) -> None:
    """Raise TaskFileError if `desc` was written for other code of `task_type` than the
    current one (unless the type pins a ``version``: then the version decides)."""
    spec = task_type._spec
    code = desc.get("code")
    recorded = code.get("digest") if isinstance(code, Mapping) else None
    if spec.version is not None or not isinstance(recorded, str):
        return
    current = spec.code
    if recorded == current.digest:
        return
    parts = code.get("parts") if isinstance(code, Mapping) else None
    if isinstance(parts, Mapping) and all(isinstance(v, str) for v in parts.values()):
        changed = current.changed_parts(dict(parts))
        shown = ", ".join(changed[:8]) + (
            f" and {len(changed) - 8} more" if len(changed) > 8 else ""
        )
        what = f"{shown} changed since it was written"
    else:
        what = "its code changed since it was written"
    raise TaskFileError(
        f"{origin} was written for other code of {spec.taskname}: {what} (code digest "
        f"{recorded[:12]}, now {current.digest[:12]}). Its results would not match the current "
        f"code, so it is not loaded. Save or export the task again from the current code "
        f"(task.save(folder), smttask export-snakemake), or check out the commit that wrote "
        f"it; `smttask explain` shows what changed."
    )


def _decode(value: Any, origin: str, check_digest: bool) -> Any:
    if isinstance(value, Mapping):
        if FORMAT_KEY in value:
            return _build(value, origin, check_digest)
        return {k: _decode(v, origin, check_digest) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, origin, check_digest) for v in value]
    return value


def _find_type(module_name: Any, qualname: Any, origin: str) -> type[TaskNode]:
    """The task type `qualname` of module `module_name`, found in the module's namespace and
    then in classes only (no attribute look-up that could run code)."""
    module = trust.import_module(module_name, origin)
    generated = re.match(_GENERATED_NAME, qualname) if isinstance(qualname, str) else None
    if generated and generated.group(1) in _GENERATED:
        inner = _find_type(module_name, generated.group(2), origin)
        return _GENERATED[generated.group(1)](inner)
    obj: Any = module
    parts = qualname.split(".") if isinstance(qualname, str) else [None]
    for i, part in enumerate(parts):
        if not isinstance(part, str) or (i > 0 and not isinstance(obj, type)):
            obj = None
            break
        obj = vars(obj).get(part)
        if obj is None:
            break
    if not (
        isinstance(obj, type) and issubclass(obj, TaskNode) and not obj.__dict__.get("_is_kind")
    ):
        raise TaskFileError(
            f"{origin} names task {qualname!r} in module {module_name!r}, but that module "
            f"defines no task of that name. Was it renamed or removed? Regenerate the task file "
            f"or restore the task."
        )
    return obj


def task_modules(desc: Any) -> Iterator[str]:
    """The modules named by the task descriptions in `desc` (the task and its upstream tasks,
    in the order met; repeats included)."""
    if isinstance(desc, Mapping):
        if FORMAT_KEY in desc and isinstance(desc.get("module"), str):
            yield desc["module"]
        for value in desc.values():
            yield from task_modules(value)
    elif isinstance(desc, list):
        for value in desc:
            yield from task_modules(value)
