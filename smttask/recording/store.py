"""Reading the record store, and removing records (with their outputs).

``open_store()`` first moves every journaled record into the store (see ``flush``), then
makes it Django's default database. ``RecordStore`` gives Sumatra ``Record`` objects (as
``smt`` shows them) and the Django query set behind them, for filtering in the database.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config
from ..errors import RecordingError
from ..storage import DataRoots, archive_at, link_at
from .fields import sha1_of
from .flush import flush
from .projectfile import ProjectInfo, require_project


def open_store(root: Path | None = None, *, flush_first: bool = True) -> RecordStore:
    """The record store of the project in `root` (default: the current project)."""
    info = require_project(root or config.project_root())
    if flush_first:
        report = flush(info.root, strict=False)
        for error in report.errors:
            warnings.warn(f"Some records are not in the store yet: {error}", stacklevel=2)
    from .djangodb import activate

    activate(info)
    return RecordStore(info)


@dataclass
class OutputMatch:
    label: str
    task: str  # script arguments: module.task
    timestamp: str
    tags: list[str]
    digest: str  # recorded SHA-1
    matches: bool  # the file on disk has that content


@dataclass
class DeletePlan:
    labels: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # archived outputs
    links: list[Path] = field(default_factory=list)  # input-store links to them


class RecordStore:
    """The current project's records."""

    def __init__(self, info: ProjectInfo) -> None:
        from sumatra.recordstore.django_store import models

        self.info = info
        self.models = models

    @property
    def project_name(self) -> str:
        return self.info.name

    def queryset(self) -> Any:
        """Django query set of this project's records (newest first)."""
        return self.models.Record.objects.using("default").filter(project__id=self.info.name)

    def sumatra_store(self) -> Any:
        """Sumatra's DjangoRecordStore object for this store (``.list``, ``.get``, ...)."""
        from sumatra.recordstore.django_store import DjangoRecordStore

        store = DjangoRecordStore.__new__(DjangoRecordStore)
        store._db_file, store._db_label = self.info.store, "default"
        return store

    def labels(self) -> list[str]:
        return list(self.queryset().values_list("label", flat=True))

    def records(self, labels: Iterable[str] | None = None) -> list[Any]:
        """Sumatra Record objects (all, or those with these labels), newest first."""
        rows = self.queryset()
        if labels is not None:
            rows = rows.filter(label__in=list(labels))
        return [row.to_sumatra() for row in rows]

    def get(self, label: str) -> Any:
        rows = self.records([label])
        if not rows:
            raise RecordingError(
                f"No record labelled {label!r} in {self.info.store}. List the labels with "
                f"`smttask smt list`."
            )
        return rows[0]

    def select(
        self,
        labels: Sequence[str] = (),
        tags: Sequence[str] = (),
        tasks: Sequence[str] = (),
    ) -> list[str]:
        """Labels of the records matching any of the labels, tags or task names given."""
        chosen: dict[str, None] = {}
        known = set(self.labels())
        for label in labels:
            if label not in known:
                raise RecordingError(
                    f"No record labelled {label!r} in {self.info.store}. List the labels with "
                    f"`smttask smt list`."
                )
            chosen[label] = None
        for tag in tags:
            for rec in self.queryset().filter(tags__contains=tag):
                if tag in rec.tags.split(","):
                    chosen[rec.label] = None
        for task in tasks:
            for label, args in self.queryset().values_list("label", "script_arguments"):
                if args == task or args.endswith("." + task):
                    chosen[label] = None
        return list(chosen)

    # -- outputs ------------------------------------------------------------------------------

    def archive_path(self, key_path: str) -> Path:
        return archive_at(self._roots(), key_path)

    def link_path(self, key_path: str) -> Path | None:
        return link_at(self._roots(), key_path)

    def _roots(self) -> DataRoots:
        return DataRoots(self.info.input_root, self.info.output_root)

    def find_output(self, path: Path) -> list[OutputMatch]:
        """The records that produced the file `path` (an archive, or a link to one)."""
        real = Path(os.path.realpath(path))
        if not real.is_file():
            raise RecordingError(f"{path} is not a file. Give the path of a task's output file.")
        root = Path(os.path.realpath(self.info.output_root))
        if not real.is_relative_to(root):
            raise RecordingError(
                f"{path} is not in the output data store {self.info.output_root}, where "
                f"recorded results are archived."
            )
        rel = real.relative_to(root).as_posix()
        digest = sha1_of(str(real))[0]
        keys = self.models.DataKey.objects.using("default").filter(
            path=rel, output_from_record__project__id=self.info.name
        )
        found = []
        for key in keys.select_related("output_from_record"):
            rec = key.output_from_record
            found.append(
                OutputMatch(
                    label=rec.label,
                    task=rec.script_arguments,
                    timestamp=rec.timestamp.isoformat(),
                    tags=[t for t in rec.tags.split(",") if t],
                    digest=key.digest,
                    matches=key.digest == digest,
                )
            )
        return sorted(found, key=lambda m: m.timestamp, reverse=True)

    # -- deleting -----------------------------------------------------------------------------

    def plan_delete(self, labels: Sequence[str], *, outputs: bool = True) -> DeletePlan:
        plan = DeletePlan(labels=list(labels))
        if not outputs:
            return plan
        keys = self.models.DataKey.objects.using("default").filter(
            output_from_record__project__id=self.info.name,
            output_from_record__label__in=list(labels),
        )
        paths = set(keys.values_list("path", flat=True))
        # Files that records kept are also pointing to (two processes computed the same task).
        shared = set(
            self.models.DataKey.objects.using("default")
            .filter(path__in=list(paths), output_from_record__project__id=self.info.name)
            .exclude(output_from_record__label__in=list(labels))
            .values_list("path", flat=True)
        )
        for key_path in sorted(paths - shared):
            archive = self.archive_path(key_path)
            if archive.exists():
                plan.files.append(archive)
            link = self.link_path(key_path)
            same = link is not None and os.path.realpath(link) == os.path.realpath(archive)
            if link is not None and link.is_symlink() and same:
                plan.links.append(link)
        return plan

    def delete(self, plan: DeletePlan) -> list[str]:
        """Delete the records, then their files; return the files that could not be removed."""
        from django.contrib.contenttypes.models import ContentType
        from django.db import transaction
        from sumatra.recordstore.django_store.tagging import TaggedItem

        with transaction.atomic(using="default"):
            rows = self.queryset().filter(label__in=plan.labels)
            ids = list(rows.values_list("db_id", flat=True))
            ctype = ContentType.objects.db_manager("default").get_for_model(self.models.Record)
            TaggedItem.objects.using("default").filter(
                content_type=ctype, object_id__in=ids
            ).delete()
            rows.delete()
        failed = []
        for path in [*plan.links, *plan.files]:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                failed.append(f"{path}: {exc}")
        return failed
