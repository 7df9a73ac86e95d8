"""Changing a stored record's outcome and reason in place (``RecordSink.update_fields``).

The stored text is read and the new text written in one transaction, under the same write
lock as record writes (and the row locked, where the database locks rows), so that two changes
made at the same time (two processes appending a comment) both survive. Sumatra reads the same columns (``smt list -l``, ``smtweb``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..api import TextChange, changed_text
from ..projectfile import ProjectInfo
from . import setup
from .writer import retrying


def update_fields(
    info: ProjectInfo, label: str, changes: Mapping[str, TextChange]
) -> dict[str, str] | None:
    """Apply `changes` ({field: new text or function of the stored text}) to the record
    `label`; return the fields' new text (None if there is no such record)."""
    from sumatra.recordstore.django_store import models

    setup.activate(info)
    fields = list(changes)
    result: list[dict[str, str] | None] = [None]

    def edit() -> None:
        result[0] = None
        records = models.Record.objects.using("default").filter(project__id=info.name)
        rows = records.filter(label=label).select_for_update()  # MySQL has no write lock
        found = rows.values_list("db_id", *fields).first()
        if found is None:
            return
        db_id, *current = found
        new = {f: changed_text(f, changes[f], text or "") for f, text in zip(fields, current)}
        if new != {f: text or "" for f, text in zip(fields, current)}:
            models.Record.objects.using("default").filter(db_id=db_id).update(**new)
        result[0] = new

    retrying(info, edit, unchanged="no record was changed")
    return result[0]
