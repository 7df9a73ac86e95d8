"""Reading whole records back: as the plain dicts of ``fields``, and as Sumatra ``Record``
objects from a store that is not Django's default database.

Sumatra keeps some fields as the text of a Python dict (launch mode, data store); they are
read as literals, never evaluated as code.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from ...errors import short_repr
from ..fields import PLATFORM_FIELDS as _PLATFORM_FIELDS
from .tags import tag_names


def record_dict(row: Any) -> dict[str, Any]:
    """The record of Sumatra's Django `row` as a dict of ``fields``."""
    ex, repo = row.executable, row.repository
    return {
        "label": row.label,
        "timestamp": row.timestamp.isoformat(),
        "reason": row.reason,
        "duration": row.duration,
        "outcome": row.outcome,
        "main_file": row.main_file,
        "version": row.version,
        "script_arguments": row.script_arguments,
        "parameters": _parameters(row.parameters.content),
        "tags": sorted(tag_names(row.tags)),
        "diff": row.diff,
        "user": row.user,
        "stdout_stderr": row.stdout_stderr,
        "repeats": row.repeats,
        "executable": None
        if ex is None
        else {"path": ex.path, "name": ex.name, "version": ex.version, "options": ex.options},
        "repository": None if repo is None else {"url": repo.url, "upstream": repo.upstream},
        "launch_mode": {
            "working_directory": _literal(row.launch_mode.parameters).get("working_directory")
        },
        "datastore": _literal(row.datastore.parameters).get("root"),
        "input_datastore": _literal(row.input_datastore.parameters).get("root"),
        "output_data": [data_key(k) for k in row.output_data.order_by("pk")],
        "input_data": [data_key(k) for k in row.input_data.order_by("pk")],
        "dependencies": [
            {
                "name": d.name,
                "path": d.path,
                "version": d.version,
                "diff": d.diff,
                "source": d.source,
            }
            for d in row.dependencies.order_by("pk")
        ],
        "platforms": [
            {f: getattr(p, f) for f in _PLATFORM_FIELDS} for p in row.platforms.order_by("pk")
        ],
    }


def data_key(key: Any) -> dict[str, Any]:
    return {
        "path": key.path,
        "digest": key.digest,
        "creation": key.creation.isoformat() if key.creation else None,
        "metadata": metadata(key.metadata),
    }


def metadata(text: str | None) -> dict[str, Any]:
    """A data key's metadata (JSON; a Python dict's text in stores of older Sumatras)."""
    if not text:
        return {}
    try:
        found = json.loads(text)
    except ValueError:
        found = _literal(text)
    return found if isinstance(found, dict) else {}


def _parameters(content: str) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content  # not JSON (another Sumatra parameter format): kept as text


def _literal(text: str) -> dict[str, Any]:
    try:
        found = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return {}
    return found if isinstance(found, dict) else {}


def read_records(alias: str, project_name: str, refused: list[str] | None = None) -> list[Any]:
    """Sumatra Record objects of `project_name` in database `alias`, newest first.

    Sumatra's ``to_sumatra()`` evaluates some stored text as Python (launch mode and data
    store parameters, old data-key metadata, simple parameter sets): a record whose text is
    not plain data there is left out and described in `refused`, never evaluated. Sumatra
    reads a record's tags through the default database; for another database the tags are
    read again from the right one.
    """
    from django.contrib.contenttypes.models import ContentType
    from sumatra.recordstore.django_store import models
    from sumatra.recordstore.django_store.tagging import Tag

    ctype = ContentType.objects.db_manager(alias).get_for_model(models.Record)
    records = []
    for row in models.Record.objects.using(alias).filter(project__id=project_name):
        code = _code_in(row)
        if code is not None:
            if refused is not None:
                refused.append(
                    f"Record {row.label} holds {code}, which Sumatra would run as Python code: "
                    f"it is not read"
                )
            continue
        record = row.to_sumatra()
        if alias != "default":
            tags = Tag.objects.using(alias).filter(
                items__content_type__pk=ctype.pk, items__object_id=row.pk
            )
            record.tags = set(tags.values_list("name", flat=True))
        records.append(record)
    return records


#: Parameter-set types Sumatra reads without evaluating their text.
_DATA_PARAMETER_SETS = frozenset({"JSONParameterSet", "YAMLParameterSet"})


def _code_in(row: Any) -> str | None:
    """What in the stored `row` is not plain data where Sumatra evaluates text, or None."""
    for what, text in (
        ("launch mode parameters", row.launch_mode.parameters),
        ("data store parameters", row.datastore.parameters),
        ("input data store parameters", row.input_datastore.parameters),
    ):
        if not _is_literal(text):
            return f"{what} {short_repr(text)}"
    if row.parameters.type not in _DATA_PARAMETER_SETS and row.parameters.content not in (
        "None",
        "{}",
    ):
        return f"parameters of type {row.parameters.type!r}"
    keys = [*row.input_data.all(), *row.output_data.all()]
    for key in keys:
        if key.metadata and not _is_json(key.metadata) and not _is_literal(key.metadata):
            return f"data-key metadata {short_repr(key.metadata)}"
    return None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return False
    return True
