"""Filter steps on a record's parameters: ``params(...)`` and ``match(reference, ...)``.

Keys are dotted paths into the task description (``smttask.view.keys``). Equality with a
string or a non-integral float also becomes a condition on the parameters' JSON text, which
the store evaluates; every comparison is then tested exactly on each record.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..recording.api import Condition, Where
from . import keys
from .errors import FilterError
from .steps import PARAMS, Step

if TYPE_CHECKING:
    from .record import Record

#: numpy's ``isclose`` tolerances: |value - reference| <= ATOL + RTOL * |reference|.
RTOL, ATOL = 1e-05, 1e-08


def _compare(op: Callable[[Any, Any], Any], value: Any, other: Any) -> bool:
    try:
        return bool(op(value, other))
    except (TypeError, ValueError):  # values of different kinds (or arrays) never match
        return False


def _isin(value: Any, options: Any) -> bool:
    return any(_compare(operator.eq, value, o) for o in options)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def isclose(value: Any, reference: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Whether numbers (or equally long lists of them, element by element) are equal within
    the tolerances, as ``numpy.isclose(value, reference)``: NaN is close to nothing."""
    if isinstance(value, list) and isinstance(reference, list):
        return len(value) == len(reference) and all(
            isclose(v, r, rtol, atol) for v, r in zip(value, reference)
        )
    if not (_number(value) and _number(reference)):
        return False
    if value == reference:
        return True  # infinities of one sign
    if not (math.isfinite(value) and math.isfinite(reference)):
        return False
    return abs(value - reference) <= atol + rtol * abs(reference)


OPS: dict[str, Callable[[Any, Any], bool]] = {
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
#: The comparisons `match` takes keys for (values from the reference).
MATCH_OPS = ("eq", "ne", "lt", "le", "gt", "ge", "isclose")


def stored_text(key: keys.Key, value: Any) -> str | None:
    """Text that the stored parameters (JSON, ``"name": value``) hold wherever `key` equals
    `value`, for values equal only to themselves in JSON (strings, non-integral floats)."""
    last = keys.parts(key)[-1]
    if last.lstrip("-").isdigit():
        return None  # a list index: not written in the JSON
    if isinstance(value, str) or (isinstance(value, float) and not value.is_integer()):
        return f"{json.dumps(last)}: {json.dumps(value)}"
    return None


Test = tuple[keys.Key, Callable[[Any, Any], bool], Any]


def params_step(
    given: Mapping[str, Mapping[keys.Key, Any] | None],
    has: Iterable[keys.Key],
    lacks: Iterable[keys.Key],
    rtol: float,
    atol: float,
    *,
    name: str = "params",
    extra: Callable[[Record], bool] | None = None,
) -> Step:
    """The step of ``params(**given, has=, lacks=)`` (`extra`: one more test of a record)."""
    tests: list[Test] = []
    shown: list[str] = []
    db: list[Condition] = []
    for op, mapping in given.items():
        for key, value in (mapping or {}).items():
            if op in ("isin", "notin"):
                value = list(value)
            if op == "isclose":
                test: Callable[[Any, Any], bool] = lambda v, x: isclose(v, x, rtol, atol)  # noqa: E731
            else:
                test = OPS[op]
            tests.append((key, test, value))
            shown.append(f"{op}={{{keys.show(key)!r}: {value!r}}}")
            pushed = stored_text(key, value) if op == "eq" else None
            if pushed is not None:
                db.append(Where("parameters", "contains", pushed))
    present, absent = list(has), list(lacks)
    shown += [f"has={[keys.show(k) for k in present]}"] if present else []
    shown += [f"lacks={[keys.show(k) for k in absent]}"] if absent else []
    if "isclose" in given and given["isclose"] and (rtol, atol) != (RTOL, ATOL):
        shown.append(f"rtol={rtol!r}, atol={atol!r}")
    if not tests and not present and not absent and extra is None:
        raise FilterError(f"{name}() needs a comparison, e.g. params(eq={{'dt': 0.5}}).")

    def keep(r: Record) -> bool:
        p = r.params
        for key, compare, value in tests:
            found = keys.resolve(p, key)
            if found is keys.MISSING or not compare(found, value):
                return False
        if not all(keys.resolve(p, k) is not keys.MISSING for k in present):
            return False
        if any(keys.resolve(p, k) is not keys.MISSING for k in absent):
            return False
        return extra is None or extra(r)

    return Step(f"{name}({', '.join(shown)})", keep, tuple(db), PARAMS)


def reference_params(reference: Any) -> tuple[str, Any]:
    """(how it is shown, the parameters) of a reference: a record, a task, or a mapping
    (a task description, or plain parameters)."""
    from ..task import Task

    params = getattr(reference, "params", None)
    label = getattr(reference, "label", None)
    if isinstance(label, str) and isinstance(params, Mapping):
        return f"record {label}", params
    if isinstance(reference, Task):
        return f"task {reference._spec.name}", json.loads(json.dumps(reference.desc))
    if isinstance(reference, Mapping):
        return "the parameters given", reference
    raise FilterError(
        f"match() compares records with a record, a task or a mapping of parameters, not "
        f"{reference!r}."
    )


def match_step(
    reference: Any,
    given: Mapping[str, Iterable[keys.Key] | None],
    rtol: float,
    atol: float,
    include_reference: bool,
) -> Step:
    """Records whose parameters compare with those of `reference` as `given` says (keys
    per comparison; none at all: every input equal, and no other input)."""
    what, ref = reference_params(reference)
    label = getattr(reference, "label", None) if what.startswith("record") else None
    exclude = (lambda r: r.label != label) if label is not None and not include_reference else None
    chosen = {op: list(k) for op, k in given.items() if k is not None}
    mappings: dict[str, dict[keys.Key, Any]] = {}
    for op, names in chosen.items():
        mappings[op] = {key: _value_of(ref, key, what) for key in names}
    extra = exclude
    if not chosen:
        flat = keys.flatten(ref)
        # every input; where a dotted key reads the value unambiguously (no dict key of the
        # reference holds a dot), it is also tested by `resolve`, and narrows the query
        if not _dotted(ref):
            mappings["eq"] = {k: v for k, v in flat.items() if keys.resolve(ref, k) is v}

        def same_inputs(r: Record) -> bool:
            mine = keys.flatten(r.params)
            return mine.keys() == flat.keys() and all(
                OPS["eq"](mine[k], v) for k, v in flat.items()
            )

        extra = same_inputs if exclude is None else (lambda r: exclude(r) and same_inputs(r))
    step = params_step(mappings, (), (), rtol, atol, name="match", extra=extra)
    shown = ", ".join(f"{op}={[keys.show(k) for k in names]}" for op, names in chosen.items())
    text = f"match({what}{', ' + shown if shown else ', every input'}"
    text += ", include_reference=False)" if exclude is not None else ")"
    return Step(text, step.keep, step.conditions, step.cost)


def _value_of(ref: Any, key: keys.Key, what: str) -> Any:
    value = keys.resolve(ref, key)
    if value is keys.MISSING:
        known = ", ".join(keys.flatten(ref)) or "none"
        raise FilterError(
            f"match(): {what} has no parameter {keys.show(key)!r}, so there is nothing to "
            f"compare it with. Its inputs: {known}."
        )
    return value


def _dotted(value: Any) -> bool:
    """Whether a mapping inside the inputs of `value` has a key with a dot (which dotted keys
    cannot reach); of a task description only its inputs count (its ``code`` field names
    code parts by dotted names, and is no input)."""
    if keys.is_desc(value):
        return _dotted(value.get("inputs"))
    if isinstance(value, Mapping):
        return any("." in str(k) or _dotted(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_dotted(v) for v in value)
    return False
