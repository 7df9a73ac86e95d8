"""Task types and batches: which jobs share an output pattern, which run in one process.

A batch holds independent jobs of one task type: the jobs of a type are cut by depth, then
into chunks of the batch size in key order. The depth of a job is the length of the longest
chain of jobs of its own type above it. That cut can make processes wait on each other
through jobs of other types (``a1 -> b -> a2`` puts ``a1`` and ``a2`` in one batch, which
then needs ``b``, which needs the batch); when it does, every batched type is cut by the
depth in the whole graph instead, where each dependency leads to a deeper job, so the
processes (batches and single jobs) never wait on each other in a cycle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from ...errors import CompileError
from .model import Batch, BatchSize, Job, ResourceValue, TaskDuration, TaskType
from .sizing import Request, choose, request_for, runtime_minutes


def task_types(
    jobs: Sequence[Job],
    sizes: Mapping[str, Request],
    durations: Mapping[str, TaskDuration] | None = None,
) -> tuple[TaskType, ...]:
    """The task types of `jobs` (in plan order), each with its batches if `sizes` asks
    (automatic sizes from `durations`, {module.task: recorded duration})."""
    groups: dict[tuple[str, tuple[str, ...] | None, str], list[Job]] = defaultdict(list)
    for job in jobs:
        pattern = output_pattern(job)
        # Jobs without a key-based pattern cannot share a type: keep them apart.
        groups[(job.name, pattern, "" if pattern else job.key)].append(job)
    ordered = [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1] or (), k[2]))]
    chosen = [choose(g, request_for(sizes, g[0].name), durations or {}) for g in ordered]
    types = _types(ordered, chosen, _type_depth)
    if any(t.batches for t in types) and _processes_wait_in_a_cycle(jobs, types):
        depth = _graph_depth(jobs)
        types = _types(ordered, chosen, lambda group: depth)
    return types


def _types(
    groups: list[list[Job]],
    chosen: list[BatchSize | None],
    depth_of: Callable[[list[Job]], Mapping[str, int]],
) -> tuple[TaskType, ...]:
    types = []
    for group, size in zip(groups, chosen, strict=True):
        first = group[0]
        # An automatic size of 1 leaves the jobs as they are; a size asked for is kept.
        cut = size is not None and (size.source == "given" or size.size > 1)
        types.append(
            TaskType(
                name=first.name,
                outputs=output_pattern(first),
                keys=tuple(j.key for j in group),
                batches=_cut(group, size.size, depth_of(group)) if size and cut else (),
                batch_size=size,
            )
        )
    return tuple(types)


def output_pattern(job: Job) -> tuple[str, ...] | None:
    """The job's outputs with its key as ``{key}``; None if a file name lacks the key."""
    out = []
    for path in job.outputs:
        folder, _, filename = path.rpartition("/")
        if not filename.startswith(job.key):
            return None
        prefix = f"{_literal(folder)}/" if folder else ""
        out.append(prefix + "{key}" + _literal(filename[len(job.key) :]))
    return tuple(out)


def _literal(text: str) -> str:
    """`text` inside a ``str.format`` pattern."""
    return text.replace("{", "{{").replace("}", "}}")


def _cut(group: list[Job], size: int, depth: Mapping[str, int]) -> tuple[Batch, ...]:
    """Batches of at most `size` jobs of `group`, jobs of equal `depth` together."""
    by_depth: dict[int, list[Job]] = defaultdict(list)
    for job in group:
        by_depth[depth[job.key]].append(job)
    batches = []
    for d in sorted(by_depth):
        members = sorted(by_depth[d], key=lambda j: j.key)
        for start in range(0, len(members), size):
            batches.append(_batch(members[start : start + size]))
    return tuple(batches)


def _type_depth(group: list[Job]) -> dict[str, int]:
    """The longest chain of jobs of `group` (in plan order: upstream first) above each job."""
    depth: dict[str, int] = {}
    in_group = {j.key for j in group}
    for job in group:
        depth[job.key] = max((depth[u] + 1 for u in job.upstream if u in in_group), default=0)
    return depth


def _graph_depth(jobs: Sequence[Job]) -> dict[str, int]:
    """The longest chain of jobs above each job (`jobs` in plan order: upstream first)."""
    depth: dict[str, int] = {}
    for job in jobs:
        depth[job.key] = max((depth[u] + 1 for u in job.upstream), default=0)
    return depth


def _processes_wait_in_a_cycle(jobs: Sequence[Job], types: Sequence[TaskType]) -> bool:
    """Whether some processes (a batch, or a job of its own) need each other's results."""
    process = {j.key: j.key for j in jobs}
    for task_type in types:
        for batch in task_type.batches:
            for key in batch.keys:
                process[key] = batch.keys[0]
    needs: dict[str, set[str]] = defaultdict(set)  # process -> processes it waits for
    needed_by: dict[str, set[str]] = defaultdict(set)
    for job in jobs:
        mine = process[job.key]
        for up in job.upstream:
            if process[up] != mine:
                needs[mine].add(process[up])
                needed_by[process[up]].add(mine)
    processes = set(process.values())
    waiting = {p: len(needs[p]) for p in processes}
    ready = [p for p in processes if not waiting[p]]
    finished = 0
    while ready:  # run the processes in dependency order: all can run unless in a cycle
        finished += 1
        for q in needed_by[ready.pop()]:
            waiting[q] -= 1
            if not waiting[q]:
                ready.append(q)
    return finished < len(processes)


def _batch(jobs: list[Job]) -> Batch:
    first = jobs[0]
    resources = tuple(
        (name, scale_runtime(value, len(jobs), first) if name == "runtime" else value)
        for name, value in first.resources
    )
    return Batch(
        keys=tuple(j.key for j in jobs),
        threads=max(j.threads for j in jobs),
        resources=resources,
        retries=max(j.retries for j in jobs),
    )


def scale_runtime(value: ResourceValue, n: int, job: Job) -> int:
    """The runtime of `n` runs of `job` one after another (minutes)."""
    minutes = runtime_minutes(value)
    if minutes is None:
        raise CompileError(
            f"{job.taskname}: cannot batch it with runtime={value!r}: give the runtime in "
            f"minutes (an integer) or with a unit s, m, h or d (e.g. '90m', '2h')."
        )
    if isinstance(value, int):
        return value * n
    return max(1, round(minutes * n + 0.4999))
