"""Copying the records of another Django store into this one, as Sumatra saves them (every
field kept, whatever Sumatra version or tool wrote them)."""

from __future__ import annotations

from typing import Any

from ...errors import ProjectError
from ..address import masked
from ..maintenance import MergeReport
from ..projectfile import ProjectInfo
from .readback import read_records
from .setup import add_database
from .store import DjangoStore


def merge_records(
    store: DjangoStore, other: ProjectInfo, project: str | None, source: str, *, dry_run: bool
) -> MergeReport:
    """Copy the records of `project` (default: the only project there) in the store `other`
    into `store`, reporting label collisions; `source` is how the user named `other`."""
    from django.db import transaction

    alias = add_database("merge_source", other)
    name = project or _only_project(store, alias, source)
    report = MergeReport()
    theirs = read_records(alias, name, report.refused)
    ours = {r.label: r for r in store.records(r.label for r in theirs)}
    new = []
    for record in theirs:
        mine = ours.get(record.label)
        if mine is None:
            new.append(record)
            report.added.append(record.label)
        elif _same(mine, record):
            report.identical.append(record.label)
        else:
            report.collisions.append(record.label)
    if new and not dry_run:
        target = store.sumatra_store()
        with transaction.atomic(using="default"):
            for record in reversed(new):  # oldest first
                target.save(store.project_name, record)
    return report


def _only_project(store: DjangoStore, alias: str, source: str) -> str:
    names = list(store.models.Project.objects.using(alias).values_list("id", flat=True))
    if len(names) != 1:
        raise ProjectError(
            f"{masked(source)} holds the records of {len(names)} projects ({', '.join(names) or 'none'}); "
            f"choose one with --project NAME."
        )
    return str(names[0])


def _same(a: Any, b: Any) -> bool:
    def key(r: Any) -> tuple[Any, ...]:
        outputs = sorted((k.path, k.digest) for k in r.output_data)
        params = r.parameters.as_dict() if hasattr(r.parameters, "as_dict") else str(r.parameters)
        return (r.timestamp, r.version, r.main_file, outputs, params)

    return bool(key(a) == key(b))
