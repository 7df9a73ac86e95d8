"""The filters of a view: ``rs.filter.task("analyze").filter.after(20261101)``.

Each filter returns a new view with one more *step*: an exact test of a record, and, when it
can be said in the store-neutral conditions of ``smttask.recording.api``, conditions selecting
a superset of the records that pass it (the test then drops the rest). Nothing is read until
a view's records are needed; the conditions of all steps go into one query, and the store
evaluates those it can.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..recording.api import AnyOf, Condition, Where, task_condition
from . import dates, keys
from .errors import FilterError
from .record import STATUS_TAGS, Record

if TYPE_CHECKING:
    from .rsview import RSView


@dataclass(frozen=True)
class Step:
    text: str  # how the step reads: task('analyze')
    keep: Callable[[Record], bool]  # the exact test
    conditions: tuple[Condition, ...] = ()  # selecting a superset of what `keep` keeps


_STATUSES = {status: tag for tag, status in STATUS_TAGS.items()}


def _args(*values: Any, **named: Any) -> str:
    shown = [repr(v) for v in values] + [f"{k}={v!r}" for k, v in named.items() if v]
    return ", ".join(shown)


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise FilterError(f"Invalid regular expression {pattern!r}: {exc}.") from None


def _compare(op: Callable[[Any, Any], Any], value: Any, other: Any) -> bool:
    try:
        return bool(op(value, other))
    except (TypeError, ValueError):  # values of different kinds (or arrays) never match
        return False


def _isin(value: Any, options: Any) -> bool:
    return any(_compare(operator.eq, value, o) for o in options)


_PARAM_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda v, x: _compare(operator.eq, v, x),
    "ne": lambda v, x: not _compare(operator.eq, v, x),
    "lt": lambda v, x: _compare(operator.lt, v, x),
    "le": lambda v, x: _compare(operator.le, v, x),
    "gt": lambda v, x: _compare(operator.gt, v, x),
    "ge": lambda v, x: _compare(operator.ge, v, x),
    "isin": _isin,
    "notin": lambda v, x: not _isin(v, x),
    "contains": lambda v, x: _compare(operator.contains, v, x),
}


def _stored_text(key: keys.Key, value: Any) -> str | None:
    """Text that the stored parameters (JSON, ``"name": value``) hold wherever `key` equals
    `value`, for values equal only to themselves in JSON (strings, non-integral floats)."""
    last = keys.parts(key)[-1]
    if last.lstrip("-").isdigit():
        return None  # a list index: not written in the JSON
    if isinstance(value, str) or (isinstance(value, float) and not value.is_integer()):
        return f"{json.dumps(last)}: {json.dumps(value)}"
    return None


class Filters:
    """``view.filter``: each method returns a new, narrower view (nothing is read yet)."""

    def __init__(self, view: RSView) -> None:
        self._view = view

    def _then(self, step: Step) -> RSView:
        return self._view._then(step)

    def __call__(self, predicate: Callable[[Record], bool], text: str | None = None) -> RSView:
        """Keep the records for which ``predicate(record)`` is true."""
        return self.where(predicate, text)

    def where(self, predicate: Callable[[Record], bool], text: str | None = None) -> RSView:
        """Keep the records for which ``predicate(record)`` is true."""
        if not callable(predicate):
            raise FilterError(f"where() takes a function of a record, not {predicate!r}.")
        name = text or getattr(predicate, "__name__", "predicate")
        return self._then(Step(f"where({name})", lambda r: bool(predicate(r))))

    # -- task, status, tags ---------------------------------------------------------------------

    def task(self, *names: Any) -> RSView:
        """Records of these tasks: names (``analyze`` or ``module.analyze``) or task types."""
        wanted = [_task_name(n) for n in names]
        if not wanted:
            raise FilterError("task() needs at least one task name, e.g. task('analyze').")
        tails = tuple("." + n for n in wanted)

        def keep(r: Record) -> bool:
            return r.taskname in wanted or r.taskname.endswith(tails)

        step = Step(f"task({_args(*wanted)})", keep, (task_condition(*wanted),))
        return self._then(step)

    def status(self, *statuses: str) -> RSView:
        """Records with one of these statuses: finished, crashed, killed, running, surrogate."""
        tags = []
        for s in statuses:
            tag = _STATUSES.get(s.strip("_").lower())
            if tag is None:
                raise FilterError(f"Unknown status {s!r}; the statuses are {', '.join(_STATUSES)}.")
            tags.append(tag)
        if not tags:
            raise FilterError("status() needs a status, e.g. status('finished').")
        found = AnyOf(tuple(Where("tags", "has", t) for t in tags))
        text = f"status({_args(*statuses)})"
        return self._then(Step(text, lambda r: any(t in r.tags for t in tags), (found,)))

    def tags(self, *has: str, lacks: str | Iterable[str] = ()) -> RSView:
        """Records with every tag in `has` and none in `lacks`."""
        lacking = {lacks} if isinstance(lacks, str) else set(lacks)
        wanted = set(has)
        if not wanted and not lacking:
            raise FilterError("tags() needs tags, e.g. tags('paper') or tags(lacks='_invalid_').")
        db = tuple(Where("tags", "has", t) for t in sorted(wanted))

        def keep(r: Record) -> bool:
            return wanted <= r.tags and not (lacking & r.tags)

        text = f"tags({_args(*sorted(wanted), lacks=sorted(lacking))})"
        return self._then(Step(text, keep, db))

    # -- dates ----------------------------------------------------------------------------------

    def after(self, when: dates.DateLike) -> RSView:
        """Records made at or after `when` (a day means from its start: after(20261101))."""
        start, _ = dates.span(when)
        return self._then(
            Step(
                f"after({dates.show(start)})",
                lambda r: r.timestamp >= start,
                (Where("timestamp", "gte", start),),
            )
        )

    def before(self, when: dates.DateLike) -> RSView:
        """Records made before `when` (a day means before its start)."""
        start, _ = dates.span(when)
        return self._then(
            Step(
                f"before({dates.show(start)})",
                lambda r: r.timestamp < start,
                (Where("timestamp", "lt", start),),
            )
        )

    def on(self, when: dates.DateLike) -> RSView:
        """Records made during the day (month, year, hour...) `when` names."""
        start, end = dates.day_span(when)
        return self._then(
            Step(
                f"on({when!r})",
                lambda r: start <= r.timestamp < end,
                (Where("timestamp", "gte", start), Where("timestamp", "lt", end)),
            )
        )

    def between(self, start: dates.DateLike, end: dates.DateLike) -> RSView:
        """Records made from the start of `start` to before the start of `end`."""
        return self.after(start).filter.before(end)

    # -- text fields ----------------------------------------------------------------------------

    def label(
        self, label: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose label is `label`, contains `contains`, or matches `regex`."""
        return self._text("label", label, contains, regex)

    def outcome(
        self, text: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose outcome is `text`, contains `contains`, or matches `regex`."""
        return self._text("outcome", text, contains, regex)

    def reason(
        self, text: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose reason is `text`, contains `contains`, or matches `regex`."""
        return self._text("reason", text, contains, regex)

    def _text(
        self, column: str, exact: str | None, contains: str | None, regex: str | None
    ) -> RSView:
        given = [
            (k, v)
            for k, v in (("", exact), ("contains", contains), ("regex", regex))
            if v is not None
        ]
        if len(given) != 1:
            raise FilterError(
                f"{column}() takes exactly one of: the text, contains=..., regex=... "
                f"(got {len(given)})."
            )
        how, value = given[0]
        if not isinstance(value, str):
            raise FilterError(f"{column}() compares text, not {value!r}.")
        text = f"{column}({_args(value) if not how else _args(**{how: value})})"
        if how == "regex":
            pattern = _regex(value)
            db = (Where(column, "regex", value),)
            return self._then(Step(text, lambda r: bool(pattern.search(getattr(r, column))), db))
        if how == "contains":
            db = (Where(column, "contains", value),)
            return self._then(Step(text, lambda r: value in getattr(r, column), db))
        db = (Where(column, "eq", value),)
        return self._then(Step(text, lambda r: getattr(r, column) == value, db))

    # -- parameters -----------------------------------------------------------------------------

    def params(
        self,
        eq: Mapping[keys.Key, Any] | None = None,
        *,
        ne: Mapping[keys.Key, Any] | None = None,
        lt: Mapping[keys.Key, Any] | None = None,
        le: Mapping[keys.Key, Any] | None = None,
        gt: Mapping[keys.Key, Any] | None = None,
        ge: Mapping[keys.Key, Any] | None = None,
        isin: Mapping[keys.Key, Iterable[Any]] | None = None,
        notin: Mapping[keys.Key, Iterable[Any]] | None = None,
        contains: Mapping[keys.Key, Any] | None = None,
        has: Iterable[keys.Key] = (),
        lacks: Iterable[keys.Key] = (),
    ) -> RSView:
        """Records whose parameters (task inputs) compare as given: ``eq={"dt": 0.5}``,
        ``gt={"arr.n": 3}``, ``isin={"method": ["a", "b"]}``; keys are dotted paths (see
        ``smttask.view.keys``). A record without the key never matches a comparison;
        `has` / `lacks` test whether keys are present."""
        given = {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge}
        given |= {"isin": isin, "notin": notin, "contains": contains}
        tests: list[tuple[keys.Key, Callable[[Any, Any], bool], Any]] = []
        shown: list[str] = []
        db: list[Condition] = []
        for op, mapping in given.items():
            for key, value in (mapping or {}).items():
                if op in ("isin", "notin"):
                    value = list(value)
                tests.append((key, _PARAM_OPS[op], value))
                shown.append(f"{op}={{{keys.show(key)!r}: {value!r}}}")
                pushed = _stored_text(key, value) if op == "eq" else None
                if pushed is not None:
                    db.append(Where("parameters", "contains", pushed))
        present, absent = list(has), list(lacks)
        shown += [f"has={[keys.show(k) for k in present]}"] if present else []
        shown += [f"lacks={[keys.show(k) for k in absent]}"] if absent else []
        if not tests and not present and not absent:
            raise FilterError("params() needs a comparison, e.g. params(eq={'dt': 0.5}).")

        def keep(r: Record) -> bool:
            p = r.params
            for key, test, value in tests:
                found = keys.resolve(p, key)
                if found is keys.MISSING or not test(found, value):
                    return False
            return all(keys.resolve(p, k) is not keys.MISSING for k in present) and all(
                keys.resolve(p, k) is keys.MISSING for k in absent
            )

        return self._then(Step(f"params({', '.join(shown)})", keep, tuple(db)))


def _task_name(name: Any) -> str:
    spec = getattr(name, "_spec", None)
    if spec is not None:
        return str(spec.taskname)
    if isinstance(name, str) and name:
        return name
    raise FilterError(f"task() takes task names or task types, not {name!r}.")
