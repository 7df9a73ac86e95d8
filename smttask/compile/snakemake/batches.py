"""Batch rules: each batch of the plan is a named rule running ``smttask run a.json b.json ...``.

The plan decides which jobs form a batch (``smttask.compile.plan.batching``); here they get
rule names (``<task>_batch<n>``, numbered per rule name base) and Snakemake directives.
"""

from __future__ import annotations

from collections import defaultdict

from ..plan import Batch, Plan
from .rule import Rule, batch_message, escape, identifier, resource_source, upstream_files


def batch_rules(plan: Plan) -> list[Rule]:
    """One rule per batch of `plan`, in plan order."""
    counters: dict[str, int] = defaultdict(int)
    rules = []
    for task_type in plan.task_types:
        base = identifier(task_type.name)
        for batch in task_type.batches:
            counters[base] += 1
            rules.append(_batch_rule(plan, f"{base}_batch{counters[base]}", batch))
    return rules


def _batch_rule(plan: Plan, name: str, batch: Batch) -> Rule:
    jobs = [plan.job(k) for k in batch.keys]
    first = jobs[0]
    return Rule(
        name=name,
        style="batch",
        taskname=first.taskname,
        keys=batch.keys,
        taskfiles=tuple(escape(j.taskfile) for j in jobs),
        upstream=tuple(escape(p) for p in upstream_files(plan, jobs)),
        outputs=tuple(escape(o) for j in jobs for o in j.outputs),
        log=escape(plan.path("logs", first.name, f"{name}.log")),
        threads=str(batch.threads),
        resources=tuple((n, resource_source(first, n, v)) for n, v in batch.resources),
        retries=batch.retries,
        message=escape(batch_message([j.title for j in jobs])),
        directories=tuple(o in j.folders for j in jobs for o in j.outputs),
    )
