"""Batch sizes: a number asked for, or one chosen from how long a task type's runs take.

``batch="auto"`` (``("auto", minutes)``, ``AutoBatch(minutes)``; ``--batch auto[=MINUTES]``)
puts about MINUTES (default 10) of work into each process: the size is that time divided by
the median duration of the task's finished records, at most ``MAX_AUTO_SIZE``. The plan
knows no record store: the caller passes the durations in (``smttask.export`` reads them
from the records). Without a finished record, a declared ``runtime`` resource stands for the
duration; without either, each job runs in a process of its own (``FALLBACK_SIZE``), the
one choice that never makes a job longer than its task.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from ...errors import CompileError
from .model import AutoBatch, BatchSize, Job, ResourceValue, TaskDuration

#: Work aimed at per process by ``batch="auto"``, in minutes.
DEFAULT_MINUTES = AutoBatch().minutes
#: Most tasks ``batch="auto"`` puts into one process (its command line lists every task file).
MAX_AUTO_SIZE = 500
#: Tasks per process when neither a record nor a declared runtime tells how long one takes.
FALLBACK_SIZE = 1

#: What asks for the batches of one task type: a size, or an automatic one.
Request = int | AutoBatch
#: What ``export(batch=...)`` takes for one type: N, "auto", ("auto", minutes), AutoBatch.
BatchSpec = int | str | tuple[str, float] | AutoBatch
#: ``batch=`` of ``export``/``make_plan``: one spec for every type, or {task name: spec}.
BatchRequest = BatchSpec | Mapping[str, BatchSpec] | None

_RUNTIME_UNITS = {"s": 1 / 60, "m": 1, "min": 1, "h": 60, "d": 1440}


def batch_sizes(batch: BatchRequest) -> dict[str, Request]:
    """{task name ("*": every task type): size or AutoBatch}, checked."""
    if batch is None:
        return {}
    if isinstance(batch, Mapping):
        return {name: _request(name, spec) for name, spec in batch.items()}
    return {"*": _request("*", batch)}


def _request(name: str, spec: object) -> Request:
    if isinstance(spec, AutoBatch):
        return _auto(name, spec.minutes)
    if spec == "auto":
        return AutoBatch()
    if isinstance(spec, tuple) and len(spec) == 2 and spec[0] == "auto":
        return _auto(name, spec[1])
    if isinstance(spec, bool) or not isinstance(spec, int) or spec < 1:
        raise CompileError(
            f"Batch size {spec!r} for {name!r} must be a positive integer (tasks per job), "
            f'"auto" (sizes from the recorded durations, about {DEFAULT_MINUTES:g} minutes '
            f'per job) or ("auto", minutes).'
        )
    return spec


def _auto(name: str, minutes: object) -> AutoBatch:
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not minutes > 0:
        raise CompileError(
            f'Automatic batches for {name!r}: ("auto", {minutes!r}) needs a positive number of '
            f'minutes of work per job, e.g. ("auto", 10).'
        )
    return AutoBatch(float(minutes))


def request_for(sizes: Mapping[str, Request], name: str) -> Request | None:
    """What `sizes` asks for the task type `name` (None: no batches)."""
    return sizes.get(name, sizes.get("*"))


def auto_tasknames(jobs: Iterable[tuple[str, str]], sizes: Mapping[str, Request]) -> set[str]:
    """The tasks (``module.task``) whose durations automatic sizes need, of `jobs` given as
    (task name, ``module.task``) pairs."""
    return {full for name, full in jobs if isinstance(request_for(sizes, name), AutoBatch)}


def choose(
    group: Sequence[Job], request: Request | None, durations: Mapping[str, TaskDuration]
) -> BatchSize | None:
    """The batch size of a task type's jobs `group` (None: no batching asked for)."""
    if request is None:
        return None
    if isinstance(request, int):
        return BatchSize(request, "given")
    minutes = request.minutes
    known = [durations[n] for n in sorted({j.taskname for j in group}) if n in durations]
    if known:
        slowest = max(known, key=lambda d: d.seconds)  # tasks of one name from several modules
        seconds, records, source = slowest.seconds, slowest.records, "records"
    else:
        declared = [_declared_minutes(j) for j in group]
        if not declared or any(m is None for m in declared):
            return BatchSize(FALLBACK_SIZE, "default", minutes)
        seconds, records, source = 60 * max(m for m in declared if m is not None), 0, "runtime"
    size = math.floor(minutes * 60 / max(seconds, 1e-3))
    return BatchSize(max(1, min(MAX_AUTO_SIZE, size)), source, minutes, seconds, records)


def _declared_minutes(job: Job) -> float | None:
    value = dict(job.resources).get("runtime")
    return None if value is None else runtime_minutes(value)


def runtime_minutes(value: ResourceValue) -> float | None:
    """A ``runtime`` resource in minutes (an integer is minutes); None if it cannot be read."""
    if isinstance(value, int):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*", value)
    if not match:
        return None
    return float(match.group(1)) * _RUNTIME_UNITS[match.group(2)]
