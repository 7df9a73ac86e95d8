"""Store-neutral conditions (``api.Where``, ``api.AnyOf``) as Django query conditions.

What each database evaluates, and how exactly:

- Text equality (``eq``, ``in``) and time comparisons are exact on SQLite and PostgreSQL.
- ``contains`` and ``endswith``: ``LIKE`` on PostgreSQL, exact; on SQLite, whose ``LIKE``
  ignores the case of ASCII letters, ``GLOB`` (as fast, and exact).
- ``regex``: on SQLite, Django evaluates it with Python's ``re.search``, exactly; PostgreSQL's
  and MySQL's dialects differ, so it is not native there (the caller checks it).
- ``has`` (a tag) searches the ``tags`` column's text: a superset.
- MySQL compares text ignoring case (its usual collations): only times are exact.

A condition whose database form selects a superset is checked again on each row read, so a
query returns exactly what ``api.matches`` says.
"""

from __future__ import annotations

import operator
import re
from functools import reduce
from typing import Any

from django.db.models import F, Lookup, Q, Value

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
#: GLOB's special characters, each matched literally inside brackets.
_GLOB_SPECIAL = re.compile(r"([*?\[])")


class _Glob(Lookup):
    """SQLite's ``GLOB``: a pattern match in which case matters (``*``: any text)."""

    lookup_name = "glob"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} GLOB {rhs}", [*lhs_params, *rhs_params]


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
    return True


def q(kind: str, condition: Condition) -> Q:
    """The Django condition selecting (at least) the records that satisfy `condition` in a
    store of this kind."""
    if isinstance(condition, AnyOf):
        if not condition.conditions:
            return Q(pk__in=[])  # any of nothing: false
        return reduce(operator.or_, (q(kind, part) for part in condition.conditions))
    column = _COLUMN.get(condition.field, condition.field)
    if kind == SQLITE and condition.op in ("contains", "endswith"):
        text = _GLOB_SPECIAL.sub(r"[\1]", condition.value)
        pattern = f"*{text}*" if condition.op == "contains" else f"*{text}"
        return Q(_Glob(F(column), Value(pattern)))
    return Q(**{f"{column}__{_LOOKUP[condition.op]}": _value(condition)})


def _value(where: Where) -> Any:
    return list(where.value) if where.op == "in" else where.value
