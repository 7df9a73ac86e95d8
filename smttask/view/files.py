"""A record's files: rebuilding its task, loading the results it stored, invalidating them."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError, TaskFileError, short_repr
from ..storage import decode_output, is_invalidated, move_aside, parse
from . import keys

if TYPE_CHECKING:
    from ..task import Task
    from .record import Record

#: The tag `invalidate()` adds.
INVALID_TAG = "_invalid_"


@dataclass(frozen=True)
class OutputKey:
    path: str  # relative to the output data store
    digest: str  # SHA-1 of the content when the record was made
    output: str  # the task's output name ("" for a single unnamed output)
    size: int | None

    @classmethod
    def parse(cls, path: str, digest: str, metadata: str) -> OutputKey:
        try:
            meta = json.loads(metadata) if metadata else {}
        except ValueError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        output = meta.get("output")
        size = meta.get("size")
        return cls(
            path=path,
            digest=digest,
            output=str(output) if output is not None else _output_from_name(path),
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


def load_output(record: Record, name: str | None) -> Any:
    stored = record.output_data
    if not stored:
        why = f" (it {record.status}: {record.outcome})" if record.status == "crashed" else ""
        raise OutputError(
            f"Record {record.label} stored no output{why}. Pick a finished record, e.g. "
            f"rs.filter.status('finished').latest."
        )
    task = record._task if record._task is not None else rebuild_task(record, check_digest=False)
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
                f"Record {record.label} names no file for output {out!r} of {task._spec.name} "
                f"(it names {[k.path for k in stored]})."
            )
        values[out] = _read(task, record, key, out)
    return values[name] if name is not None else task._spec.output.join(values)


def _read(task: Task, record: Record, key: OutputKey, output: str) -> Any:
    path = record._source.info.output_root / key.path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise OutputError(
            f"{path}, an output file of record {record.label}, is missing: it was moved or "
            f"deleted. Run the task again (record.task.run(recompute=True)) to recompute it."
        ) from None
    digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    if digest != key.digest:
        raise OutputError(
            f"{path} no longer holds what record {record.label} stored (SHA-1 {digest}, "
            f"recorded {key.digest}): it was changed after the record was made. Run the task "
            f"again (record.task.run(recompute=True)) to get a trustworthy result."
        )
    return decode_output(task, output, data, path)


def invalidate(record: Record) -> list[Path]:
    from ..recording.edit import move_outputs
    from ..task import memory_cache

    store = record._source.store()
    root = store.info.output_root
    moves: dict[str, str] = {}
    kept: list[Path] = []
    done: list[tuple[Path, Path]] = []
    try:
        for key in record.output_data:
            archive = store.archive_path(key.path)
            if is_invalidated(key.path):
                kept.append(archive)  # invalidated before
                continue
            link = store.link_path(key.path)
            if link is not None and link.is_symlink() and _same(link, archive):
                link.unlink()
            if not archive.exists():
                continue
            target = move_aside(archive)
            done.append((archive, target))
            moves[key.path] = target.relative_to(root).as_posix()
            kept.append(target)
        if moves:
            move_outputs(store, moves)
    except BaseException:
        for archive, target in reversed(done):  # the record still names the old paths
            os.replace(target, archive)
        raise
    record._outputs = None
    record._set_tags(add=(INVALID_TAG,))
    digest = record.params.get("digest")
    if isinstance(digest, str):
        memory_cache.pop(digest, None)
    return kept


def _same(link: Path, archive: Path) -> bool:
    return os.path.realpath(link) == os.path.realpath(archive)
