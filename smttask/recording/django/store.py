"""``DjangoStore``: Sumatra's Django record store of one project, as a ``RecordSink`` and a
``RecordSource`` (see ``smttask.recording.api``), plus Sumatra's own view of it.

Every method first makes the project's store Django's default database (a no-op when it is
already). Queries read only the columns a ``RecordRow`` holds, never Sumatra's full ``Record``
objects (a dozen queries each) unless asked for them (``records()``, ``store_record()``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ...errors import RecordingError
from ..api import (
    CHUNK,
    LONG_TEXT_FIELDS,
    TEXT_FIELDS,
    Condition,
    OutputRow,
    RecordRow,
    TextChange,
    keep,
)
from ..projectfile import ProjectInfo
from . import query as conds
from . import setup, tags, textfields
from .readback import metadata, record_dict
from .writer import write_records

#: The columns of a RecordRow, in its order.
_ROW_COLUMNS = (
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
_KEY_COLUMNS = ("path", "digest", "creation", "metadata")
_NEWEST_FIRST = ("-timestamp", "-db_id")
_CHUNK = 500


class DjangoStore:
    """The records of the project `info` in its Sumatra Django store (SQLite, PostgreSQL,
    MySQL). Opening it creates the store's tables if they are missing."""

    def __init__(self, info: ProjectInfo) -> None:
        setup.activate(info)
        from sumatra.recordstore.django_store import models  # needs Django set up

        self._info = info
        self.models = models

    @property
    def info(self) -> ProjectInfo:
        return self._info

    @property
    def project_name(self) -> str:
        return self._info.name

    def _records(self) -> Any:
        setup.activate(self._info)
        return self.models.Record.objects.using("default").filter(project__id=self._info.name)

    def _keys(self) -> Any:
        setup.activate(self._info)
        return self.models.DataKey.objects.using("default").filter(
            output_from_record__project__id=self._info.name
        )

    # -- RecordSink -----------------------------------------------------------------------------

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        write_records(self._info, records)

    def edit_tags(
        self, labels: Iterable[str], add: Collection[str] = (), remove: Collection[str] = ()
    ) -> dict[str, frozenset[str]]:
        return tags.edit_tags(self._info, labels, add, remove)

    def move_outputs(self, moves: Mapping[str, str]) -> int:
        return tags.move_outputs(self._info, moves)

    def delete(self, labels: Iterable[str]) -> int:
        return tags.delete_records(self._info, labels)

    def update_fields(
        self, label: str, *, outcome: TextChange | None = None, reason: TextChange | None = None
    ) -> dict[str, str] | None:
        changes = {f: c for f, c in (("outcome", outcome), ("reason", reason)) if c is not None}
        return textfields.update_fields(self._info, label, changes)

    # -- RecordSource ---------------------------------------------------------------------------

    def native(self, condition: Condition) -> bool:
        return conds.native(self._info.kind, condition)

    def query(
        self,
        conditions: Sequence[Condition] = (),
        *,
        newest_first: bool = True,
        chunk_size: int = CHUNK,
    ) -> Iterator[RecordRow]:
        kind = self._info.kind
        rows = self._records()
        recheck = []
        for condition in conditions:
            if not conds.native(kind, condition):
                raise RecordingError(
                    f"The {kind} record store cannot evaluate {condition}; check it on the "
                    f"rows instead (see RecordSource.native)."
                )
            rows = rows.filter(conds.q(kind, condition))
            if not conds.exact(kind, condition):
                recheck.append(condition)
        order = _NEWEST_FIRST if newest_first else tuple(c[1:] for c in _NEWEST_FIRST)
        found = rows.order_by(*order).values_list(*_ROW_COLUMNS)
        rows_read = _rows(found.iterator(chunk_size=chunk_size))
        return keep(rows_read, recheck) if recheck else rows_read

    def labels(self) -> list[str]:
        return list(self._records().order_by(*_NEWEST_FIRST).values_list("label", flat=True))

    def outputs(self, label: str) -> list[OutputRow]:
        keys = self._keys().filter(output_from_record__label=label).order_by("pk")
        return [_output(*k) for k in keys.values_list(*_KEY_COLUMNS)]

    def output_index(self, paths: Iterable[str] | None = None) -> Iterator[tuple[str, OutputRow]]:
        order = [f"{c[0]}output_from_record__{c[1:]}" for c in _NEWEST_FIRST]
        columns = ("output_from_record__label", *_KEY_COLUMNS)
        if paths is None:
            rows = self._keys().order_by(*order).values_list(*columns)
            for label, *key in rows.iterator(chunk_size=_CHUNK):
                yield label, _output(*key)
            return
        wanted = list(dict.fromkeys(paths))
        found: list[Any] = []
        for start in range(0, len(wanted), _CHUNK):
            part = self._keys().filter(path__in=wanted[start : start + _CHUNK])
            found += part.values_list(*columns, *(c[1:] for c in order))
        found.sort(key=lambda r: (r[-2], r[-1]), reverse=True)  # newest record first
        for label, *key in (r[:-2] for r in found):
            yield label, _output(*key)

    def input_index(self, digests: Iterable[str] | None = None) -> Iterator[tuple[str, OutputRow]]:
        setup.activate(self._info)
        links = self.models.Record.input_data.through.objects.using("default").filter(
            record__project__id=self._info.name
        )
        order = [f"{c[0]}record__{c[1:]}" for c in _NEWEST_FIRST]
        columns = ("record__label", *(f"datakey__{c}" for c in _KEY_COLUMNS))
        if digests is None:
            parts = [links]
        else:
            wanted = list(dict.fromkeys(digests))
            parts = [
                links.filter(datakey__digest__in=wanted[start : start + _CHUNK])
                for start in range(0, len(wanted), _CHUNK)
            ]
        found: list[Any] = []
        for part in parts:
            found += part.order_by(*order, "pk").values_list(*columns, *(c[1:] for c in order))
        found.sort(key=lambda r: (r[-2], r[-1]), reverse=True)  # newest record first
        for label, *key in (r[:-2] for r in found):
            yield label, _output(*key)

    def text(self, label: str, field: str) -> str:
        if field not in TEXT_FIELDS and field not in LONG_TEXT_FIELDS:
            raise RecordingError(
                f"{field!r} is not a text field of a record; the text fields are "
                f"{', '.join((*TEXT_FIELDS, *LONG_TEXT_FIELDS))}."
            )
        column = "parameters__content" if field == "parameters" else field
        found = self._records().filter(label=label).values_list(column, flat=True).first()
        return str(found or "")

    def record(self, label: str) -> dict[str, Any] | None:
        related = ("executable", "repository", "parameters", "launch_mode", "datastore")
        row = self._records().filter(label=label).select_related(*related).first()
        return None if row is None else record_dict(row)

    def store_record(self, label: str) -> Any:
        found = self.records([label])
        if not found:
            raise RecordingError(
                f"No record labelled {label!r} in {self._info.shown_store}. List the labels with "
                f"`smttask smt list`."
            )
        return found[0]

    # -- Sumatra's view -------------------------------------------------------------------------

    def queryset(self) -> Any:
        """Django query set of this project's records (newest first)."""
        return self._records()

    def sumatra_store(self) -> Any:
        """Sumatra's DjangoRecordStore object for this store (``.list``, ``.get``, ...)."""
        from sumatra.recordstore.django_store import DjangoRecordStore

        setup.activate(self._info)
        store = DjangoRecordStore.__new__(DjangoRecordStore)
        store._db_file, store._db_label = self._info.store, "default"
        return store

    def records(self, labels: Iterable[str] | None = None) -> list[Any]:
        """Sumatra Record objects (all, or those with these labels), newest first."""
        rows = self._records().order_by(*_NEWEST_FIRST)
        if labels is not None:
            rows = rows.filter(label__in=list(labels))
        return [row.to_sumatra() for row in rows]

    def get(self, label: str) -> Any:
        """Sumatra's Record labelled `label` (RecordingError if there is none)."""
        return self.store_record(label)


def _rows(found: Iterator[tuple[Any, ...]]) -> Iterator[RecordRow]:
    names = tags.tag_names
    for label, when, duration, text, outcome, reason, version, main, args, user, params in found:
        yield RecordRow(
            label,
            when,
            duration,
            names(text),
            outcome or "",
            reason or "",
            version or "",
            main or "",
            args or "",
            user or "",
            params or "",
        )


def _output(path: str, digest: str, creation: Any, meta: str | None) -> OutputRow:
    return OutputRow(path, digest, creation.isoformat() if creation else None, metadata(meta))
