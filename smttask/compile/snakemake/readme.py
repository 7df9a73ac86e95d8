"""What the README says of each task type: how many jobs, what each job asks SLURM for."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..plan import Plan, ResourceValue, TaskType

DEFAULT = "default"  # a resource the task does not declare: the profile's default-resources


def task_rows(plan: Plan) -> list[dict[str, Any]]:
    """One row per task name, sorted: tasks, jobs, tasks per job, threads, mem_mb, runtime
    (per job: a batch's runtime is its tasks' added up), retries and the batch size's origin."""
    by_name: dict[str, list[TaskType]] = defaultdict(list)
    for task_type in plan.task_types:
        by_name[task_type.name].append(task_type)
    rows = []
    for name in sorted(by_name):
        types = by_name[name]
        jobs = [plan.job(k) for t in types for k in t.keys]
        batches = [b for t in types for b in t.batches]
        batched = {k for b in batches for k in b.keys}
        single = [j for j in jobs if j.key not in batched]
        per_job: list[tuple[int, dict[str, ResourceValue], int]] = [
            (b.threads, dict(b.resources), b.retries) for b in batches
        ]
        per_job += [(j.threads, dict(j.resources), j.retries) for j in single]
        sizes = sorted({len(b.keys) for b in batches} | ({1} if single else set()))
        retries = _span(r for _, _, r in per_job)
        mem = _span(res.get("mem_mb", DEFAULT) for _, res, _ in per_job)
        if any(r for _, _, r in per_job) and mem != DEFAULT:
            mem += " × attempt"
        rows.append(
            {
                "name": name,
                "tasks": len(jobs),
                "jobs": len(batches) + len(single),
                "per_job": _span(sizes),
                "threads": _span(t for t, _, _ in per_job),
                "mem_mb": mem,
                "runtime": _span(_minutes(res.get("runtime", DEFAULT)) for _, res, _ in per_job),
                "retries": retries,
                "batch": "; ".join(t.batch_size.describe() for t in types if t.batch_size),
            }
        )
    return rows


def _minutes(value: ResourceValue) -> str:
    return f"{value}m" if isinstance(value, int) else value  # an integer runtime is minutes


def _span(values: Any) -> str:
    """One value, or the smallest and largest (text sorts after numbers)."""
    distinct = sorted(set(values), key=lambda v: (isinstance(v, str), v))
    if not distinct:
        return ""
    if len(distinct) == 1:
        return str(distinct[0])
    return f"{distinct[0]}–{distinct[-1]}"
