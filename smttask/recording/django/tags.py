"""Editing stored records in place: their tags, and the recorded paths of their outputs.

Sumatra keeps a record's tags twice: in the record's ``tags`` column (comma-separated) and in
its tagging tables, which ``smt list TAG`` and ``smtweb`` read. Both are changed together, in
one transaction, under the same write lock as record writes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..api import check_tag
from ..projectfile import ProjectInfo
from . import setup
from .writer import retrying

_CHUNK = 500


def tag_names(text: str | None) -> frozenset[str]:
    """The tags in a record's ``tags`` column (comma-separated; space-separated if no comma,
    as Sumatra's tagging reads it)."""
    if not text:
        return frozenset()
    words = text.split(",") if "," in text else text.split()
    return frozenset(w.strip() for w in words if w.strip())


def edit_tags(
    info: ProjectInfo,
    labels: Iterable[str],
    add: Collection[str] = (),
    remove: Collection[str] = (),
) -> dict[str, frozenset[str]]:
    """Add and remove tags of the records with these labels; return their new tags."""
    from django.contrib.contenttypes.models import ContentType
    from sumatra.recordstore.django_store import models
    from sumatra.recordstore.django_store.tagging import Tag, TaggedItem

    added = {check_tag(t) for t in add}
    removed = {check_tag(t) for t in remove} - added
    labels = list(dict.fromkeys(labels))
    setup.activate(info)
    db = "default"
    result: dict[str, frozenset[str]] = {}

    def edit() -> None:
        result.clear()
        ctype = ContentType.objects.db_manager(db).get_for_model(models.Record)
        tags = {name: Tag.objects.using(db).get_or_create(name=name)[0] for name in added}
        records = models.Record.objects.using(db).filter(project__id=info.name)
        for start in range(0, len(labels), _CHUNK):
            rows = records.filter(label__in=labels[start : start + _CHUNK])
            for db_id, label, text in rows.order_by().values_list("db_id", "label", "tags"):
                current = tag_names(text)
                new = (current | added) - removed
                result[label] = new
                if new == current:
                    continue
                models.Record.objects.using(db).filter(db_id=db_id).update(
                    tags=",".join(sorted(new))
                )
                TaggedItem.objects.using(db).filter(
                    content_type=ctype, object_id=db_id, tag__name__in=list(current - new)
                ).delete()
                for name in sorted(new - current):
                    TaggedItem.objects.using(db).get_or_create(
                        tag=tags[name], content_type=ctype, object_id=db_id
                    )

    retrying(info, edit, unchanged="no tag was changed")
    return dict(result)


def move_outputs(info: ProjectInfo, moves: Mapping[str, str]) -> int:
    """Record that output files moved (paths relative to the output data store, old → new),
    in every record naming them; return how many data keys changed."""
    from sumatra.recordstore.django_store import models

    setup.activate(info)
    changed = [0]

    def move() -> None:
        keys = models.DataKey.objects.using("default").filter(
            output_from_record__project__id=info.name
        )
        changed[0] = sum(keys.filter(path=old).update(path=new) for old, new in moves.items())

    retrying(info, move, unchanged="no record was changed")
    return changed[0]


def delete_records(info: ProjectInfo, labels: Iterable[str]) -> int:
    """Delete the records (with their output keys and tags); return how many."""
    from django.contrib.contenttypes.models import ContentType
    from sumatra.recordstore.django_store import models
    from sumatra.recordstore.django_store.tagging import TaggedItem

    labels = list(dict.fromkeys(labels))
    setup.activate(info)
    deleted = [0]

    def delete() -> None:
        deleted[0] = 0
        ctype = ContentType.objects.db_manager("default").get_for_model(models.Record)
        records = models.Record.objects.using("default").filter(project__id=info.name)
        for start in range(0, len(labels), _CHUNK):
            rows: Any = records.filter(label__in=labels[start : start + _CHUNK])
            ids = list(rows.values_list("db_id", flat=True))
            TaggedItem.objects.using("default").filter(
                content_type=ctype, object_id__in=ids
            ).delete()
            rows.delete()
            deleted[0] += len(ids)

    retrying(info, delete, unchanged="no record was deleted")
    return deleted[0]
