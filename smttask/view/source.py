"""Where a view reads its records: a ``RecordSource`` (``smttask.recording.api``).

By default, the record store of one project, opened through ``smttask.recording``; each read
of a view's records first moves the project's journaled records into it, once. Filters reach
the store as store-neutral conditions: the store evaluates those it can, the others are
checked here on the rows it returns. Full records (a dozen queries each in Sumatra's store)
are read only when asked for one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..recording.api import Where, find
from ..recording.projectfile import ProjectInfo, require_project

if TYPE_CHECKING:
    from ..recording.api import Condition, OutputRow, RecordRow, RecordStore
    from .record import Record


class Source:
    """The record store of the project in `root` (default: the current project), or the
    `store` given (read as it is: no journal is moved into it)."""

    def __init__(self, root: str | Path | None = None, *, store: RecordStore | None = None):
        if store is None:
            from ..recording.store import open_store

            info = require_project(Path(root) if root is not None else None)
            store = open_store(info.root, flush_first=False)  # fails now if it cannot be read
            self._journals = True
        else:
            self._journals = False
        self.store: RecordStore = store

    @property
    def info(self) -> ProjectInfo:
        return self.store.info

    @property
    def name(self) -> str:
        return self.info.name

    def rows(
        self, conditions: Sequence[Condition], *, newest_first: bool = True, flush: bool = True
    ) -> Iterator[RecordRow]:
        """The records satisfying every condition, newest first (or oldest first); with
        `flush`, journaled records first move into the store."""
        if flush and self._journals:
            from ..recording.store import move_waiting

            move_waiting(self.info)
        return find(self.store, conditions, newest_first=newest_first)

    def records(self, labels: Sequence[str]) -> list[Record]:
        """The records with these labels, in that order (those still in the store)."""
        from .record import Record

        rows = {r.label: r for r in self.rows([Where("label", "in", labels)], flush=False)}
        return [Record(rows[x], self) for x in labels if x in rows]

    def exists(self, label: str) -> bool:
        return next(self.rows([Where("label", "eq", label)], flush=False), None) is not None

    def outputs(self, label: str) -> list[OutputRow]:
        return self.store.outputs(label)

    def text(self, label: str, field: str) -> str:
        return self.store.text(label, field)

    def store_record(self, label: str) -> Any:
        return self.store.store_record(label)
