"""Batches: independent jobs of one task type in one ``smttask run a.json b.json ...`` process.

A batch is a named rule listing its files. Jobs of one batch never depend on each other
(batches are cut by depth within the task type); its runtime is the sum of its tasks'.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..errors import CompileError
from .plan import Job, Plan, ResourceValue
from .rule import Rule, escape, identifier, resource_source, upstream_files

_RUNTIME_UNITS = {"s": 1 / 60, "m": 1, "min": 1, "h": 60, "d": 1440}


def batch_rules(plan: Plan, group: list[Job], size: int, counters: dict[str, int]) -> list[Rule]:
    # Jobs of one batch must not depend on each other: batch by depth within the group.
    depth: dict[str, int] = {}
    members = {j.key for j in group}
    for job in group:  # upstream first
        depth[job.key] = max((depth[u] + 1 for u in job.upstream if u in members), default=0)
    by_depth: dict[int, list[Job]] = defaultdict(list)
    for job in group:
        by_depth[depth[job.key]].append(job)
    base = identifier(group[0].name)
    rules = []
    for d in sorted(by_depth):
        jobs = sorted(by_depth[d], key=lambda j: j.key)
        for start in range(0, len(jobs), size):
            counters[base] += 1
            name = f"{base}_batch{counters[base]}"
            rules.append(_batch_rule(plan, name, jobs[start : start + size]))
    return rules


def _batch_rule(plan: Plan, name: str, jobs: list[Job]) -> Rule:
    first = jobs[0]
    resources = []
    for res_name, value in first.resources:
        if res_name == "runtime":
            value = _scale_runtime(value, len(jobs), first)
        resources.append((res_name, resource_source(first, res_name, value)))
    return Rule(
        name=name,
        style="batch",
        taskname=first.taskname,
        keys=tuple(j.key for j in jobs),
        taskfiles=tuple(escape(j.taskfile) for j in jobs),
        upstream=tuple(escape(p) for p in upstream_files(plan, jobs)),
        outputs=tuple(escape(o) for j in jobs for o in j.outputs),
        log=escape(plan.path("logs", first.name, f"{name}.log")),
        threads=str(max(j.threads for j in jobs)),
        resources=tuple(resources),
        retries=max(j.retries for j in jobs),
    )


def _scale_runtime(value: ResourceValue, n: int, job: Job) -> ResourceValue:
    """The runtime of `n` jobs run one after another (minutes)."""
    if isinstance(value, int):
        return value * n
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*", value)
    if not match:
        raise CompileError(
            f"{job.taskname}: cannot batch it with runtime={value!r}: give the runtime in "
            f"minutes (an integer) or with a unit s, m, h or d (e.g. '90m', '2h')."
        )
    minutes = float(match.group(1)) * _RUNTIME_UNITS[match.group(2)] * n
    return max(1, round(minutes + 0.4999))


# -- wildcard rules -----------------------------------------------------------------------------
