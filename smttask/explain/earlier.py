"""Earlier descriptions of a task type: its newest records, indexed by the shape of their
inputs (see ``matching``), so that finding the earlier result closest to a task costs a few
dictionary look-ups, whatever the number of records."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SmttaskError
from ..recording import fields
from ..recording.api import RecordSource, Where, find
from . import matching

#: Records read per task type (newest first).
LIMIT = 50_000
#: Records compared input by input when no record differs from a task in one input only.
NEAREST = 20


@dataclass(frozen=True)
class Earlier:
    """An earlier description of a task: from a record (its label, commit) or a task file."""

    desc: Mapping[str, Any]
    hashes: Mapping[str, str]
    label: str | None = None  # the record's label
    commit: str = ""  # the commit the record's code came from
    status: str = ""  # finished, crashed, killed...
    where: str = ""  # how it is named in reasons: "record L" or "task file P"

    @classmethod
    def of(
        cls,
        desc: Mapping[str, Any],
        *,
        label: str | None = None,
        commit: str = "",
        status: str = "",
        where: str = "",
    ) -> Earlier:
        return cls(desc, matching.desc_hashes(desc), label, commit, status, where)


class TypeIndex:
    """The earlier descriptions of one task type, by shape and by shape-but-one-input."""

    def __init__(self, taskname: str, earlier: list[Earlier]) -> None:
        self.taskname = taskname
        self.newest = earlier[:NEAREST]
        self.exact: dict[str, Earlier] = {}
        self.one_off: dict[tuple[str, str], Earlier] = {}
        for e in earlier:  # newest first: the first one kept is the newest
            self.exact.setdefault(matching.combine(taskname, e.hashes), e)
            for name in e.hashes:
                key = (name, matching.combine(taskname, e.hashes, leave_out=name))
                self.one_off.setdefault(key, e)

    def closest(self, hashes: Mapping[str, str]) -> tuple[Earlier | None, list[str]]:
        """The earlier description closest to a task's input `hashes`, and the inputs that
        differ (None: there is no earlier description)."""
        exact = self.exact.get(matching.combine(self.taskname, hashes))
        if exact is not None:
            return exact, []
        for name in sorted(hashes):
            one = self.one_off.get((name, matching.combine(self.taskname, hashes, leave_out=name)))
            if one is not None:
                return one, [name]
        best: tuple[int, Earlier] | None = None
        for e in self.newest:
            differing = len(set(hashes.items()) ^ set(e.hashes.items()))
            if best is None or differing < best[0]:
                best = (differing, e)
        if best is None:
            return None, []
        e = best[1]
        names = sorted({k for k in set(hashes) | set(e.hashes) if hashes.get(k) != e.hashes.get(k)})
        return e, names


class EarlierRecords:
    """The records of a store, read per task type on first use; the store is opened (by
    `opener`, which may return None: no store) when the first type is asked for."""

    def __init__(self, opener: Callable[[], RecordSource | None]) -> None:
        self._opener: Callable[[], RecordSource | None] | None = opener
        self.source: RecordSource | None = None
        self.problems: list[str] = []
        self._types: dict[str, TypeIndex] = {}

    def of_type(self, taskname: str) -> TypeIndex:
        found = self._types.get(taskname)
        if found is None:
            found = TypeIndex(taskname, self._read(taskname))
            self._types[taskname] = found
        return found

    def _read(self, taskname: str) -> list[Earlier]:
        if self._opener is not None:
            opener, self._opener = self._opener, None
            try:
                self.source = opener()
            except SmttaskError as exc:
                self.problems.append(f"earlier records were not read: {exc}")
        if self.source is None:
            return []
        rows = itertools.islice(
            find(self.source, [Where("script_arguments", "eq", taskname)]), LIMIT
        )
        out = []
        for r in rows:
            try:
                desc = json.loads(r.parameters)
            except ValueError:
                continue
            if not isinstance(desc, Mapping) or not isinstance(desc.get("inputs"), Mapping):
                continue
            out.append(
                Earlier.of(
                    desc,
                    label=r.label,
                    commit=r.version,
                    status=_status(r.tags),
                    where=f"record {r.label}",
                )
            )
        return out


def _status(tags: frozenset[str]) -> str:
    for tag, name in (
        (fields.FINISHED, "finished"),
        (fields.CRASHED, "crashed"),
        (fields.KILLED, "killed"),
        (fields.RUNNING, "running"),
    ):
        if tag in tags:
            return name
    return ""
