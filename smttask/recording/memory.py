"""``MemoryStore``: a record store in this process's memory (``RecordSink`` and
``RecordSource`` of ``smttask.recording.api``), for tests and for browsing records without a
database.

It keeps what a Django store keeps and gives it back the same way (defaults of missing fields,
times in UTC, tags as a set), evaluates every condition natively, and is safe for the threads
of one process. Nothing is written to disk: the records end with the process.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import RecordingError
from .api import (
    CHUNK,
    LONG_TEXT_FIELDS,
    TEXT_FIELDS,
    Condition,
    OutputRow,
    RecordRow,
    TextChange,
    changed_text,
    check_tag,
    keep,
    parameters_text,
)
from .fields import PLATFORM_FIELDS as _PLATFORM_FIELDS
from .projectfile import ProjectInfo


@dataclass
class _Stored:
    order: int  # when it was stored (later: larger)
    record: dict[str, Any]  # as `record()` gives it back
    row: RecordRow


class MemoryStore:
    """The records of the project `info`, kept in memory."""

    def __init__(self, info: ProjectInfo) -> None:
        self._info = info
        self._lock = threading.RLock()
        self._stored: dict[str, _Stored] = {}
        self._counter = itertools.count()

    @property
    def info(self) -> ProjectInfo:
        return self._info

    # -- RecordSink -----------------------------------------------------------------------------

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        ready = [_normalized(r) for r in records]  # every record is checked before any is kept
        with self._lock:
            for record in ready:
                self._keep(record)

    def _keep(self, record: dict[str, Any]) -> None:
        self._stored.pop(record["label"], None)
        self._stored[record["label"]] = _Stored(next(self._counter), record, _row(record))

    def edit_tags(
        self, labels: Iterable[str], add: Collection[str] = (), remove: Collection[str] = ()
    ) -> dict[str, frozenset[str]]:
        added = {check_tag(t) for t in add}
        removed = {check_tag(t) for t in remove} - added
        result = {}
        with self._lock:
            for label in dict.fromkeys(labels):
                stored = self._stored.get(label)
                if stored is None:
                    continue
                new = (stored.row.tags | added) - removed
                stored.record["tags"] = sorted(new)
                stored.row = stored.row._replace(tags=frozenset(new))
                result[label] = stored.row.tags
        return result

    def move_outputs(self, moves: Mapping[str, str]) -> int:
        changed = 0
        with self._lock:
            for stored in self._stored.values():
                for key in stored.record["output_data"]:
                    if key["path"] in moves:
                        key["path"] = moves[key["path"]]
                        changed += 1
        return changed

    def delete(self, labels: Iterable[str]) -> int:
        with self._lock:
            return sum(self._stored.pop(label, None) is not None for label in set(labels))

    def update_fields(
        self, label: str, *, outcome: TextChange | None = None, reason: TextChange | None = None
    ) -> dict[str, str] | None:
        changes = {f: c for f, c in (("outcome", outcome), ("reason", reason)) if c is not None}
        with self._lock:
            stored = self._stored.get(label)
            if stored is None:
                return None
            new = {f: changed_text(f, c, stored.record[f]) for f, c in changes.items()}
            stored.record.update(new)
            row = stored.row
            stored.row = row._replace(
                outcome=new.get("outcome", row.outcome), reason=new.get("reason", row.reason)
            )
            return new

    # -- RecordSource ---------------------------------------------------------------------------

    def native(self, condition: Condition) -> bool:
        return True

    def query(
        self,
        conditions: Sequence[Condition] = (),
        *,
        newest_first: bool = True,
        chunk_size: int = CHUNK,
    ) -> Iterator[RecordRow]:
        return iter(list(keep((s.row for s in self._in_order(newest_first)), conditions)))

    def _in_order(self, newest_first: bool = True) -> list[_Stored]:
        with self._lock:
            stored = list(self._stored.values())
        stored.sort(key=lambda s: (s.row.timestamp, s.order), reverse=newest_first)
        return stored

    def labels(self) -> list[str]:
        return [s.row.label for s in self._in_order()]

    def outputs(self, label: str) -> list[OutputRow]:
        with self._lock:
            stored = self._stored.get(label)
            return [] if stored is None else [_output(k) for k in stored.record["output_data"]]

    def output_index(self, paths: Iterable[str] | None = None) -> Iterator[tuple[str, OutputRow]]:
        wanted = None if paths is None else set(paths)
        found = []
        with self._lock:
            for stored in self._in_order():
                for key in stored.record["output_data"]:
                    if wanted is None or key["path"] in wanted:
                        found.append((stored.row.label, _output(key)))
        return iter(found)

    def input_index(self, digests: Iterable[str] | None = None) -> Iterator[tuple[str, OutputRow]]:
        wanted = None if digests is None else set(digests)
        found = []
        with self._lock:
            for stored in self._in_order():
                for key in stored.record["input_data"]:
                    if wanted is None or key["digest"] in wanted:
                        found.append((stored.row.label, _output(key)))
        return iter(found)

    def text(self, label: str, field: str) -> str:
        if field not in TEXT_FIELDS and field not in LONG_TEXT_FIELDS:
            raise RecordingError(
                f"{field!r} is not a text field of a record; the text fields are "
                f"{', '.join((*TEXT_FIELDS, *LONG_TEXT_FIELDS))}."
            )
        with self._lock:
            stored = self._stored.get(label)
            if stored is None:
                return ""
            if field == "parameters":
                return stored.row.parameters
            return str(stored.record[field] or "")

    def record(self, label: str) -> dict[str, Any] | None:
        with self._lock:
            stored = self._stored.get(label)
            return None if stored is None else copy.deepcopy(stored.record)

    def store_record(self, label: str) -> Any:
        found = self.record(label)
        if found is None:
            raise RecordingError(
                f"No record labelled {label!r} in the records of {self._info.name!r} kept in "
                f"memory. List the labels with store.labels()."
            )
        return found


def _normalized(record: Mapping[str, Any]) -> dict[str, Any]:
    """`record` as a Django store gives it back (every field, defaults filled in)."""
    try:
        r = json.loads(json.dumps(record))
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"A record must be JSON data: {exc}.") from None
    if not isinstance(r.get("label"), str) or not r["label"]:
        raise RecordingError(f"A record needs a label (text), not {r.get('label')!r}.")
    ex, repo = r.get("executable") or {}, r.get("repository") or {}
    text = {f: r.get(f) or "" for f in ("reason", "outcome", "main_file", "version", "diff")}
    text |= {f: r.get(f) or "" for f in ("user", "script_arguments", "stdout_stderr")}
    duration, repeats = r.get("duration"), r.get("repeats")
    return {
        "label": r["label"],
        "timestamp": (_when(r.get("timestamp")) or datetime.now(UTC)).isoformat(),
        "duration": None if duration is None else float(duration),
        "parameters": r.get("parameters") or {},
        "tags": sorted(set(r.get("tags") or ())),
        "repeats": None if repeats is None else str(repeats),
        **text,
        "executable": {
            "path": ex.get("path", ""),
            "name": ex.get("name", "Python"),
            "version": ex.get("version", ""),
            "options": ex.get("options", ""),
        },
        "repository": {"url": repo.get("url", ""), "upstream": repo.get("upstream")},
        "launch_mode": {"working_directory": (r.get("launch_mode") or {}).get("working_directory")},
        "datastore": str(r.get("datastore") or ""),
        "input_datastore": str(r.get("input_datastore") or r.get("datastore") or ""),
        "output_data": [_key(k) for k in r.get("output_data") or ()],
        "input_data": [_key(k) for k in r.get("input_data") or ()],
        "dependencies": [
            {
                "name": d.get("name", ""),
                "path": d.get("path", ""),
                "version": str(d.get("version", "")),
                "diff": d.get("diff", ""),
                "source": d.get("source"),
            }
            for d in r.get("dependencies") or ()
        ],
        "platforms": [
            {f: str(p.get(f) or "") for f in _PLATFORM_FIELDS}
            | {"ip_addr": str(p.get("ip_addr") or "127.0.0.1")}
            for p in r.get("platforms") or ()
        ],
    }


def _key(key: Mapping[str, Any]) -> dict[str, Any]:
    when = _when(key.get("creation"))
    return {
        "path": key.get("path", ""),
        "digest": key.get("digest", ""),
        "creation": when.isoformat() if when else None,
        "metadata": dict(key.get("metadata") or {}),
    }


def _when(text: Any) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(str(text))
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _row(r: dict[str, Any]) -> RecordRow:
    return RecordRow(
        r["label"],
        datetime.fromisoformat(r["timestamp"]),
        r["duration"],
        frozenset(r["tags"]),
        r["outcome"],
        r["reason"],
        r["version"],
        r["main_file"],
        r["script_arguments"],
        r["user"],
        parameters_text(r["parameters"]),
    )


def _output(key: Mapping[str, Any]) -> OutputRow:
    return OutputRow(key["path"], key["digest"], key["creation"], dict(key["metadata"]))
