"""Task files of SumatraTask 0.2 (the original smttask), converted to this format.

An old task file is a JSON object ``{"taskname", "module", "inputs", "reason"}`` whose
``inputs`` also hold the old digest (``digest``, ``hashed_digest``, ``unhashed_digests``) and
embed upstream tasks as old task descriptions; tasks made by the old ``Join`` generator add
``generator_module``, ``generator_function``, ``generator_args`` and ``generator_kwargs``.

``convert(desc)`` turns one into a description of this format: the same task (looked up by
module and name among the project's tasks, which must have been ported to this smttask), the
same inputs, decoded under today's strict rules, and **no** old digest: the converted task
gets the digest this smttask computes, which never equals an old one (old digests are 10
hex characters, ours 20, and cover other things), so an old result file is never taken for
a new result. ``Task.from_desc`` refuses old files with a pointer to ``smttask migrate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import taskfile
from .errors import TaskFileError, short_repr
from .task import Task

#: Keys of an old task description (``reason`` and the generator keys are optional).
OLD_KEYS = frozenset({"taskname", "module", "inputs"})
_OLD_OPTIONAL = frozenset(
    {"reason", "generator_module", "generator_function", "generator_args", "generator_kwargs"}
)
#: Inputs the old format added to every task's inputs: its own digest, never a task input.
OLD_DIGEST_FIELDS = frozenset({"digest", "hashed_digest", "unhashed_digests"})
_OLD_JOIN = ("smttask.task_generators", "JoinCreator")


def is_old_desc(value: Any) -> bool:
    """Whether `value` is a SumatraTask 0.2 task description."""
    return (
        isinstance(value, Mapping)
        and taskfile.FORMAT_KEY not in value
        and value.keys() >= OLD_KEYS
        and value.keys() <= OLD_KEYS | _OLD_OPTIONAL
        and isinstance(value["inputs"], Mapping)
    )


@dataclass(frozen=True)
class Migrated:
    """One converted task file."""

    task: Task
    old_digest: str  # the digest the old file recorded ("" when it had none)
    old_taskname: str  # the old task name: the folder of its old result files
    reason: str | None  # the old file's reason (this format keeps reasons in records only)


def convert(desc: Mapping[str, Any], origin: str = "the old task description") -> dict[str, Any]:
    """The description, in this format, of the task an old description names."""
    if not is_old_desc(desc):
        raise TaskFileError(
            f"{origin} is not a SumatraTask 0.2 task description: expected a JSON object with "
            f"keys {sorted(OLD_KEYS)} (and optionally {sorted(_OLD_OPTIONAL)}), got "
            f"{short_repr(desc)}."
        )
    inputs = {
        name: _convert_value(value, origin)
        for name, value in desc["inputs"].items()
        if name not in OLD_DIGEST_FIELDS
    }
    if "generator_module" in desc:
        return _convert_generated(desc, inputs, origin)
    return {
        taskfile.FORMAT_KEY: taskfile.FORMAT_VERSION,
        "task": desc["taskname"],
        "module": desc["module"],
        "inputs": inputs,
    }


def _convert_value(value: Any, origin: str) -> Any:
    if is_old_desc(value):
        return convert(value, origin)
    if isinstance(value, Mapping):
        return {k: _convert_value(v, origin) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert_value(v, origin) for v in value]
    return value


def _convert_generated(
    desc: Mapping[str, Any], inputs: dict[str, Any], origin: str
) -> dict[str, Any]:
    where = (desc.get("generator_module"), desc.get("generator_function"))
    tasks = inputs.get("tasks")
    if where == _OLD_JOIN and set(inputs) == {"tasks"} and isinstance(tasks, list) and tasks:
        names = {(t.get("module"), t.get("task")) for t in tasks if isinstance(t, Mapping)}
        if len(names) == 1 and all(isinstance(t, Mapping) for t in tasks):
            module, task = names.pop()
            return {
                taskfile.FORMAT_KEY: taskfile.FORMAT_VERSION,
                "task": f"Join[{task}]",
                "module": module,
                "inputs": {"tasks": tasks},
            }
    raise TaskFileError(
        f"{origin} describes a task made by the old generator {where[0]}.{where[1]} "
        f"({desc['taskname']}), which cannot be converted: an old Create task names the class "
        f"it constructs by a serialized type (code, not data). Declare `Create<Name> = "
        f"Create(<Class>)` in your tasks module and create the task again from its inputs: "
        f"{short_repr(dict(desc['inputs']), 200)}."
    )


def migrate(source: Mapping[str, Any] | str | Path) -> Migrated:
    """Read an old task description (a dict, JSON text or a file) and return the task it
    describes, rebuilt in this smttask, with the old digest and reason for reference."""
    origin = "the old task description"
    if isinstance(source, Mapping):
        desc: Any = source
    elif isinstance(source, str) and source.lstrip().startswith("{"):
        desc = taskfile.parse(source, origin)
    else:
        origin = f"old task file {source}"
        desc = taskfile.parse(taskfile.read(Path(source)), origin)
    new = convert(desc, origin)
    task = Task.from_desc(new)
    old_inputs = desc["inputs"]
    old_digest = old_inputs.get("digest")
    reason = desc.get("reason")
    return Migrated(
        task=task,
        old_digest=old_digest if isinstance(old_digest, str) else "",
        old_taskname=str(desc["taskname"]),
        reason=reason if isinstance(reason, str) else None,
    )
