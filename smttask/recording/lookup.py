"""Finding records in a store: by label, tag and task; the records that produced a file; what
deleting records removes, and deleting them. Works on any ``RecordStore``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RecordingError
from ..storage import DataRoots, PathOutside, archive_at, link_at
from .api import Where, find, task_condition
from .fields import sha1_of

if TYPE_CHECKING:
    from .api import RecordStore


def select(
    store: RecordStore,
    labels: Sequence[str] = (),
    tags: Sequence[str] = (),
    tasks: Sequence[str] = (),
    *,
    before: datetime | None = None,
    after: datetime | None = None,
) -> list[str]:
    """Labels of the records matching any of the labels, tags or task names given; with
    `before` / `after` (aware datetimes), only those made before / at or after then (all the
    records made then, if no label, tag or task is given)."""
    if before is not None or after is not None:
        span = [Where("timestamp", "lt", before)] if before is not None else []
        span += [Where("timestamp", "gte", after)] if after is not None else []
        in_span = [r.label for r in find(store, span)]
        if not (labels or tags or tasks):
            return in_span
        keep = set(in_span)
        return [label for label in select(store, labels, tags, tasks) if label in keep]
    chosen: dict[str, None] = {}
    known = set(store.labels())
    for label in labels:
        if label not in known:
            raise RecordingError(
                f"No record labelled {label!r} in {store.info.shown_store}. List the labels with "
                f"`smttask smt list`."
            )
        chosen[label] = None
    for tag in tags:
        chosen.update((r.label, None) for r in find(store, [Where("tags", "has", tag)]))
    for task in tasks:
        found = [r.label for r in find(store, [task_condition(task)])]
        if not found:
            raise RecordingError(
                f"No record of a task named {task!r} in {store.info.shown_store}. Give the "
                f"task's name (e.g. analyze) or module.name (e.g. tasks.analyze) as its records "
                f"show it: `smttask smt list` lists them."
            )
        chosen.update((label, None) for label in found)
    return list(chosen)


@dataclass
class OutputMatch:
    label: str
    task: str  # script arguments: module.task
    timestamp: str
    tags: list[str]
    digest: str  # recorded SHA-1
    matches: bool  # the file on disk has that content


def find_output(store: RecordStore, path: Path) -> list[OutputMatch]:
    """The records that produced the file `path` (an archive, or a link to one)."""
    info = store.info
    real = Path(os.path.realpath(path))
    if not real.is_file():
        raise RecordingError(f"{path} is not a file. Give the path of a task's output file.")
    root = Path(os.path.realpath(info.output_root))
    if not real.is_relative_to(root):
        raise RecordingError(
            f"{path} is not in the output data store {info.output_root}, where "
            f"recorded results are archived."
        )
    rel = real.relative_to(root).as_posix()
    digest = sha1_of(str(real))[0]
    keys = list(store.output_index([rel]))
    labels = {label for label, _ in keys}
    by_label = {r.label: r for r in find(store, [Where("label", "in", labels)])} if keys else {}
    found = []
    for label, key in keys:
        rec = by_label.get(label)
        if rec is None:
            continue
        found.append(
            OutputMatch(
                label=label,
                task=rec.script_arguments,
                timestamp=rec.timestamp.isoformat(),
                tags=sorted(rec.tags),
                digest=key.digest,
                matches=key.digest == digest,
            )
        )
    return sorted(found, key=lambda m: m.timestamp, reverse=True)


@dataclass
class DeletePlan:
    labels: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # archived outputs
    links: list[Path] = field(default_factory=list)  # input-store links to them
    refused: list[str] = field(default_factory=list)  # outputs outside the data stores, kept


def plan_delete(store: RecordStore, labels: Sequence[str], *, outputs: bool = True) -> DeletePlan:
    """What deleting these records removes: the records, and (with `outputs`) their archived
    files and the links to them, except files that a record kept also names."""
    info = store.info
    plan = DeletePlan(labels=list(labels))
    if not outputs:
        return plan
    gone = set(labels)
    named: dict[str, str] = {}  # path -> the first record naming it
    for label in plan.labels:
        for key in store.outputs(label):
            named.setdefault(key.path, label)
    # Files that records kept are also pointing to (two processes computed the same task).
    shared = {key.path for label, key in store.output_index(named) if label not in gone}
    roots = DataRoots(info.input_root, info.output_root)
    for key_path in sorted(set(named) - shared):
        try:
            archive = archive_at(roots, key_path)
            link = link_at(roots, key_path)
        except PathOutside as exc:
            who = f"Record {named[key_path]} names the output"
            plan.refused.append(exc.sentence(who, "it is not deleted"))
            continue
        if archive.exists():
            plan.files.append(archive)
        same = link is not None and os.path.realpath(link) == os.path.realpath(archive)
        if link is not None and link.is_symlink() and same:
            plan.links.append(link)
    return plan


def delete(store: RecordStore, plan: DeletePlan) -> list[str]:
    """Delete the records, then their files; return the files that could not be removed."""
    store.delete(plan.labels)
    failed = []
    for path in [*plan.links, *plan.files]:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            failed.append(f"{path}: {exc}")
    return failed
