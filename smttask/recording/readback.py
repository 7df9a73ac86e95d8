"""Reading records from a store that is not Django's default database.

Sumatra's ``to_sumatra()`` reads a record's tags through the default database; for another
database the tags are read again from the right one.
"""

from __future__ import annotations

from typing import Any


def read_records(alias: str, project_name: str) -> list[Any]:
    """Sumatra Record objects of `project_name` in database `alias`, newest first."""
    from django.contrib.contenttypes.models import ContentType
    from sumatra.recordstore.django_store import models
    from sumatra.recordstore.django_store.tagging import Tag

    ctype = ContentType.objects.db_manager(alias).get_for_model(models.Record)
    records = []
    for row in models.Record.objects.using(alias).filter(project__id=project_name):
        record = row.to_sumatra()
        if alias != "default":
            tags = Tag.objects.using(alias).filter(
                items__content_type__pk=ctype.pk, items__object_id=row.pk
            )
            record.tags = set(tags.values_list("name", flat=True))
        records.append(record)
    return records
