"""Readable names for the tasks of a graph: the task name plus the inputs that tell it apart.

Among tasks of one type (same ``module.qualname``), an input whose value is the same in all
of them says nothing about which one a task is; the inputs that differ do. So a sweep of
``simulate(tau, seed, dt)`` over ``tau`` and ``seed`` is labelled ``simulate(tau=0.5,
seed=3)``, and a task that is alone of its type is just ``simulate``. An upstream task given
as an input is shown by its own label.

A task type may set its own label with the decorator option ``label=``: a format string of
its inputs (``@RecordedTask(label="sim τ={tau}")``) or a function taking the inputs as
keywords and returning text; an upstream task in it is shown by its label.

Labels are for people only: they depend on which other tasks are in the graph, so they are
never an identity (the digest is). Two tasks whose shown values look alike (long arrays cut
short) get the start of their digest appended, so the labels of one graph are distinct.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from . import serialization
from .digest import hash_value
from .errors import TaskDefinitionError, short_repr
from .node import TaskNode, is_task

#: Longest shown value of one input; longer ones are cut (``…``).
VALUE_WIDTH = 24
#: An upstream task whose label is longer is shown as ``name#<digest start>``.
UPSTREAM_WIDTH = 40


def task_labels(
    tasks: Iterable[TaskNode], known: Mapping[str, str] | None = None
) -> dict[str, str]:
    """{task key: label} for `tasks` (upstream tasks first gives them their labels first:
    a task input is then shown by its label; `known`: labels of other tasks, for that)."""
    unique: dict[str, TaskNode] = {}
    for task in tasks:
        unique.setdefault(task.key, task)
    groups: dict[str, list[TaskNode]] = defaultdict(list)
    for task in unique.values():
        groups[task.taskname].append(task)
    labels: dict[str, str] = dict(known or {})
    done: set[str] = set()
    for task in unique.values():
        if task.taskname not in done:
            done.add(task.taskname)
            labels.update(_group_labels(groups[task.taskname], labels))
    return {key: labels[key] for key in unique}


def _group_labels(group: list[TaskNode], known: Mapping[str, str]) -> dict[str, str]:
    name = group[0].name
    out: dict[str, str] = {}
    if group[0]._spec.label is not None:
        out = {task.key: _custom(task, known) for task in group}
    elif len(group) == 1:
        return {group[0].key: name}
    else:
        params = group[0]._spec.params
        seen = [{p: _identity(t.inputs[p]) for p in params} for t in group]
        differing = [p for p in params if len({s[p] for s in seen}) > 1]
        for task in group:
            shown = ", ".join(f"{p}={_show(task.inputs[p], known)}" for p in differing)
            out[task.key] = f"{name}({shown})"
    counts: dict[str, int] = defaultdict(int)
    for label in out.values():
        counts[label] += 1
    for key, label in out.items():
        if counts[label] > 1:
            out[key] = f"{label}#{key[:8]}"
    return out


def _custom(task: TaskNode, known: Mapping[str, str]) -> str:
    """The label the task type's ``label=`` option gives `task`."""
    label = task._spec.label
    values = {p: _Shown(_show(v, known)) if is_task(v) else v for p, v in task.inputs.items()}
    try:
        text = label.format(**values) if isinstance(label, str) else label(**values)  # type: ignore[misc]
    except Exception as exc:
        raise TaskDefinitionError(
            f"The label= option of {task.taskname} failed for {label_of(task)}: "
            f"{type(exc).__name__}: {exc}. Fix the format string or function."
        ) from exc
    if not isinstance(text, str) or not text.strip():
        raise TaskDefinitionError(
            f"The label= option of {task.taskname} gave {text!r} for {label_of(task)}; it "
            f"must give non-empty text."
        )
    return text


def _identity(value: Any) -> Any:
    if is_task(value):
        return ("task", value.key)
    if serialization.contains(value, is_task):
        return repr(serialization.substitute(value, is_task, lambda t: ("task", t.key)))
    try:
        return hash_value(value)
    except Exception:  # a value the digest cannot hash is not an input; be robust anyway
        return repr(value)


def _show(value: Any, known: Mapping[str, str]) -> str:
    if is_task(value):
        label = known.get(value.key, value.name)
        return label if len(label) <= UPSTREAM_WIDTH else f"{value.name}#{value.key[:8]}"
    if serialization.contains(value, is_task):
        value = serialization.substitute(value, is_task, lambda t: _Shown(_show(t, known)))
    return short_repr(value, VALUE_WIDTH)


class _Shown:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self.text, spec)


def label_of(task: TaskNode) -> str:
    """The label of `task` when it is alone: ``name(inputs...)`` with every input shown."""
    shown = ", ".join(f"{p}={_show(v, {})}" for p, v in task.inputs.items())
    return f"{task.name}({shown})"


__all__ = ["label_of", "task_labels"]
