"""The changes a view asks ``smttask.recording.edit`` to make to its records: tags, comments
(in the outcome) and reasons; the view's ``Record`` objects then show the stored values."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from ..recording import edit

if TYPE_CHECKING:
    from ..recording.api import RecordStore
    from .record import Record


def edit_tags(
    store: RecordStore, records: Sequence[Record], add: Collection[str], remove: Collection[str]
) -> int:
    """Add and remove tags of `records`; return how many of them the store still holds."""
    new = edit.edit_tags(store, [r.label for r in records], add, remove)
    for record in records:
        record.tags = new.get(record.label, record.tags)
    return sum(r.label in new for r in records)


def add_comment(store: RecordStore, records: Sequence[Record], comment: str, replace: bool) -> int:
    """Add `comment` to the outcome of `records` (see ``recording.edit.add_comment``)."""
    new = edit.add_comment(store, [r.label for r in records], comment, replace=replace)
    for record in records:
        record.outcome = new.get(record.label, record.outcome)
    return sum(r.label in new for r in records)


def update_reason(
    store: RecordStore,
    records: Sequence[Record],
    reason: str | Mapping[str, str] | Callable[[str], str | None],
    mode: str,
) -> int:
    """Change the reason of `records` (see ``recording.edit.update_reason``)."""
    new = edit.update_reason(store, [r.label for r in records], reason, mode)
    for record in records:
        record.reason = new.get(record.label, record.reason)
    return sum(r.label in new for r in records)
