"""A record's files: rebuilding its task, loading the results it stored."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError, TaskFileError, short_repr
from ..storage import OUTPUT_STORE, PathOutside, decode_output, inside, parse
from . import keys

if TYPE_CHECKING:
    from ..recording.api import OutputRow
    from ..task import Task
    from .record import Record


@dataclass(frozen=True)
class OutputKey:
    path: str  # relative to the output data store
    digest: str  # SHA-1 of the content when the record was made
    output: str  # the task's output name ("" for a single unnamed output)
    size: int | None

    @classmethod
    def parse(cls, key: OutputRow) -> OutputKey:
        output = key.metadata.get("output")
        size = key.metadata.get("size")
        return cls(
            path=key.path,
            digest=key.digest,
            output=str(output) if output is not None else _output_from_name(key.path),
            size=size if isinstance(size, int) else None,
        )


def _output_from_name(path: str) -> str:
    """The output name in the file name of `path` (``""`` if there is none)."""
    name = parse(path.rpartition("/")[2])
    return name.output if name is not None else ""


def rebuild_task(record: Record, *, check_digest: bool) -> Task:
    from ..task import Task

    if not keys.is_desc(record.params):
        raise TaskFileError(
            f"Record {record.label} does not hold a task description (its parameters are "
            f"{short_repr(record.params)}), so its task cannot be rebuilt. Surrogate records "
            f"made without the task's file only name the task; rebuild the task by calling it."
        )
    try:
        return Task.from_desc(record.params, check_digest=check_digest)
    except TaskFileError as exc:
        hint = (
            " record.get_output() still reads the results this record stored."
            if check_digest
            else ""
        )
        raise TaskFileError(
            f"Cannot rebuild the task of record {record.label}: {exc}{hint}"
        ) from None


def load_output(
    label: str, task: Task, stored: list[OutputKey], output_root: Path, name: str | None
) -> Any:
    """The result record `label` stored in the files `stored` (under `output_root`), for
    `task` (or its output `name`)."""
    names = task._spec.output.names
    if name is not None and name not in names:
        raise OutputError(
            f"{task._spec.name} has no output named {name!r}; its outputs are {list(names)}."
        )
    by_output = {key.output: key for key in stored}
    values = {}
    for out in names if name is None else (name,):
        key = by_output.get(out)
        if key is None and len(names) == 1 and len(stored) == 1:
            key = stored[0]
        if key is None:
            raise OutputError(
                f"Record {label} names no file for output {out!r} of {task._spec.name} "
                f"(it names {[k.path for k in stored]})."
            )
        values[out] = _read(task, label, stored_at(label, output_root, key.path), key.digest, out)
    return values[name] if name is not None else task._spec.output.join(values)


def stored_at(label: str, output_root: Path, path: str) -> Path:
    """The file record `label` names by `path`; OutputError if it leads outside the output
    store (a record's path is never followed out of it)."""
    try:
        return inside(output_root, path, OUTPUT_STORE)
    except PathOutside as exc:
        who = f"Record {label} names the output"
        raise OutputError(exc.sentence(who, "it is not read")) from None


def output_paths(label: str, stored: list[OutputKey], output_root: Path) -> dict[str, Path]:
    """{output name: file} of the files record `label` names; those leading outside the output
    store are left out, with a warning."""
    found = {}
    for key in stored:
        try:
            found[key.output] = stored_at(label, output_root, key.path)
        except OutputError as exc:
            warnings.warn(str(exc), stacklevel=3)
    return found


def _read(task: Task, label: str, path: Path, recorded: str, output: str) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise OutputError(
            f"{path}, an output file of record {label}, is missing: it was moved or "
            f"deleted. Run the task again (record.task.run(recompute=True)) to recompute it."
        ) from None
    digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    if digest != recorded:
        raise OutputError(
            f"{path} no longer holds what record {label} stored (SHA-1 {digest}, "
            f"recorded {recorded}): it was changed after the record was made. Run the task "
            f"again (record.task.run(recompute=True)) to get a trustworthy result."
        )
    return decode_output(task, output, data, path)
