"""Writing records into Sumatra's Django store, many records per transaction.

Rows are exactly those Sumatra's ``DjangoRecordStore.save`` writes (Sumatra, ``smt`` and
``smtweb`` read them back unchanged), but a whole batch goes in one transaction: shared rows
(interpreter, repository, packages, machine, parameter sets, input data keys) are looked up
by content, as Sumatra's save shares them, and inserted once; records, output data keys and
tags are inserted in bulk. A few ms per record instead of
~22 ms; all of a batch or nothing. A record whose label is already in the store is replaced
(moving a journal twice is harmless).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError, OperationalError, transaction

from ...errors import RecordingError
from ..api import parameters_text
from ..projectfile import ProjectInfo
from . import setup

BATCH = 1000
ATTEMPTS = 8


def write_records(info: ProjectInfo, records: Sequence[Mapping[str, Any]]) -> None:
    """Store `records` (dicts as described in ``fields``) in the project's record store."""
    for r in records:
        if not isinstance(r.get("label"), str) or not r["label"]:
            raise RecordingError(f"A record needs a label (text), not {r.get('label')!r}.")
    setup.activate(info)
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        retrying(info, lambda batch=batch: _Batch(info.name).write(batch))  # type: ignore[misc]


def retrying(info: ProjectInfo, write: Callable[[], None], *, unchanged: str = "") -> None:
    """Run `write` in a transaction under smttask's write lock, retrying while the database
    is busy; RecordingError if it fails (`unchanged`: what the message says was kept)."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic(using="default"):
                setup.write_lock(info)
                write()
            return
        except OperationalError as exc:
            text = str(exc).lower()
            transient = any(
                w in text for w in ("locked", "busy", "deadlock", "could not serialize")
            )
            if transient and attempt + 1 < ATTEMPTS:
                time.sleep(min(0.05 * 2**attempt, 3.0) * (0.5 + random.random()))
                continue
            raise _failed(info, exc, unchanged) from exc
        except DatabaseError as exc:
            raise _failed(info, exc, unchanged) from exc


def _failed(info: ProjectInfo, exc: BaseException, unchanged: str) -> RecordingError:
    kept = unchanged or (
        f"records waiting in {info.smt_dir / 'journal'} are kept and move on the next try"
    )
    return RecordingError(
        f"Cannot write to the record store {info.shown_store}: {type(exc).__name__}: {exc}. "
        f"Check that it is reachable and writable; {kept}."
    )


def _clip(value: Any, size: int) -> Any:
    return value[:size] if isinstance(value, str) and len(value) > size else value


def _clip_left(value: str, size: int) -> str:
    return value if len(value) <= size else "…" + value[-(size - 1) :]


def _when(text: Any) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(str(text))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class _Batch:
    def __init__(self, project_name: str) -> None:
        from django.contrib.contenttypes.models import ContentType
        from sumatra.recordstore.django_store import models
        from sumatra.recordstore.django_store.tagging import Tag, TaggedItem

        self.m, self.Tag, self.TaggedItem = models, Tag, TaggedItem
        self.project = self._row(models.Project, id=project_name)
        self.ctype = ContentType.objects.db_manager("default").get_for_model(models.Record)
        self._rows: dict[tuple[Any, ...], Any] = {}

    def _row(self, model: Any, **attrs: Any) -> Any:
        """The row with these exact values (created if missing), like Sumatra's get_or_create."""
        row = model.objects.using("default").filter(**attrs).first()
        return row if row is not None else model.objects.using("default").create(**attrs)

    def shared(self, model: Any, **attrs: Any) -> Any:
        key = (model.__name__, *attrs.items())  # each caller names the fields in one order
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = self._row(model, **attrs)
        return row

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        m = self.m
        self._replace_existing([r["label"] for r in records])
        texts = [parameters_text(r.get("parameters")) for r in records]
        params = self._parameter_sets(texts)
        rows = m.Record.objects.using("default").bulk_create(
            [self._record(r, params[t]) for r, t in zip(records, texts)]
        )
        if any(row.pk is None for row in rows):  # a backend that cannot return new ids
            rows = list(
                m.Record.objects.using("default").filter(
                    project=self.project, label__in=[r.label for r in rows]
                )
            )
        by_label = {row.label: row for row in rows}
        self._links([(by_label[_clip(r["label"], 100)], r) for r in records])

    def _parameter_sets(self, texts: list[str]) -> dict[str, Any]:
        """{content: row}: one parameter-set row per content, shared by every record with
        those parameters (an existing row if there is one), as Sumatra's save shares them;
        Sumatra's own save of a record (``smt tag``) then finds exactly one."""
        model = self.m.ParameterSet
        found: dict[str, Any] = {}
        wanted = sorted(set(texts))
        for start in range(0, len(wanted), 200):
            rows = model.objects.using("default").filter(
                type="JSONParameterSet", content__in=wanted[start : start + 200]
            )
            for row in rows.order_by("pk"):
                found.setdefault(row.content, row)
        new = [model(type="JSONParameterSet", content=t) for t in wanted if t not in found]
        for row in model.objects.using("default").bulk_create(new):
            found[row.content] = row
        return found

    def _input_keys(self, keys: list[Any]) -> dict[tuple[Any, ...], Any]:
        """{content: row}: one data-key row per content for the records' inputs (an existing
        row with that content if there is one, as Sumatra's save does)."""
        model = self.m.DataKey
        found: dict[tuple[Any, ...], Any] = {}
        wanted = {_content(k): k for k in keys}
        paths = sorted({k.path for k in keys})
        for start in range(0, len(paths), 200):
            rows = model.objects.using("default").filter(path__in=paths[start : start + 200])
            for row in rows.order_by("pk"):
                if _content(row) in wanted:
                    found.setdefault(_content(row), row)
        new = [k for c, k in wanted.items() if c not in found]
        for row in model.objects.using("default").bulk_create(new):
            found[_content(row)] = row
        return found

    def _replace_existing(self, labels: list[str]) -> None:
        m = self.m
        for start in range(0, len(labels), 500):
            old = m.Record.objects.using("default").filter(
                project=self.project, label__in=[_clip(x, 100) for x in labels[start : start + 500]]
            )
            ids = list(old.values_list("db_id", flat=True))
            if ids:
                self.TaggedItem.objects.using("default").filter(
                    content_type=self.ctype, object_id__in=ids
                ).delete()
                old.delete()

    def _record(self, r: Mapping[str, Any], params: Any) -> Any:
        ex = r.get("executable") or {}
        repo = r.get("repository") or {}
        launch = {"working_directory": (r.get("launch_mode") or {}).get("working_directory"),
                  "options": None}  # fmt: skip
        return self.m.Record(
            label=_clip(r["label"], 100),
            project=self.project,
            reason=r.get("reason") or "",
            duration=r.get("duration"),
            executable=self.shared(
                self.m.Executable,
                path=_clip(ex.get("path", ""), 200),
                name=_clip(ex.get("name", "Python"), 50),
                version=_clip(ex.get("version", ""), 100),
                options=_clip(ex.get("options", ""), 50),
            ),
            repository=self.shared(
                self.m.Repository,
                type="GitRepository",
                url=_clip(repo.get("url", ""), 200),
                upstream=_clip(repo.get("upstream"), 200),
            ),
            main_file=_clip_left(r.get("main_file") or "", 100),
            version=_clip(r.get("version") or "", 50),
            parameters=params,
            launch_mode=self.shared(
                self.m.LaunchMode, type="SerialLaunchMode", parameters=str(launch)
            ),
            datastore=self._datastore(r.get("datastore")),
            input_datastore=self._datastore(r.get("input_datastore") or r.get("datastore")),
            outcome=r.get("outcome") or "",
            timestamp=_when(r.get("timestamp")) or datetime.now(UTC),
            tags=",".join(r.get("tags") or ()),
            diff=r.get("diff") or "",
            user=_clip(r.get("user") or "", 100),
            script_arguments=r.get("script_arguments") or "",
            stdout_stderr=r.get("stdout_stderr") or "",
            repeats=r.get("repeats"),
        )

    def _datastore(self, root: Any) -> Any:
        return self.shared(
            self.m.Datastore, type="FileSystemDataStore", parameters=str({"root": str(root or "")})
        )

    def _links(self, pairs: list[tuple[Any, Mapping[str, Any]]]) -> None:
        m, db = self.m, "default"
        tagged, outputs, inputs, deps, platforms = [], [], [], [], []
        packages: dict[int, tuple[Any, list[int]]] = {}
        for row, r in pairs:
            for name in r.get("tags") or ():
                tag = self.shared(self.Tag, name=_clip(name, 50))
                tagged.append((tag.pk, self.ctype.pk, row.pk))
            outputs += [self._key(k, row) for k in r.get("output_data") or ()]
            inputs += [(row, self._key(k, None)) for k in r.get("input_data") or ()]
            listed = r.get("dependencies") or ()
            found = packages.get(id(listed))  # records of one context share its list
            if found is None or found[0] is not listed:
                found = packages[id(listed)] = (listed, [self._dependency(d).pk for d in listed])
            deps += [(row.pk, pk) for pk in found[1]]
            for p in r.get("platforms") or ():
                info = self.shared(m.PlatformInformation, **_platform(p))
                platforms.append((row.pk, info.pk))
        _insert(self.TaggedItem, ("tag", "content_type", "object_id"), tagged)
        m.DataKey.objects.using(db).bulk_create(outputs)
        shared = self._input_keys([k for _, k in inputs])
        links = {(row.pk, shared[_content(k)].pk) for row, k in inputs}
        _insert(m.Record.input_data.through, ("record", "datakey"), sorted(links))
        _insert(m.Record.dependencies.through, ("record", "dependency"), deps)
        _insert(m.Record.platforms.through, ("record", "platforminformation"), platforms)

    def _dependency(self, d: Mapping[str, Any]) -> Any:
        return self.shared(
            self.m.Dependency,
            name=_clip(d.get("name", ""), 50),
            path=_clip(d.get("path", ""), 200),
            version=_clip(str(d.get("version", "")), 40),
            diff=d.get("diff", ""),
            source=_clip(d.get("source"), 200),
            module="python",
        )

    def _key(self, key: Mapping[str, Any], row: Any) -> Any:
        return self.m.DataKey(
            path=_clip(key.get("path", ""), 200),
            digest=_clip(key.get("digest", ""), 40),
            creation=_when(key.get("creation")),
            metadata=json.dumps(key.get("metadata") or {}, sort_keys=True),
            output_from_record=row,
        )


#: Values per statement of `_insert` (the fewest any supported database allows: SQLite
#: before 3.32 takes 999 parameters).
_VALUES_PER_INSERT = 999


def _insert(model: Any, fields: tuple[str, ...], rows: Sequence[tuple[int, ...]]) -> None:
    """Insert `rows` (values of `fields`, all keys of other rows) into `model`'s table, many
    rows per statement and no model object per row: a batch's link tables (packages,
    machine, tags of each record) hold tens of thousands, which the ORM would build and
    compile one by one. The rows are those ``bulk_create`` would write."""
    if not rows:
        return
    from django.db import connections

    connection = connections["default"]
    quote = connection.ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(meta.get_field(f).column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, _VALUES_PER_INSERT // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([one] * len(chunk))
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}",
                [v for row in chunk for v in row],
            )


def _content(key: Any) -> tuple[Any, ...]:
    """What Sumatra's save compares to share a data-key row (never the record it came from)."""
    return (key.path, key.digest, key.creation, key.metadata)


_PLATFORM_SIZES = {
    "architecture_bits": 100,
    "architecture_linkage": 100,
    "machine": 20,
    "network_name": 100,
    "ip_addr": 39,
    "processor": 100,
    "release": 100,
    "system_name": 20,
    "version": 200,
}


def _platform(p: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _clip(str(p.get(k) or ""), n) for k, n in _PLATFORM_SIZES.items()} | {
        "ip_addr": str(p.get("ip_addr") or "127.0.0.1")
    }
