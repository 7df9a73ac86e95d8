"""Keeping the record store and the data stores consistent: rebuild links, make surrogate
records for outputs that have none, merge another store into this one."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ProjectError, SmttaskError
from ..fileio import replace_symlink
from ..storage import DataRoots, PathOutside, archive_at, link_at, parse
from . import fields
from .address import SQLITE, classify, masked
from .context import executable
from .projectfile import ProjectInfo, find_project, store_info

if TYPE_CHECKING:
    from .api import RecordStore


@dataclass
class RebuildReport:
    created: list[Path] = field(default_factory=list)  # links made (or to make, dry run)
    missing: list[Path] = field(default_factory=list)  # recorded outputs not on disk
    refused: list[str] = field(default_factory=list)  # outputs outside the data stores


def rebuild(store: RecordStore, *, dry_run: bool = False) -> RebuildReport:
    """Recreate missing input-store links from the records (newest record wins); idempotent.
    A recorded path leading outside the data stores is reported, never linked."""
    info = store.info
    roots = DataRoots(info.input_root, info.output_root)
    report = RebuildReport()
    done: set[Path] = set()
    for label, key in store.output_index():
        # A file of an OutputDir result: the folder is what gets linked.
        relpath = str((key.metadata or {}).get("folder") or key.path)
        try:
            archive = archive_at(roots, relpath)
            link = link_at(roots, relpath)
        except PathOutside as exc:
            report.refused.append(exc.sentence(f"Record {label} names the output", "not linked"))
            continue
        if not archive.exists():
            if archive not in report.missing:
                report.missing.append(archive)
            continue
        if link is None or link in done:
            continue
        done.add(link)
        if link.exists():  # a link to an existing file (or a real file): keep it
            continue
        report.created.append(link)
        if not dry_run:
            replace_symlink(link, archive)
    return report


@dataclass
class SurrogateReport:
    labels: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # symbolic links in the output store


def create_surrogates(
    store: RecordStore, task_files: list[Path], *, dry_run: bool = False
) -> SurrogateReport:
    """Add a record tagged ``_surrogate_`` for each task whose outputs have no record.

    Outputs are grouped by task execution (task folder, key, number). The parameters come
    from a matching task description file when one is given, else they only name the task
    and its key. The surrogate states that the code version and environment are unknown.
    """
    known = {key.path for _, key in store.output_index()}
    groups: dict[tuple[str, str, int], list[tuple[Path, str]]] = defaultdict(list)
    root = store.info.output_root
    links = []
    folders = sorted(root.iterdir()) if root.is_dir() else []
    for folder in (p for p in folders if p.is_dir() and not p.name.startswith(".")):
        if folder.is_symlink():
            links.append(folder)
            continue
        for path in sorted(folder.iterdir()):
            parsed = parse(path.name)
            rel = path.relative_to(root).as_posix()
            if parsed is None or parsed.invalidated or rel in known:
                continue
            if path.is_symlink():  # archives are files: a link here was put by someone else
                links.append(path)
                continue
            if not path.is_file():
                continue
            groups[(folder.name, parsed.key, parsed.number)].append((path, parsed.output))
    descs, unread = _descriptions(task_files)
    report = SurrogateReport(refused=unread + [
        f"{p} is a symbolic link to {os.readlink(p)}, not an archived result: no record is "
        f"made for it (remove it if smttask did not make it)"
        for p in links
    ])  # fmt: skip
    records = []
    for (name, key, _), files in sorted(groups.items()):
        desc = descs.get((name, key))
        when = datetime.fromtimestamp(min(p.stat().st_mtime for p, _ in files), tz=UTC)
        record = _surrogate(store.info, name, key, desc, when, files)
        records.append(record)
        report.labels.append(record["label"])
        report.files.extend(p for p, _ in files)
    if records and not dry_run:
        store.write(records)
    return report


def _descriptions(
    task_files: list[Path],
) -> tuple[dict[tuple[str, str], dict[str, Any]], list[str]]:
    """The descriptions in `task_files` by (task name, digest), read with the limits of task
    files (size, kind of file, nesting); and a line for each file that could not be read (the
    others are still used)."""
    from .. import taskfile

    found = {}
    refused = []
    for path in task_files:
        try:
            desc = taskfile.parse(taskfile.read(path), f"task file {path}")
        except SmttaskError as exc:
            refused.append(f"{str(exc).rstrip('.')}; its outputs get a record without its inputs")
            continue
        if isinstance(desc, dict) and "task" in desc and "digest" in desc:
            found[(str(desc["task"]).rsplit(".", 1)[-1], str(desc["digest"]))] = desc
    return found, refused


def _surrogate(
    info: ProjectInfo,
    name: str,
    key: str,
    desc: dict[str, Any] | None,
    when: datetime,
    files: list[tuple[Path, str]],
) -> dict[str, Any]:
    module = str(desc.get("module", "")) if desc else ""
    return {
        "label": fields.new_label(name, int(when.timestamp())),
        "timestamp": when.isoformat(),
        "reason": "Surrogate record for outputs produced without a record",
        "outcome": (
            "Surrogate record made by `smttask store create-surrogates`: these outputs were "
            "found without a record. Code version, environment and duration are unknown."
        ),
        "duration": None,
        "main_file": module.replace(".", "/") + ".py" if module else "",
        "script_arguments": f"{module}.{desc['task']}" if desc else name,
        "parameters": desc or {"task": name, "key": key},
        "version": "unknown",
        "diff": "",
        "user": "",
        "tags": [fields.SURROGATE],
        "input_data": [],
        "output_data": [fields.data_key(p, info.output_root, out) for p, out in files],
        "stdout_stderr": "",
        "executable": executable(),
        "repository": {"url": str(info.root), "upstream": None},
        "launch_mode": {"working_directory": str(info.root)},
        "datastore": str(info.output_root),
        "input_datastore": str(info.input_root),
        "dependencies": [],
        "platforms": [],
    }


@dataclass
class MergeReport:
    added: list[str] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)  # already here, same content
    collisions: list[str] = field(default_factory=list)  # same label, different record
    refused: list[str] = field(default_factory=list)  # records holding code: not read


def other_project(source: str) -> tuple[ProjectInfo, str | None]:
    """The store to merge from: a project folder, an SQLite file or a database URI; and the
    project's name when `source` is a project folder."""
    path = Path(source).expanduser()
    if path.is_dir():
        info = find_project(path.resolve())
        if info is None:
            raise ProjectError(f"{source} holds no Sumatra project (no .smt/project).")
        return info, info.name
    address = classify(source)
    if address.kind == SQLITE and not path.is_file():
        raise ProjectError(
            f"Cannot merge from {source!r}: no such project folder or SQLite file. Give a "
            f"project folder, an SQLite record store file or a postgresql:// URI."
        )
    if address.kind == SQLITE and not _looks_like_sqlite(path):
        raise ProjectError(
            f"Cannot merge from {source!r}: it is not an SQLite database (it does not start "
            f"with SQLite's header). Give a project folder, an SQLite record store file (such "
            f"as .smt/records) or a postgresql:// URI."
        )
    return store_info(source), None


def _looks_like_sqlite(path: Path) -> bool:
    """Whether `path` is empty (SQLite makes an empty database of it) or starts as SQLite
    files do."""
    with open(path, "rb") as f:
        head = f.read(16)
    return not head or head == b"SQLite format 3\x00"


def merge(store: RecordStore, source: str, *, project: str | None = None,
          dry_run: bool = False) -> MergeReport:  # fmt: skip
    """Copy the records of another store into this one, reporting label collisions."""
    other, name = other_project(source)
    if (other.kind, other.store) == (store.info.kind, store.info.store):
        raise ProjectError(
            f"{masked(source)} is this project's own record store: nothing to merge."
        )
    from .django import DjangoStore
    from .django.merge import merge_records

    if not isinstance(store, DjangoStore):
        raise ProjectError(
            f"Records are merged into a Django record store (SQLite, PostgreSQL, MySQL), not "
            f"into {type(store).__name__}. Open the project's own store with open_store()."
        )
    return merge_records(store, other, project or name, source, dry_run=dry_run)
