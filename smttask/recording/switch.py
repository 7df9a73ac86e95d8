"""Moving a project to another record store without losing a record.

``switch_store(root, address)`` moves the records waiting in journals into the current store,
copies every record into the new store (Sumatra's own rows, as ``smttask store merge`` does),
checks that each one is there, then names the new store in ``.smt/project`` and copies once
more the records that arrived meanwhile. The old store is left as it was. Nothing of it goes
into the repository: no backup folder, and a new SQLite file inside the repository is listed
in its ``.gitignore``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProjectError
from ..fileio import write_atomic
from .address import SQLITE, classify, masked, require_database
from .gitignore import add_lines
from .projectfile import (
    ProjectInfo,
    find_project,
    keep_secret,
    relative_paths,
    require_project,
)
from .store import backend, move_waiting


@dataclass
class SwitchReport:
    store: str  # the new store, as messages show it
    records: int = 0  # records in the new store from the old one
    copied: int = 0  # of them copied now (the others were there already)
    ignored: list[str] = field(default_factory=list)  # lines added to .gitignore


def switch_store(root: Path | None, address: str) -> SwitchReport:
    """Make `address` (an SQLite file or a database URI) the record store of the project in
    `root`, after copying every record of the current store into it."""
    info = require_project(root)
    require_database(info)
    new = classify(address, base=info.root)
    if (new.kind, new.location) == (info.kind, info.store):
        raise ProjectError(f"{masked(address)} is already this project's record store.")
    target_info = dataclasses.replace(info, store=new.location, kind=new.kind)
    if new.kind == SQLITE:
        Path(new.location).parent.mkdir(parents=True, exist_ok=True)
    move_waiting(info)
    report = SwitchReport(store=masked(new.location))
    report.copied = _copy(info, target_info)
    old_labels = set(backend(info).labels())
    missing = old_labels - set(backend(target_info).labels())
    if missing:
        raise ProjectError(
            f"{len(missing)} of the {len(old_labels)} records did not reach {report.store} "
            f"(e.g. {sorted(missing)[0]}); the project still uses {info.shown_store}. Run "
            f"`smttask store merge` from the new store's side to see why, then try again."
        )
    _name_store(info.root, new.location)
    report.copied += _copy(info, target_info)  # records stored by other processes meanwhile
    report.records = len(set(backend(target_info).labels()) & set(backend(info).labels()))
    if new.kind == SQLITE:
        report.ignored = _ignore(info.root, Path(new.location))
    return report


def _copy(info: ProjectInfo, target: ProjectInfo) -> int:
    from .django import DjangoStore
    from .django.merge import merge_records

    store = backend(target)
    if not isinstance(store, DjangoStore):  # pragma: no cover - every database kind is Django
        raise ProjectError(f"Cannot copy records into {target.shown_store}.")
    merged = merge_records(store, info, info.name, info.shown_store, dry_run=False)
    if merged.collisions or merged.refused:
        first = (merged.collisions + merged.refused)[0]
        raise ProjectError(
            f"{len(merged.collisions)} record(s) of {target.shown_store} have the label of a "
            f"different record here and {len(merged.refused)} record(s) here cannot be copied "
            f"(first: {first}); the project still uses {info.shown_store}. Use an empty store, "
            f"or sort them out with `smttask store merge --dry-run`."
        )
    return len(merged.added)


def _name_store(root: Path, location: str) -> None:
    path = root / ".smt" / "project"
    data = json.loads(path.read_text(encoding="utf-8"))
    part = data.get("record_store")
    if not isinstance(part, dict):
        part = {"type": "sumatra.recordstore.django_store.DjangoRecordStore"}
        data["record_store"] = part
    part["db_file"] = location
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode(), fsync=True)
    keep_secret(root)
    relative_paths(root)
    if find_project(root) is None:  # pragma: no cover - just written
        raise ProjectError(f"{path} could not be read back.")


def _ignore(root: Path, store: Path) -> list[str]:
    """List an SQLite file inside the repository (and its -wal/-shm files) in .gitignore."""
    try:
        relative = Path(os.path.realpath(store)).relative_to(root.resolve())
    except ValueError:
        return []
    if relative.parts[:1] == (".smt",) and relative.name.startswith("records"):
        return []  # .smt/.gitignore lists them
    return add_lines(root, [f"/{relative.as_posix()}*"])
