"""The filters of a view: ``rs.filter.task("analyze").filter.after(20261101)``.

Each filter returns a new view with one more *step* (``smttask.view.steps``): an exact test
of a record, and, when it can be said in the store-neutral conditions of
``smttask.recording.api``, conditions selecting a superset of the records that pass it (the
test then drops the rest). Nothing is read until a view's records are needed; the conditions
of all steps go into one query, and the store evaluates those it can.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..recording.api import AnyOf, Where, task_condition
from . import dates, keys
from .errors import FilterError
from .paramsteps import ATOL, RTOL, match_step, params_step
from .record import STATUS_TAGS, Record
from .steps import STORE, Step, args, has_any_tag, tag_set, text_step

if TYPE_CHECKING:
    from .rsview import RSView


_STATUSES = {status: tag for tag, status in STATUS_TAGS.items()}


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
        return self._then(Step(f"where({name})", lambda r: bool(predicate(r)), cost=STORE))

    # -- task, status, tags ---------------------------------------------------------------------

    def task(self, *names: Any) -> RSView:
        """Records of these tasks: names (``analyze`` or ``module.analyze``) or task types."""
        wanted = [_task_name(n) for n in names]
        if not wanted:
            raise FilterError("task() needs at least one task name, e.g. task('analyze').")
        tails = tuple("." + n for n in wanted)

        def keep(r: Record) -> bool:
            return r.taskname in wanted or r.taskname.endswith(tails)

        step = Step(f"task({args(*wanted)})", keep, (task_condition(*wanted),))
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
        found = has_any_tag(set(tags))
        text = f"status({args(*statuses)})"
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

        text = f"tags({args(*sorted(wanted), lacks=sorted(lacking))})"
        return self._then(Step(text, keep, db))

    def tags_or(self, *tags: str | Iterable[str]) -> RSView:
        """Records with at least one of these tags (each a tag, or a collection of tags)."""
        wanted = tag_set("tags_or", tags)
        text = f"tags_or({args(*sorted(wanted))})"
        return self._then(Step(text, lambda r: bool(wanted & r.tags), (has_any_tag(wanted),)))

    def tags_not(self, *tags: str | Iterable[str]) -> RSView:
        """Records with none of these tags (``tags(lacks=...)``)."""
        return self.tags(lacks=tag_set("tags_not", tags))

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
    # Each takes the whole text, contains=... or regex=... (searched); the _not forms keep
    # the records that do not match.

    def label(
        self, label: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose label is `label`, contains `contains`, or matches `regex`."""
        return self._then(text_step("label", "label", label, contains, regex))

    def outcome(
        self, text: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose outcome is `text`, contains `contains`, or matches `regex`."""
        return self._then(text_step("outcome", "outcome", text, contains, regex))

    def outcome_not(
        self, text: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose outcome is not `text`, does not contain `contains`, or does not
        match `regex`."""
        step = text_step("outcome_not", "outcome", text, contains, regex, negate=True)
        return self._then(step)

    def reason(
        self, text: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose reason is `text`, contains `contains`, or matches `regex`."""
        return self._then(text_step("reason", "reason", text, contains, regex))

    def reason_not(
        self, text: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose reason is not `text`, does not contain `contains`, or does not
        match `regex`."""
        return self._then(text_step("reason_not", "reason", text, contains, regex, negate=True))

    def user(
        self, text: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records made by the user (git's ``Name <email>``) `text`, containing `contains`,
        or matching `regex`."""
        return self._then(text_step("user", "user", text, contains, regex))

    def main_file(
        self, path: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose task module's file (relative to the repository) is `path`,
        contains `contains`, or matches `regex`."""
        return self._then(text_step("main_file", "main_file", path, contains, regex))

    def stdout_stderr(
        self, text: str | None = None, *, contains: str | None = None, regex: str | None = None
    ) -> RSView:
        """Records whose captured output is `text`, contains `contains`, or matches `regex`
        (read for each record that the other filters keep)."""
        step = text_step("stdout_stderr", "stdout_stderr", text, contains, regex, read=_captured)
        return self._then(step)

    def version(self, *prefixes: str) -> RSView:
        """Records made at a commit starting with one of `prefixes` (``version("3f2a9c")``)."""
        if not prefixes or not all(isinstance(p, str) and p for p in prefixes):
            raise FilterError(
                f"version() takes commit ids or their start, e.g. version('3f2a9c'); got "
                f"{prefixes!r}."
            )
        wanted = tuple(prefixes)
        db = (AnyOf(tuple(Where("version", "contains", p) for p in wanted)),)
        text = f"version({args(*wanted)})"
        return self._then(Step(text, lambda r: r.version.startswith(wanted), db))

    # -- outputs --------------------------------------------------------------------------------

    def output(self, minimum: int | None = 1, maximum: int | None = None) -> RSView:
        """Records naming at least `minimum` and at most `maximum` output files (by default:
        records with outputs); None for no bound."""
        for bound in (minimum, maximum):
            if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
                raise FilterError(f"output() counts files: give whole numbers, not {bound!r}.")
        low, high = (0 if minimum is None else minimum), maximum
        if high is not None and high < low:
            raise FilterError(
                f"output(minimum={minimum}, maximum={maximum}) keeps no record (the minimum is "
                f"1 unless given). For records without outputs: output(minimum=0, maximum=0)."
            )

        def keep(r: Record) -> bool:
            n = len(r.output_data)
            return n >= low and (high is None or n <= high)

        text = f"output({args(minimum=minimum, maximum=maximum)})"
        return self._then(Step(text, keep, (), STORE))

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
        isclose: Mapping[keys.Key, Any] | None = None,
        has: Iterable[keys.Key] = (),
        lacks: Iterable[keys.Key] = (),
        rtol: float = RTOL,
        atol: float = ATOL,
    ) -> RSView:
        """Records whose parameters (task inputs) compare as given: ``eq={"dt": 0.5}``,
        ``gt={"arr.n": 3}``, ``isin={"method": ["a", "b"]}``, ``isclose={"dt": 0.1}``
        (numbers, or lists of them, equal within ``atol + rtol * |value|``, as
        ``numpy.isclose``); keys are dotted paths (see ``smttask.view.keys``). A record
        without the key never matches a comparison; `has` / `lacks` test whether keys are
        present."""
        given = {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge}
        given |= {"isin": isin, "notin": notin, "contains": contains, "isclose": isclose}
        return self._then(params_step(given, has, lacks, rtol, atol))

    def match(
        self,
        reference: Any,
        eq: Iterable[keys.Key] | None = None,
        *,
        ne: Iterable[keys.Key] | None = None,
        lt: Iterable[keys.Key] | None = None,
        le: Iterable[keys.Key] | None = None,
        gt: Iterable[keys.Key] | None = None,
        ge: Iterable[keys.Key] | None = None,
        isclose: Iterable[keys.Key] | None = None,
        rtol: float = RTOL,
        atol: float = ATOL,
        include_reference: bool = True,
    ) -> RSView:
        """Records whose parameters compare with those of `reference` (a record, a task, or
        a mapping of parameters), as ``params()`` does with the reference's values: ``eq``,
        ``isclose``... each a list of keys (``match(rec, ["dt"], isclose=["tau"])``). With
        no keys, every input of the reference must be equal, and no other input present.
        ``include_reference=False`` leaves the reference record out."""
        given = {"eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "isclose": isclose}
        if any(isinstance(k, str | Mapping) for k in given.values()):
            raise FilterError(
                "match() takes lists of keys (the values come from the reference), e.g. "
                "match(record, ['dt'], isclose=['tau'])."
            )
        return self._then(match_step(reference, given, rtol, atol, include_reference))


def _captured(record: Record) -> str:
    return record.stdout_stderr


def _task_name(name: Any) -> str:
    spec = getattr(name, "_spec", None)
    if spec is not None:
        return str(spec.taskname)
    if isinstance(name, str) and name:
        return name
    raise FilterError(f"task() takes task names or task types, not {name!r}.")
