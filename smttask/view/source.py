"""Where a view reads its records: the record store of one project.

Reading goes through ``smttask.recording`` (the only Sumatra/Django user): its store object
hands out the Django query set of the project's records, which the view narrows with plain
``filter()`` calls and reads with ``values()``, never loading Sumatra's full record objects
(a dozen queries each) unless asked for one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..recording.projectfile import ProjectInfo, require_project

if TYPE_CHECKING:
    from ..recording.store import RecordStore

#: The columns a view reads for each record (the rest is read on demand).
ROW_FIELDS = (
    "label",
    "timestamp",
    "duration",
    "tags",
    "outcome",
    "reason",
    "version",
    "main_file",
    "script_arguments",
    "user",
    "parameters__content",
)
OUTPUT_FIELDS = ("output_data__path", "output_data__digest", "output_data__metadata")


class Source:
    """The record store of the project in `root` (default: the current project)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.info: ProjectInfo = require_project(Path(root) if root is not None else None)
        self.store(flush=True)  # fails now, with the store's message, if it cannot be read

    @property
    def name(self) -> str:
        return self.info.name

    def store(self, *, flush: bool = False) -> RecordStore:
        """The store, as Django's default database; with `flush`, journaled records first
        move into it."""
        from ..recording.store import open_store

        return open_store(self.info.root, flush_first=flush)

    def rows(self, filters: list[dict[str, Any]], *, flush: bool = True) -> Any:
        """The query set of the records passing every filter (newest first), as row dicts."""
        query = self.store(flush=flush).queryset()
        for kwargs in filters:
            query = query.filter(**kwargs)
        return query.order_by("-timestamp", "-db_id").values(*ROW_FIELDS)

    def one(self, label: str) -> Any:
        """The query set holding the record labelled `label`."""
        return self.store().queryset().filter(label=label)

    def outputs(self, label: str) -> list[tuple[str, str, str]]:
        rows = self.one(label).order_by().values_list(*OUTPUT_FIELDS)
        return [(p, d, m or "") for p, d, m in rows if p is not None]

    def text(self, label: str, column: str) -> str:
        found = self.one(label).values_list(column, flat=True).first()
        return str(found or "")

    def labels(self) -> list[str]:
        return list(self.store().queryset().values_list("label", flat=True))
