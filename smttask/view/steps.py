"""The steps of a view's filters: an exact test of a record, and store-neutral conditions.

A step's conditions (``smttask.recording.api``) select a superset of the records its test
keeps; the store evaluates those it can, the test then drops the rest. A step also says what
its test costs, so that a view runs the cheap tests first: ``ROW`` (the fields every query
reads), ``PARAMS`` (the parameters' JSON, parsed once per record), ``STORE`` (a read from the
store for each record: outputs, captured output).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..recording.api import AnyOf, Condition, Where
from .errors import FilterError

if TYPE_CHECKING:
    from .record import Record

#: What a step's test reads (see the module doc), cheapest first.
ROW, PARAMS, STORE = 0, 1, 2


@dataclass(frozen=True)
class Step:
    text: str  # how the step reads: task('analyze')
    keep: Callable[[Record], bool]  # the exact test
    conditions: tuple[Condition, ...] = ()  # selecting a superset of what `keep` keeps
    cost: int = ROW


def args(*values: Any, **named: Any) -> str:
    shown = [repr(v) for v in values] + [f"{k}={v!r}" for k, v in named.items() if v]
    return ", ".join(shown)


def regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise FilterError(f"Invalid regular expression {pattern!r}: {exc}.") from None


def tag_set(name: str, given: tuple[str | Iterable[str], ...]) -> set[str]:
    """The tags of `given`: tags, or collections of tags (``tags_or({"a", "b"})``)."""
    found: set[str] = set()
    for item in given:
        found |= {item} if isinstance(item, str) else set(item)
    if not found or not all(isinstance(t, str) for t in found):
        raise FilterError(f"{name}() takes tags (text), e.g. {name}('paper'); got {given!r}.")
    return found


def has_any_tag(tags: set[str]) -> Condition:
    return AnyOf(tuple(Where("tags", "has", t) for t in sorted(tags)))


#: Text fields of a record that the store's queries can select by.
QUERIED = ("label", "outcome", "reason", "user", "main_file", "version")


def text_step(
    name: str,
    column: str,
    exact: str | None,
    contains: str | None,
    pattern: str | None,
    *,
    negate: bool = False,
    read: Callable[[Record], str] | None = None,
) -> Step:
    """Records whose text `column` is `exact`, contains `contains` or matches `pattern`
    (searched), or, with `negate`, does not. `read` reads it when a row does not hold it."""
    given = [
        (how, value)
        for how, value in (("", exact), ("contains", contains), ("regex", pattern))
        if value is not None
    ]
    if len(given) != 1:
        raise FilterError(
            f"{name}() takes exactly one of: the text, contains=..., regex=... (got {len(given)})."
        )
    how, value = given[0]
    if not isinstance(value, str):
        raise FilterError(f"{name}() compares text, not {value!r}.")
    text = f"{name}({args(value) if not how else args(**{how: value})})"
    get: Callable[[Record], str] = read or (lambda r: getattr(r, column))
    test: Callable[[str], bool]
    if how == "regex":
        search = regex(value).search
        test = lambda s: search(s) is not None  # noqa: E731
    elif how == "contains":
        test = lambda s: value in s  # noqa: E731
    else:
        test = lambda s: s == value  # noqa: E731
    cost = STORE if read is not None else ROW
    if negate:
        return Step(text, lambda r: not test(get(r)), (), cost)
    op = {"": "eq"}.get(how, how)
    db = (Where(column, op, value),) if column in QUERIED else ()
    return Step(text, lambda r: test(get(r)), db, cost)
