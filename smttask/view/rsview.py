"""RSView: browse the records of a project's store with chainable, lazy filters.

>>> rs = RSView()                                       # doctest: +SKIP
>>> rs.filter.task("analyze").filter.after(20261101).dframe()   # doctest: +SKIP

A view is a description (project + filters) until its records are needed; then it reads the
store once (after moving journaled records into it) and keeps what it read: ``refresh()``
reads again. Records are ordered newest first. Views combine (``a | b``, ``a & b``) and
split into groups by parameters (``splitby``). A view only reads; the changes it offers (tags,
comments, reasons, ``Record.invalidate()``) are made by ``smttask.recording.edit``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from ..recording.api import Where
from . import display, editing, export, groups, keys
from .combine import Combined, combine
from .errors import RecordNotFoundError
from .filters import Filters
from .record import Record
from .source import Source
from .steps import Step

if TYPE_CHECKING:
    import pandas

    from ..recording.api import Condition, RecordStore

#: What a view reads before its own filters: the store (None), a fixed selection of
#: records, or two views combined.
Base = tuple[Record, ...] | Combined | None


class RSView:
    """The records of the project in `root` (default: the current project), or a filtered
    part of them. Raises ProjectError outside a Sumatra project. With `store`, the records of
    that store (any ``smttask.recording.api.RecordStore``, read as it is)."""

    _base: Base
    _records: list[Record] | None

    def __init__(self, root: str | Path | None = None, *, store: RecordStore | None = None) -> None:
        self._source = Source(root, store=store)
        self._set((), None)

    def _set(self, steps: tuple[Step, ...], base: Base) -> None:
        self._steps, self._base, self._records = steps, base, None
        # the exact tests, cheapest first (a record failing one is not read further)
        self._tests = tuple(s.keep for s in sorted(steps, key=lambda s: s.cost))

    @classmethod
    def _make(cls, source: Source, steps: tuple[Step, ...], base: Base) -> RSView:
        view = cls.__new__(cls)
        view._source = source
        view._set(steps, base)
        return view

    def _then(self, step: Step) -> RSView:
        return RSView._make(self._source, (*self._steps, step), self._base)

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
        return all(test(record) for test in self._tests)

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

    def _collect(self, *, flush: bool) -> list[Record]:
        """The records of the view, read now (not kept)."""
        if self._base is None:
            return list(self._stream(flush=flush))
        base = self._base if isinstance(self._base, tuple) else self._base.records(flush)
        return [r for r in base if self._keep(r)]

    def _held(self) -> bool:
        """Whether the view's records are a list (kept, fixed or combined), not a query."""
        return self._records is not None or self._base is not None

    def records(self) -> list[Record]:
        """The records of the view, newest first (read once, then kept)."""
        if self._records is None:
            self._records = self._collect(flush=True)
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
            return self._selection(self.records()[index])
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

    def _selection(self, records: Iterable[Record]) -> RSView:
        return RSView._make(self._source, (), tuple(records))

    def _end(self, *, newest: bool) -> Record:
        if self._held():
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
        if self._held():
            return next((r for r in self.records() if r.label == label), None)
        conditions = [*self._conditions(), Where("label", "eq", label)]
        rows = self._source.rows(conditions, flush=flush)
        return next((r for r in (Record(row, self._source) for row in rows) if self._keep(r)), None)

    def _read(self, *, flush: bool) -> Iterable[Record]:
        """The view's records: those it keeps, or, if it keeps none yet, read again."""
        if self._held():
            return self.records()
        return self._stream(flush=flush)

    def _not_found(self, label: str, labels: list[str], starting: list[str]) -> str:
        left_out = bool(self._steps) and not starting and self._source.exists(label)
        return display.not_found(self._describe(), label, labels, starting, left_out)

    def list_labels(self) -> list[str]:
        """The labels of the view's records, newest first."""
        return [r.label for r in self.records()]

    # -- combining and grouping ----------------------------------------------------------------

    def __or__(self, other: object) -> RSView:
        """The records of either view (each once), newest first: ``rs1 | rs2``."""
        return RSView._make(self._source, (), combine("|", self, other))

    def __and__(self, other: object) -> RSView:
        """The records of both views: ``rs1 & rs2``."""
        return RSView._make(self._source, (), combine("&", self, other))

    def join(self, other: RSView) -> RSView:
        """``self | other`` (SumatraTask's name)."""
        return self | other

    def splitby(
        self,
        split: str | Sequence[keys.Key],
        names: Sequence[str] | None = None,
        *,
        drop_unused: bool = True,
    ) -> dict[Any, RSView]:
        """The records grouped by their parameters at `split` (a dotted key, or a list or
        tuple of keys; a key in the tuple form goes in a list: ``[("opts", "a.b")]``):
        ``{SplitKey(dt=0.5, n=10): view, ...}``, each key a named tuple of the values
        (fields named by `names`, or by each key's last part; ``keys.MISSING`` where a record
        has none; lists as tuples), groups ordered by their values where these compare.
        With `drop_unused`, only the keys that tell groups apart stay in the named tuples:
        not those with one value in every group, and, of the others, the first ones that
        are enough."""
        split_keys: list[keys.Key] = [split] if isinstance(split, str) else list(split)
        chosen = groups.group_names(split_keys, names)
        kept, found = groups.split(self.records(), split_keys, drop_unused)
        key = namedtuple("SplitKey", [chosen[i] for i in kept])  # type: ignore[misc]
        return {key(*values): self._selection(members) for values, members in found}

    # -- editing --------------------------------------------------------------------------------

    def add_tag(self, *tags: str) -> int:
        """Add tags to every record of the view (in the store); return how many records."""
        return editing.edit_tags(self._source.store, self.records(), tags, ())

    def remove_tag(self, *tags: str) -> int:
        """Remove tags from every record of the view (in the store); return how many records."""
        return editing.edit_tags(self._source.store, self.records(), (), tags)

    def add_comment(self, comment: str, *, replace: bool = False) -> int:
        """Add `comment` to the outcome of every record of the view, on a line of its own
        (as ``smt comment`` does), unless it is there already; with `replace`, the outcome
        becomes `comment`. Return how many records."""
        return editing.add_comment(self._source.store, self.records(), comment, replace)

    def update_reason(
        self,
        reason: str | Mapping[str, str] | Callable[[str], str | None],
        mode: str = "prepend",
    ) -> int:
        """Change the reason of every record of the view; return how many records.
        `mode`: ``prepend`` / ``append`` `reason` (unless the reason already contains it),
        ``replace``; a mapping ``{pattern: text}`` substitutes (``re.sub``) and a function
        of the reason returns the new one (None: unchanged)."""
        return editing.update_reason(self._source.store, self.records(), reason, mode)

    # -- export ---------------------------------------------------------------------------------

    def export(self, path: str | Path, *, overwrite: bool = False, indent: int = 2) -> Path:
        """Write the view's records (every field: parameters, outputs with their SHA-1,
        code version...) to the JSON file `path`, readable without smttask (the format:
        ``docs/view.md``); an existing file is replaced only with `overwrite`."""
        records = self.records()
        return export.write(self._source.info, records, path, overwrite=overwrite, indent=indent)

    def to_json(self, indent: int | None = 2) -> str:
        """The document ``export()`` writes, as text."""
        return export.text(self._source.info, self.records(), indent)

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
        if isinstance(self._base, tuple):
            what = f"a selection of {len(self._base)} records of {what}"
        elif self._base is not None:
            what = self._base.describe()
        return f"{what} ({', '.join(self.filters)})" if self._steps else what

    def __repr__(self) -> str:
        return display.text(self._describe(), self.records())

    def _repr_html_(self) -> str:
        return display.html_table(self._describe(), self.records())
