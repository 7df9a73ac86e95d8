"""Lineage: the stored results a record read, the records that produced them, and so on
back to the raw inputs. Works on any ``RecordSource`` (``smttask.recording.api``).

A record lists what it read in ``input_data`` (see ``fields.input_keys``): the results of the
recorded tasks upstream of it and the earlier iteration a resumed iterative task started
from. The *producer* of such a result is a record naming an output with the same content
(SHA-1) in the same place: the archive the input resolved to (its ``archive`` metadata), or,
for records written before inputs named their archive, a file with the same task folder and
result name. A result read from a file no record names has no producer (it was computed
with recording off); its consumer's own inputs are then the raw inputs of the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ..errors import RecordingError
from ..storage import parse
from ..taskfile import FORMAT_KEY
from . import fields
from .api import OutputRow, RecordRow, Where, find

if TYPE_CHECKING:
    from .api import RecordSource, RecordStore

_STATUS = (
    (fields.CRASHED, "crashed"),
    (fields.KILLED, "killed"),
    (fields.FINISHED, "finished"),
    (fields.RUNNING, "running"),
    (fields.SURROGATE, "surrogate"),
)


@dataclass(frozen=True)
class Used:
    """One stored result a record read."""

    path: str  # as the record names it: relative to the input data store
    digest: str  # SHA-1 of its content when it was read
    output: str  # the producing task's output name ("" for a single unnamed output)
    role: str  # "upstream" (a recorded task upstream) or "resumed" (an earlier iteration)
    archive: str | None  # the archive it resolved to (relative to the output data store)
    producers: tuple[str, ...]  # labels of the records that produced it, likeliest first

    @property
    def producer(self) -> str | None:
        return self.producers[0] if self.producers else None


@dataclass
class Node:
    """One record in a lineage tree, with the results it read and their own lineage."""

    label: str
    task: str  # module.task
    status: str
    timestamp: datetime
    duration: float | None  # seconds
    version: str  # commit
    inputs: dict[str, str] = field(default_factory=dict)  # the task's inputs, as short text
    outputs: list[OutputRow] = field(default_factory=list)
    used: list[tuple[Used, Node | None]] = field(default_factory=list)
    repeated: bool = False  # shown already, higher in the tree (its lineage is there)

    def records(self) -> list[str]:
        """The labels of the tree, depth first from this record (each once)."""
        found: dict[str, None] = {}
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            found.setdefault(node.label, None)
            stack.extend(n for _, n in reversed(node.used) if n is not None)
        return list(found)


def status(tags: Iterable[str]) -> str:
    """``finished``, ``crashed``, ``killed``, ``running``, ``surrogate`` or ``""``."""
    present = set(tags)
    return next((name for tag, name in _STATUS if tag in present), "")


def row(source: RecordSource, label: str) -> RecordRow:
    found = next(find(source, [Where("label", "eq", label)]), None)
    if found is None:
        raise RecordingError(
            f"No record labelled {label!r} in the record store. List the labels with "
            f"`smttask smt list`."
        )
    return found


def used(source: RecordSource, label: str) -> list[Used]:
    """The stored results record `label` read, each with the records that produced it."""
    record = source.record(label)
    if record is None:
        row(source, label)  # raises: no such record
        return []
    return _used(record, label, _Producers(source))


def parents(source: RecordSource, label: str) -> list[str]:
    """Labels of the records that produced what record `label` read (in its input order)."""
    return list(dict.fromkeys(p for u in used(source, label) if (p := u.producer) is not None))


def children(source: RecordSource, label: str) -> list[str]:
    """Labels of the records that read a result record `label` produced, newest first."""
    outputs = source.outputs(label)
    by_digest: dict[str, list[OutputRow]] = {}
    for out in outputs:
        by_digest.setdefault(out.digest, []).append(out)
    found: dict[str, None] = {}
    for child, key in source.input_index(by_digest):
        if child != label and any(consumes(key, out) for out in by_digest.get(key.digest, ())):
            found.setdefault(child, None)
    return list(found)


def consumes(read: OutputRow, produced: OutputRow) -> bool:
    """Whether the input `read` of one record is the output `produced` of another: the same
    content, as the same result of the same task (wherever it was archived: a numbered
    archive, or a file invalidated since)."""
    if read.digest != produced.digest:
        return False
    archive = read.metadata.get("archive")
    place = archive if isinstance(archive, str) else read.path
    return place == produced.path or _same_result(place, produced.path)


def lineage(source: RecordSource, label: str) -> Node:
    """The tree of records from `label` back to the raw inputs (each record expanded once;
    ``Node.repeated`` marks the later mentions)."""
    finder = _Producers(source)
    top = _node(source, row(source, label), finder)
    expanded = {label}
    stack = [top]
    while stack:
        node = stack.pop()
        for i, (item, _) in enumerate(node.used):
            producer = item.producer
            if producer is None:
                continue
            child = _node(source, row(source, producer), finder)
            if producer in expanded:
                child = Node(
                    child.label,
                    child.task,
                    child.status,
                    child.timestamp,
                    child.duration,
                    child.version,
                    repeated=True,
                )
            else:
                expanded.add(producer)
                stack.append(child)
            node.used[i] = (item, child)
    return top


def resolve(store: RecordStore, file_or_label: str) -> str:
    """The label of a record: `file_or_label` itself (or the one label starting with it),
    or, for a path to a result file, the newest record that produced its content."""
    from pathlib import Path

    from .lookup import find_output

    path = Path(file_or_label)
    if path.is_file():
        matches = [m for m in find_output(store, path) if m.matches]
        if not matches:
            raise RecordingError(
                f"No record produced the content {path} holds now: it was computed with "
                f"recording off, or changed since. `smttask store find-output {path}` lists "
                f"the records that name it."
            )
        return matches[0].label
    labels = store.labels()
    if file_or_label in labels:
        return file_or_label
    starting = [x for x in labels if file_or_label and x.startswith(file_or_label)]
    if len(starting) == 1:
        return starting[0]
    if starting:
        raise RecordingError(
            f"{len(starting)} records have labels starting with {file_or_label!r} "
            f"({', '.join(starting[:5])}{' …' if len(starting) > 5 else ''}). Give more of it."
        )
    raise RecordingError(
        f"{file_or_label!r} is neither a file nor the label of a record. Give a result file "
        f"or a label (`smttask smt list` lists them)."
    )


# -- inside -------------------------------------------------------------------------------------


class _Producers:
    """Finds the records that produced a stored result (reading the output index at most
    once, for results whose archive no record names)."""

    def __init__(self, source: RecordSource) -> None:
        self.source = source
        self._by_digest: dict[str, list[tuple[str, OutputRow]]] | None = None
        self._times: dict[str, datetime] = {}

    def of(self, read: OutputRow, when: datetime | None, *, exclude: str) -> tuple[str, ...]:
        places = [p for p in (read.metadata.get("archive"), read.path) if isinstance(p, str)]
        found = [
            label
            for label, out in self.source.output_index(places)
            if label != exclude and consumes(read, out)
        ]
        if not found:
            found = [
                label
                for label, out in self._index().get(read.digest, ())
                if label != exclude and consumes(read, out)
            ]
        return self._likeliest(list(dict.fromkeys(found)), when)

    def _index(self) -> dict[str, list[tuple[str, OutputRow]]]:
        if self._by_digest is None:
            self._by_digest = {}
            for label, out in self.source.output_index():
                self._by_digest.setdefault(out.digest, []).append((label, out))
        return self._by_digest

    def _likeliest(self, labels: list[str], when: datetime | None) -> tuple[str, ...]:
        """Records that started before the consumer first (newest first), then the others."""
        missing = [x for x in labels if x not in self._times]
        if missing:
            for r in find(self.source, [Where("label", "in", missing)]):
                self._times[r.label] = r.timestamp
        known = [x for x in labels if x in self._times]
        before = sorted(
            (x for x in known if when is None or self._times[x] <= when),
            key=lambda x: self._times[x],
            reverse=True,
        )
        after = sorted((x for x in known if x not in before), key=lambda x: self._times[x])
        return (*before, *after)


def _node(source: RecordSource, r: RecordRow, finder: _Producers) -> Node:
    record = source.record(r.label) or {}
    params = record.get("parameters")
    return Node(
        label=r.label,
        task=r.script_arguments,
        status=status(r.tags),
        timestamp=r.timestamp,
        duration=r.duration,
        version=r.version,
        inputs=input_texts(params) if isinstance(params, Mapping) else {},
        outputs=source.outputs(r.label),
        used=[(u, None) for u in _used(record, r.label, finder)],
    )


def _used(record: Mapping[str, Any], label: str, finder: _Producers) -> list[Used]:
    when = _when(record.get("timestamp"))
    found = []
    for key in record.get("input_data") or ():
        meta = key.get("metadata") or {}
        read = OutputRow(key["path"], key["digest"], key.get("creation"), meta)
        archive = meta.get("archive")
        found.append(
            Used(
                path=read.path,
                digest=read.digest,
                output=str(meta.get("output") or _output_from_name(read.path)),
                role=str(meta.get("role") or fields.UPSTREAM),
                archive=archive if isinstance(archive, str) else None,
                producers=finder.of(read, when, exclude=label),
            )
        )
    return found


def input_texts(desc: Mapping[str, Any], limit: int = 60) -> dict[str, str]:
    """The inputs of a task description as short text: recorded upstream tasks as
    ``<name>``, memoized ones as ``name(inputs...)``, values as JSON."""
    inputs = desc.get("inputs")
    if not isinstance(inputs, Mapping):
        return {}
    return {str(k): _short(_value_text(v), limit) for k, v in inputs.items()}


def _value_text(value: Any) -> str:
    if isinstance(value, Mapping) and FORMAT_KEY in value:
        name = str(value.get("task", "?"))
        if _recorded_kind(value.get("kind")):
            return f"<{name}>"
        inner = value.get("inputs")
        if not isinstance(inner, Mapping):
            inner = {}
        return f"{name}({', '.join(f'{k}={_value_text(v)}' for k, v in inner.items())})"
    if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _recorded_kind(name: Any) -> bool:
    from .. import kinds

    kind = getattr(kinds, name, None) if isinstance(name, str) else None
    return isinstance(kind, type) and bool(getattr(kind, "recorded", False))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _output_from_name(path: str) -> str:
    name = parse(PurePosixPath(path).name)
    return name.output if name is not None else ""


def _same_result(read: str, produced: str) -> bool:
    """Same task folder and result name, numbering and invalidation aside."""
    a, b = PurePosixPath(read), PurePosixPath(produced)
    ra, rb = parse(a.name), parse(b.name)
    if ra is None or rb is None or a.parent.name != b.parent.name:
        return False
    return (ra.key, ra.output, ra.ext) == (rb.key, rb.output, rb.ext)


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else None
