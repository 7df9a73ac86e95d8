"""Editing stored records in place: their tags, and the recorded paths of their outputs.

Sumatra keeps a record's tags twice: in the record's ``tags`` column (comma-separated) and in
its tagging tables, which ``smt list TAG`` and ``smtweb`` read. Both are changed together, in
one transaction, under the same write lock as record writes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from ..errors import RecordingError

if TYPE_CHECKING:
    from .store import RecordStore

_CHUNK = 500


def tag_names(text: str | None) -> frozenset[str]:
    """The tags in a record's ``tags`` column (comma-separated; space-separated if no comma,
    as Sumatra's tagging reads it)."""
    if not text:
        return frozenset()
    words = text.split(",") if "," in text else text.split()
    return frozenset(w.strip() for w in words if w.strip())


def check_tag(tag: str) -> str:
    """`tag` if Sumatra can store it as one tag, else RecordingError."""
    if not isinstance(tag, str) or not tag.strip() or len(tag) > 50:
        raise RecordingError(
            f"A tag is a non-empty string of at most 50 characters, not {tag!r}. Give a "
            f"shorter tag."
        )
    if "," in tag or '"' in tag or tag != tag.strip() or any(c.isspace() for c in tag):
        raise RecordingError(
            f"Tag {tag!r} contains a comma, quote or white space, which Sumatra would split "
            f"into several tags. Use '-' or '_' instead (e.g. {'_'.join(tag.split())!r})."
        )
    return tag


def edit_tags(
    store: RecordStore,
    labels: Iterable[str],
    add: Collection[str] = (),
    remove: Collection[str] = (),
) -> dict[str, frozenset[str]]:
    """Add and remove tags of the records with these labels; return their new tags."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from sumatra.recordstore.django_store.tagging import Tag, TaggedItem

    from . import djangodb

    added = {check_tag(t) for t in add}
    removed = {check_tag(t) for t in remove} - added
    labels = list(dict.fromkeys(labels))
    djangodb.activate(store.info)
    db = "default"
    result: dict[str, frozenset[str]] = {}
    with transaction.atomic(using=db):
        djangodb.write_lock(store.info)
        ctype = ContentType.objects.db_manager(db).get_for_model(store.models.Record)
        tags = {name: Tag.objects.using(db).get_or_create(name=name)[0] for name in added}
        for start in range(0, len(labels), _CHUNK):
            rows = store.queryset().filter(label__in=labels[start : start + _CHUNK])
            for db_id, label, text in rows.order_by().values_list("db_id", "label", "tags"):
                current = tag_names(text)
                new = (current | added) - removed
                result[label] = new
                if new == current:
                    continue
                store.models.Record.objects.using(db).filter(db_id=db_id).update(
                    tags=",".join(sorted(new))
                )
                TaggedItem.objects.using(db).filter(
                    content_type=ctype, object_id=db_id, tag__name__in=list(current - new)
                ).delete()
                for name in sorted(new - current):
                    TaggedItem.objects.using(db).get_or_create(
                        tag=tags[name], content_type=ctype, object_id=db_id
                    )
    return result


def move_outputs(store: RecordStore, moves: Mapping[str, str]) -> int:
    """Record that output files moved (paths relative to the output data store, old → new),
    in every record naming them; return how many data keys changed."""
    from django.db import transaction

    from . import djangodb

    djangodb.activate(store.info)
    changed = 0
    with transaction.atomic(using="default"):
        djangodb.write_lock(store.info)
        keys = store.models.DataKey.objects.using("default").filter(
            output_from_record__project__id=store.info.name
        )
        for old, new in moves.items():
            changed += keys.filter(path=old).update(path=new)
    return changed
