"""Views made of two views: their union (``a | b``) and intersection (``a & b``).

A combined view is lazy like any other: when its records are needed, it reads both views
afresh (each with its own filters in its query), then merges them by label, newest first.
Both views must read the same record store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import FilterError

if TYPE_CHECKING:
    from .record import Record
    from .rsview import RSView
    from .source import Source

OPS = {"|": "union", "&": "intersection"}


@dataclass(frozen=True)
class Combined:
    op: str  # "|" or "&"
    left: RSView
    right: RSView

    def records(self, flush: bool) -> list[Record]:
        """Both views' records read now, merged: newest first, each label once."""
        first = self.left._collect(flush=flush)
        second = self.right._collect(flush=False)
        if self.op == "&":
            wanted = {r.label for r in second}
            return [r for r in first if r.label in wanted]
        seen: set[str] = set()
        merged = []
        for record in sorted([*first, *second], key=lambda r: r.timestamp, reverse=True):
            if record.label not in seen:  # a record in both: the first view's
                seen.add(record.label)
                merged.append(record)
        return merged

    def describe(self) -> str:
        return f"({self.left._describe()}) {self.op} ({self.right._describe()})"


def combine(op: str, left: RSView, right: object) -> Combined:
    """The union or intersection of two views of one store (FilterError for others)."""
    from .rsview import RSView

    if not isinstance(right, RSView):
        raise FilterError(
            f"A view's {OPS[op]} ({op}) is with another view (RSView), not {right!r}."
        )
    if not same_store(left._source, right._source):
        raise FilterError(
            f"Cannot take the {OPS[op]} of views of different record stores: "
            f"{_where(left._source)} and {_where(right._source)}. Combine views of one "
            f"project's store."
        )
    return Combined(op, left, right)


def same_store(a: Source, b: Source) -> bool:
    """Whether two sources read the same records: one store object, or two opened on one
    database (a store held in memory is only ever itself)."""
    from ..recording.memory import MemoryStore

    if a.store is b.store:
        return True
    if type(a.store) is not type(b.store) or isinstance(a.store, MemoryStore):
        return False
    return (a.info.root, a.info.name, a.info.store) == (b.info.root, b.info.name, b.info.store)


def _where(source: Source) -> str:
    return f"project {source.name!r} ({type(source.store).__name__} at {source.info.root})"
