"""RSView: browse the records of a project's store with chainable, lazy filters.

>>> rs = RSView()                                       # doctest: +SKIP
>>> rs.filter.task("analyze").filter.after(20261101).dframe()   # doctest: +SKIP

A view is a description (project + filters) until its records are needed; then it reads the
store once (after moving journaled records into it) and keeps what it read: ``refresh()``
reads again. Records are ordered newest first. A view only reads; the changes it offers (tags,
``Record.invalidate()``) are made by ``smttask.recording.edit``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, overload

from ..recording.api import Where
from . import display
from .errors import RecordNotFoundError
from .filters import Filters, Step
from .record import Record
from .source import Source

if TYPE_CHECKING:
    import pandas

    from ..recording.api import Condition, RecordStore


class RSView:
    """The records of the project in `root` (default: the current project), or a filtered
    part of them. Raises ProjectError outside a Sumatra project. With `store`, the records of
    that store (any ``smttask.recording.api.RecordStore``, read as it is)."""

    _fixed: tuple[Record, ...] | None
    _records: list[Record] | None

    def __init__(self, root: str | Path | None = None, *, store: RecordStore | None = None) -> None:
        self._source = Source(root, store=store)
        self._steps: tuple[Step, ...] = ()
        self._fixed = None
        self._records = None

    @classmethod
    def _make(
        cls, source: Source, steps: tuple[Step, ...], fixed: tuple[Record, ...] | None
    ) -> RSView:
        view = cls.__new__(cls)
        view._source, view._steps, view._fixed, view._records = source, steps, fixed, None
        return view

    def _then(self, step: Step) -> RSView:
        return RSView._make(self._source, (*self._steps, step), self._fixed)

    @property
    def filter(self) -> Filters:
        """The filters: ``rs.filter.task(...)``, ``.tags(...)``, ``.after(...)``,
        ``.params(...)``... each returning a new view; ``rs.filter(predicate)`` too."""
        return Filters(self)

    @property
    def project(self) -> str:
        return self._source.name

    @property
    def filters(self) -> list[str]:
        """The filters of this view, as text."""
        return [s.text for s in self._steps]

    # -- reading --------------------------------------------------------------------------------

    def _keep(self, record: Record) -> bool:
        return all(step.keep(record) for step in self._steps)

    def _conditions(self) -> list[Condition]:
        return [cond for step in self._steps for cond in step.conditions]

    def _stream(self, *, newest_first: bool = True, flush: bool = True) -> Iterator[Record]:
        """The records passing the filters, read from the store in time order (with `flush`,
        after moving journaled records into it)."""
        rows = self._source.rows(self._conditions(), newest_first=newest_first, flush=flush)
        for row in rows:
            record = Record(row, self._source)
            if self._keep(record):
                yield record

    def records(self) -> list[Record]:
        """The records of the view, newest first (read once, then kept)."""
        if self._records is None:
            if self._fixed is not None:
                self._records = [r for r in self._fixed if self._keep(r)]
            else:
                self._records = list(self._stream())
        return self._records

    def refresh(self) -> RSView:
        """Read the store again at next use (to see records made since); return the view."""
        self._records = None
        return self

    def __len__(self) -> int:
        return len(self.records())

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records())

    def __bool__(self) -> bool:
        return bool(self.records())

    def __contains__(self, item: object) -> bool:
        label = item.label if isinstance(item, Record) else item
        return any(r.label == label for r in self.records())

    @overload
    def __getitem__(self, index: int | str) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> RSView: ...
    def __getitem__(self, index: int | str | slice) -> Record | RSView:
        """``rs[0]`` (newest), ``rs[-1]`` (oldest), ``rs["label"]``, ``rs[:10]`` (a view)."""
        if isinstance(index, str):
            return self.get(index)
        if isinstance(index, slice):
            return RSView._make(self._source, (), tuple(self.records()[index]))
        records = self.records()
        try:
            return records[index]
        except IndexError:
            raise IndexError(
                f"Record index {index} out of range: this view holds {len(records)}."
            ) from None

    @property
    def latest(self) -> Record:
        """The newest record of the view."""
        return self._end(newest=True)

    @property
    def earliest(self) -> Record:
        """The oldest record of the view."""
        return self._end(newest=False)

    def _end(self, *, newest: bool) -> Record:
        if self._records is not None or self._fixed is not None:
            records = self.records()
            if records:
                pick = max if newest else min
                return pick(records, key=lambda r: r.timestamp)
        else:
            found = next(self._stream(newest_first=newest), None)
            if found is not None:
                return found
        raise RecordNotFoundError(
            f"No record in {self._describe()}, so it has no {'latest' if newest else 'earliest'} "
            f"record. Loosen the filters, or run the tasks first."
        )

    def get(self, label: str) -> Record:
        """The record labelled `label` (or whose label starts with it, if only one does)."""
        found = self._lookup(label, flush=True)
        if found is None:
            labels = [r.label for r in self._read(flush=False)]
            starting = [x for x in labels if x.startswith(label)] if label else []
            if len(starting) == 1:
                found = self._lookup(starting[0], flush=False)
            if found is None:
                raise RecordNotFoundError(self._not_found(label, labels, starting))
        return found

    def _lookup(self, label: str, *, flush: bool) -> Record | None:
        if self._records is not None or self._fixed is not None:
            return next((r for r in self.records() if r.label == label), None)
        conditions = [*self._conditions(), Where("label", "eq", label)]
        rows = self._source.rows(conditions, flush=flush)
        return next((r for r in (Record(row, self._source) for row in rows) if self._keep(r)), None)

    def _read(self, *, flush: bool) -> Iterable[Record]:
        """The view's records: those it keeps, or, if it keeps none yet, read again."""
        if self._records is not None or self._fixed is not None:
            return self.records()
        return self._stream(flush=flush)

    def _not_found(self, label: str, labels: list[str], starting: list[str]) -> str:
        where = self._describe()
        if starting:
            shown = ", ".join(starting[:5]) + (" …" if len(starting) > 5 else "")
            return (
                f"{len(starting)} records in {where} have labels starting with {label!r} "
                f"({shown}). Give more of the label."
            )
        text = f"No record labelled {label!r} in {where}."
        if self._steps and self._source.exists(label):
            text += " The store has it, but the view's filters leave it out."
        close = difflib.get_close_matches(label, labels, n=5, cutoff=0.6)
        if close:
            text += f" Close matches: {', '.join(close)}."
        else:
            text += " List the labels with rs.list_labels() (or `smttask smt list`)."
        return text

    def list_labels(self) -> list[str]:
        """The labels of the view's records, newest first."""
        return [r.label for r in self.records()]

    # -- editing --------------------------------------------------------------------------------

    def add_tag(self, *tags: str) -> int:
        """Add tags to every record of the view (in the store); return how many records."""
        return self._edit_tags(add=tags)

    def remove_tag(self, *tags: str) -> int:
        """Remove tags from every record of the view (in the store); return how many records."""
        return self._edit_tags(remove=tags)

    def _edit_tags(self, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> int:
        from ..recording.edit import edit_tags

        records = self.records()
        new = edit_tags(self._source.store, [r.label for r in records], add, remove)
        for record in records:
            record.tags = new.get(record.label, record.tags)
        return sum(r.label in new for r in records)

    # -- tables ---------------------------------------------------------------------------------

    def dframe(self, params: bool | list[str] = True) -> pandas.DataFrame:
        """The records as a pandas DataFrame, one row each (newest first): label, task,
        timestamp, duration, status, tags, outcome, reason, version, main_file, then the
        parameters as dotted keys (all of them, none with ``params=False``, or those listed)."""
        return display.dframe(self.records(), params)

    def summary(self) -> pandas.DataFrame:
        """How many records each task has, by status (with a ``total`` column)."""
        return display.summary(self.records())

    # -- display --------------------------------------------------------------------------------

    def _describe(self) -> str:
        what = f"project {self.project!r}"
        if self._fixed is not None:
            what = f"a selection of {len(self._fixed)} records of {what}"
        return f"{what} ({', '.join(self.filters)})" if self._steps else what

    def __repr__(self) -> str:
        return display.text(self._describe(), self.records())

    def _repr_html_(self) -> str:
        return display.html_table(self._describe(), self.records())
