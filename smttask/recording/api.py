"""The record-store seam: what smttask asks of a record store, in store-neutral terms.

Records are written through a ``RecordSink`` (the plain dicts of ``fields``) and read through
a ``RecordSource``. A source is queried with *conditions*, small values naming a field, an
operation and a value (``Where("script_arguments", "endswith", ".analyze")``, any of several
with ``AnyOf``); ``matches`` defines what each one means. A source evaluates the conditions
it declares ``native`` in the store, exactly as ``matches`` does; the caller checks the others
itself. Nothing of a particular store (query sets, SQL, model rows) crosses this seam.

Implementations: ``smttask.recording.django`` (Sumatra's Django store on SQLite, PostgreSQL,
MySQL) and ``smttask.recording.memory`` (in memory). Both pass the contract suite
``tests/test_record_store_contract.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..errors import RecordingError

if TYPE_CHECKING:
    from .projectfile import ProjectInfo

#: Fields holding text, and the operations on them.
TEXT_FIELDS = (
    "label",
    "outcome",
    "reason",
    "version",
    "main_file",
    "script_arguments",
    "user",
    "parameters",  # the parameters as JSON text (see `parameters_text`)
)
#: Long text fields, read one record at a time (`RecordSource.text`).
LONG_TEXT_FIELDS = ("stdout_stderr", "diff")
_OPS: dict[str, frozenset[str]] = {
    **{f: frozenset({"eq", "in", "contains", "endswith", "regex"}) for f in TEXT_FIELDS},
    "timestamp": frozenset({"gte", "lt"}),
    "tags": frozenset({"has"}),
}
#: Rows read at a time by `RecordSource.query`, unless told otherwise.
CHUNK = 500


class RecordRow(NamedTuple):
    """The fields of a record that a query returns (the rest: `RecordSource.record`)."""

    label: str
    timestamp: datetime  # aware, UTC
    duration: float | None
    tags: frozenset[str]
    outcome: str
    reason: str
    version: str
    main_file: str
    script_arguments: str  # module.task
    user: str
    parameters: str  # JSON text


_INDEX = {name: i for i, name in enumerate(RecordRow._fields)}


class OutputRow(NamedTuple):
    """One output file a record names (a Sumatra DataKey)."""

    path: str  # relative to the output data store
    digest: str  # SHA-1 of the content when the record was made
    creation: str | None  # ISO date-time (UTC)
    metadata: dict[str, Any]  # mimetype, encoding, size, output


@dataclass(frozen=True)
class Where:
    """The condition `field` `op` `value`; see `matches` for the operations."""

    field: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        ops = _OPS.get(self.field)
        if ops is None:
            raise RecordingError(
                f"Records cannot be selected by {self.field!r}; the fields are {', '.join(_OPS)}."
            )
        if self.op not in ops:
            raise RecordingError(
                f"Operation {self.op!r} does not apply to field {self.field!r}; use one of "
                f"{', '.join(sorted(ops))}."
            )
        value = self.value
        if self.op == "in":
            value = tuple(value)
            object.__setattr__(self, "value", value)
        if self.op in ("gte", "lt"):
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise RecordingError(
                    f"{self.field} {self.op} needs a datetime with a time zone, not {value!r}."
                )
        elif not all(isinstance(v, str) for v in (value if self.op == "in" else (value,))):
            raise RecordingError(f"{self.field} {self.op} needs text, not {value!r}.")
        if self.op == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                raise RecordingError(f"Invalid regular expression {value!r}: {exc}.") from None


@dataclass(frozen=True)
class AnyOf:
    """True when any of `conditions` is (false for none)."""

    conditions: tuple[Where, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))


Condition = Where | AnyOf


def matches(condition: Condition, row: RecordRow) -> bool:
    """Whether `row` satisfies `condition`: the meaning every store follows.

    ``eq``, ``in``: equal text; ``contains``, ``endswith``: substring, suffix (case matters);
    ``regex``: Python's ``re.search``; ``gte``, ``lt``: at or after, before a time; ``has``:
    the record has the tag.
    """
    return predicate(condition)(row)


def predicate(condition: Condition) -> Callable[[RecordRow], bool]:
    """`matches` for one condition, as a function of a row (for testing many rows)."""
    if isinstance(condition, AnyOf):
        parts = [predicate(c) for c in condition.conditions]
        return lambda row: any(part(row) for part in parts)
    i, op, wanted = _INDEX[condition.field], condition.op, condition.value
    test: Callable[[Sequence[Any]], bool]
    if op == "eq":
        test = lambda row: bool(row[i] == wanted)  # noqa: E731
    elif op == "in":
        test = lambda row: row[i] in wanted  # noqa: E731
    elif op in ("contains", "has"):
        test = lambda row: wanted in row[i]  # noqa: E731
    elif op == "endswith":
        test = lambda row: bool(row[i].endswith(wanted))  # noqa: E731
    elif op == "regex":
        search = re.compile(wanted).search
        test = lambda row: search(row[i]) is not None  # noqa: E731
    elif op == "gte":
        test = lambda row: bool(row[i] >= wanted)  # noqa: E731
    else:
        test = lambda row: bool(row[i] < wanted)  # noqa: E731
    return test


def task_condition(*names: str) -> AnyOf:
    """Records of these tasks, each named in full (``module.task``) or by its name alone."""
    eq, end = ("script_arguments", "eq"), ("script_arguments", "endswith")
    return AnyOf(tuple(w for n in names for w in (Where(*eq, n), Where(*end, "." + n))))


def find(
    source: RecordSource,
    conditions: Sequence[Condition] = (),
    *,
    newest_first: bool = True,
    chunk_size: int = CHUNK,
) -> Iterator[RecordRow]:
    """The records of `source` satisfying every condition: those it evaluates natively in
    the store, the others checked here on the rows it returns."""
    native = [c for c in conditions if source.native(c)]
    rest = [c for c in conditions if not source.native(c)]
    rows = source.query(native, newest_first=newest_first, chunk_size=chunk_size)
    return rows if not rest else keep(rows, rest)


def keep(rows: Iterable[RecordRow], conditions: Sequence[Condition]) -> Iterator[RecordRow]:
    """The rows satisfying every condition."""
    tests = [predicate(c) for c in conditions]
    for row in rows:
        for test in tests:
            if not test(row):
                break
        else:
            yield row


def parameters_text(parameters: Any) -> str:
    """The text a store keeps of a record's parameters (what `Where("parameters", ...)`
    conditions read): JSON with sorted keys, indented by 4 (Sumatra's own layout)."""
    return json.dumps(parameters or {}, sort_keys=True, indent=4)


def check_tag(tag: str) -> str:
    """`tag` if a store can keep it as one tag, else RecordingError."""
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


#: A change of one text field: the new text, or a function of the stored text giving it.
TextChange = str | Callable[[str], str]


def changed_text(field: str, change: TextChange, current: str) -> str:
    """The new text of `field` (outcome or reason, see `RecordSink.update_fields`), now
    `current`, after `change`; RecordingError if it is not text."""
    new = change(current) if callable(change) else change
    if not isinstance(new, str):
        shown = "the function given returned" if callable(change) else "got"
        raise RecordingError(
            f"A record's {field} is text; {shown} {new!r}. Give a string, or a function of "
            f"the current {field} returning one."
        )
    return new


class RecordSink(Protocol):
    """Where records are written."""

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Store `records` (dicts as described in ``fields``); a record whose label is
        already stored replaces it. Up to 1,000 records are stored all or none."""

    def edit_tags(
        self, labels: Iterable[str], add: Collection[str] = (), remove: Collection[str] = ()
    ) -> dict[str, frozenset[str]]:
        """Add and remove tags (checked with `check_tag`) of the records with these labels;
        return the new tags of those found."""

    def move_outputs(self, moves: Mapping[str, str]) -> int:
        """Record that output files moved (paths relative to the output data store, old →
        new) in every record naming them; return how many output entries changed."""

    def delete(self, labels: Iterable[str]) -> int:
        """Delete the records with these labels (not their files); return how many."""

    def update_fields(
        self, label: str, *, outcome: TextChange | None = None, reason: TextChange | None = None
    ) -> dict[str, str] | None:
        """Change the outcome and/or the reason of the record `label` (None: left as it is).
        A change is the new text, or a function of the stored text returning it, called
        while this store writes nothing else (so that concurrent changes are never lost; it
        may be called again if the write is retried). Return the new text of each field
        given, or None if no record has that label."""


class RecordSource(Protocol):
    """Where records are read."""

    def native(self, condition: Condition) -> bool:
        """Whether `query` evaluates `condition` (else the caller checks it)."""

    def query(
        self,
        conditions: Sequence[Condition] = (),
        *,
        newest_first: bool = True,
        chunk_size: int = CHUNK,
    ) -> Iterator[RecordRow]:
        """The records satisfying every condition (all native), newest first (or oldest
        first), records of the same time in the order they were stored (later first),
        read `chunk_size` rows at a time."""

    def labels(self) -> list[str]:
        """Every label, newest first."""

    def outputs(self, label: str) -> list[OutputRow]:
        """The output files the record names, in the order they were written."""

    def output_index(self, paths: Iterable[str] | None = None) -> Iterator[tuple[str, OutputRow]]:
        """(label, output) for every output of every record, newest record first; with
        `paths`, only the outputs with these paths."""

    def input_index(self, digests: Iterable[str] | None = None) -> Iterator[tuple[str, OutputRow]]:
        """(label, input) for every stored result every record read (its ``input_data``),
        newest record first; with `digests`, only the inputs with these content digests."""

    def text(self, label: str, field: str) -> str:
        """One text field (TEXT_FIELDS or LONG_TEXT_FIELDS) of one record ("" if none)."""

    def record(self, label: str) -> dict[str, Any] | None:
        """Every field of the record, as a dict of ``fields`` (None if there is none)."""

    def store_record(self, label: str) -> Any:
        """The store's own object for the record (Sumatra's ``Record`` for the Django
        store); RecordingError if there is none."""


class RecordStore(RecordSource, RecordSink, Protocol):
    """The record store of a project: both sides, and the project it belongs to."""

    @property
    def info(self) -> ProjectInfo: ...
