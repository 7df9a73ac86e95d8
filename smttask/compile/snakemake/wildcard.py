"""Wildcard rules: one rule per task type, the job's key as wildcard ``{key}``.

Which upstream files a job needs (and, if they differ between jobs of one rule, its threads
and resources) comes from a lookup table, ``jobs.json``, keyed by rule name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from typing import Any

from ...errors import CompileError
from ..plan import Job, Plan, TaskType
from .rule import Rule, escape, identifier, resource_source, upstream_files


def wildcard_rules(plan: Plan, types: list[TaskType]) -> tuple[list[Rule], dict[str, Any]]:
    """One rule per task type of `types`, and the lookup table {rule name: lookups}."""
    rules = []
    table: dict[str, Any] = {}
    for name, task_type in _names(plan, types):
        rule, lookups = _wildcard_rule(plan, name, task_type)
        rules.append(rule)
        table[name] = lookups
    return _constrain(rules), table


def _names(plan: Plan, types: list[TaskType]) -> list[tuple[str, TaskType]]:
    def order(t: TaskType) -> tuple[str, str, str]:
        first = plan.job(t.keys[0])
        return (first.name, first.taskname, first.key)

    named: list[tuple[str, TaskType]] = []
    taken: set[str] = set()
    for task_type in sorted(types, key=order):
        base = identifier(task_type.name)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        named.append((name, task_type))
    return named


def _constrain(rules: list[Rule]) -> list[Rule]:
    """Constrain {key} where two rules write into one folder (else they could be ambiguous).

    Elsewhere the default (any text) is unambiguous and cheaper: Snakemake matches every
    requested file against each constraint.
    """
    folders: dict[str, int] = defaultdict(int)
    for rule in rules:
        for folder in {o.rpartition("/")[0] for o in rule.outputs}:
            folders[folder] += 1
    out = []
    for rule in rules:
        if any(folders[o.rpartition("/")[0]] > 1 for o in rule.outputs):
            out.append(rule)
        else:
            out.append(replace(rule, constraint=""))
    return out


def _constraint(keys: list[str]) -> str:
    if all(re.fullmatch(r"[0-9a-f]+", k) for k in keys):
        return "[0-9a-f]+"
    return r"[0-9a-f]+(?:__[A-Za-z0-9_]+)?"


def _wildcard_rule(plan: Plan, name: str, task_type: TaskType) -> tuple[Rule, dict[str, Any]]:
    group: list[Job] = [plan.job(k) for k in task_type.keys]
    first = group[0]
    pattern = task_type.outputs  # str.format patterns of {key}: Snakemake's wildcard syntax
    if pattern is None:
        raise CompileError(
            f"{first.taskname}: its output files {list(first.outputs)} do not start with the "
            f"task's key, so one wildcard rule cannot describe them. Use --layout named."
        )
    lookups: dict[str, Any] = {"keys": [j.key for j in group]}
    lookups["labels"] = {j.key: j.title for j in group}
    upstream = {j.key: list(upstream_files(plan, [j])) for j in group if j.upstream}
    lookups["upstream"] = upstream
    threads = str(first.threads)
    if len({j.threads for j in group}) > 1:
        lookups["threads"] = {j.key: j.threads for j in group}
        threads = f'lambda wildcards: JOBS["{name}"]["threads"][wildcards.key]'
    resources = [(n, resource_source(first, n, v)) for n, v in first.resources]
    if len({j.resources for j in group}) > 1:
        names = {tuple(n for n, _ in j.resources) for j in group}
        if len(names) > 1:
            raise CompileError(
                f"Tasks named {first.name!r} from different code declare different resources "
                f"({sorted(names)}), so they cannot share one wildcard rule. Rename one of the "
                f"functions, declare the same resource names, or use --layout named."
            )
        lookups["resources"] = {j.key: dict(j.resources) for j in group}
        retries = max(j.retries for j in group)
        resources = []
        for n, _ in first.resources:
            get = f'JOBS["{name}"]["resources"][wildcards.key]["{n}"]'
            scale = " * attempt" if n == "mem_mb" and retries else ""
            resources.append((n, f"lambda wildcards, attempt: {get}{scale}"))
    rule = Rule(
        name=name,
        style="wildcard",
        taskname=first.taskname,
        keys=tuple(j.key for j in group),
        taskfiles=(escape(plan.path("tasks", first.name)) + "/{key}.json",),
        upstream=(),
        outputs=pattern,
        log=escape(plan.path("logs", first.name)) + "/{key}.log",
        threads=threads,
        resources=tuple(resources),
        retries=max(j.retries for j in group),
        constraint=_constraint([j.key for j in group]),
        message="{params.label}",
        directories=tuple(o in first.folders for o in first.outputs),
        lookup_upstream=bool(upstream),
    )
    return rule, lookups
