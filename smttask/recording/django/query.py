"""Store-neutral conditions (``api.Where``, ``api.AnyOf``) as Django query conditions.

What each database evaluates, and how exactly:

- Text equality (``eq``, ``in``) and time comparisons are exact on SQLite and PostgreSQL.
- ``contains`` and ``endswith`` become ``LIKE``: exact on PostgreSQL; on SQLite, ``LIKE``
  ignores the case of ASCII letters, so it selects a superset.
- ``regex``: on SQLite, Django evaluates it with Python's ``re.search``, exactly; PostgreSQL's
  and MySQL's dialects differ, so it is not native there (the caller checks it).
- ``has`` (a tag) searches the ``tags`` column's text: a superset.
- MySQL compares text ignoring case (its usual collations): only times are exact.

A condition whose database form selects a superset is checked again on each row read, so a
query returns exactly what ``api.matches`` says.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from django.db.models import Q

from ..address import MYSQL, SQLITE
from ..api import AnyOf, Condition, Where

_LOOKUP = {
    "eq": "exact",
    "in": "in",
    "contains": "contains",
    "endswith": "endswith",
    "regex": "regex",
    "gte": "gte",
    "lt": "lt",
    "has": "contains",
}
#: Record fields whose value lives in another table.
_COLUMN = {"parameters": "parameters__content"}


def native(kind: str, condition: Condition) -> bool:
    """Whether a store of this kind evaluates `condition` (see the module docstring)."""
    if isinstance(condition, AnyOf):
        return all(native(kind, c) for c in condition.conditions)
    return condition.op != "regex" or kind == SQLITE


def exact(kind: str, condition: Condition) -> bool:
    """Whether the database form of `condition` selects exactly the rows that match it."""
    if isinstance(condition, AnyOf):
        return all(exact(kind, c) for c in condition.conditions)
    if condition.op == "has":
        return False
    if kind == MYSQL:
        return condition.field == "timestamp"
    if kind == SQLITE:
        return condition.op not in ("contains", "endswith")
    return True


def q(condition: Condition) -> Q:
    """The Django condition selecting (at least) the records that satisfy `condition`."""
    if isinstance(condition, AnyOf):
        if not condition.conditions:
            return Q(pk__in=[])  # any of nothing: false
        parts = [q(part) for part in condition.conditions]
        return reduce(operator.or_, parts)
    return Q(**{_lookup(condition): _value(condition)})


def _lookup(where: Where) -> str:
    return f"{_COLUMN.get(where.field, where.field)}__{_LOOKUP[where.op]}"


def _value(where: Where) -> Any:
    return list(where.value) if where.op == "in" else where.value
