"""From a traced task graph to a plan: one job per recorded task, then types and batches."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import CompileError
from .batching import task_types
from .jsontext import indented
from .model import Job, Plan, ResourceValue, TaskDuration
from .sizing import BatchRequest, batch_sizes

if TYPE_CHECKING:  # the plan reads a graph; importing the graph module (networkx) is not needed
    from ...graph import Node, TaskGraph

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def relative(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """`path` relative to `root` in posix spelling; absolute if it lies outside `root`."""
    return _relative(os.path.abspath(path), str(Path(root)))


def _relative(full: str, top: str) -> str:
    """Absolute, normalised `full` relative to normalised `top` (see ``relative``): string
    operations on POSIX (a plan has a few paths per job)."""
    # pathlib decides where paths have drives or case-insensitive names, and for the root
    # "//" that POSIX keeps apart (os.path.abspath keeps it)
    if os.sep != "/" or os.altsep or full.startswith("//"):
        try:
            return Path(full).relative_to(top).as_posix()
        except ValueError:
            return Path(full).as_posix()
    if full == top:
        return "."
    prefix = top if top.endswith("/") else top + "/"
    return full[len(prefix) :] if full.startswith(prefix) else full


def make_plan(
    graph: TaskGraph,
    *,
    root: Path,
    outdir: Path,
    batch: BatchRequest = None,
    durations: Mapping[str, TaskDuration] | None = None,
) -> Plan:
    """The plan for the recorded tasks of `graph`, written to `outdir` in project `root`.

    `batch`: run up to N independent jobs of one task type in one process (an int for every
    type, or ``{"task_name": N}``, ``"*"`` standing for every other type); ``"auto"`` or
    ``("auto", minutes)`` instead of N sizes the batches from `durations` ({``module.task``:
    TaskDuration}, e.g. read from the records) to about that many minutes per process (see
    ``sizing``).
    """
    sizes = batch_sizes(batch)
    root = Path(os.path.abspath(root))
    outdir = Path(os.path.abspath(outdir))
    stub = Plan(relative(outdir, root), Path(os.path.relpath(root, outdir)).as_posix(), ())
    tasks, top = stub.path("tasks"), str(root)
    jobs = tuple(_job(graph, node, tasks, top) for node in graph.jobs())
    if not jobs:
        raise CompileError(
            "The tasks contain no recorded task, so there is no job to export: memoized "
            "tasks keep their results in memory only. Export RecordedTask instances (or tasks "
            "that use them)."
        )
    return Plan(
        outdir=stub.outdir,
        root_from_outdir=stub.root_from_outdir,
        jobs=jobs,
        task_types=task_types(jobs, sizes, durations),
    )


def _job(graph: TaskGraph, node: Node, tasks: str, root: str) -> Job:
    """The job of `node`; its task file goes into folder `tasks` (relative to `root`)."""
    task, spec = node.task, node.task._spec
    where = f"{spec.taskname} (task {node.label})"
    resources: list[tuple[str, ResourceValue]] = []
    for name, value in sorted(spec.resources.items()):
        if not isinstance(name, str) or not _IDENT.match(name) or name == "threads":
            raise CompileError(
                f"{where} declares resource {name!r}, which is not a valid resource name. "
                f"Use identifiers such as mem_mb, runtime, slurm_partition; set threads with "
                f"the `threads=` option."
            )
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise CompileError(
                f"{where}: resource {name}={value!r} must be an integer or a string (e.g. "
                f"mem_mb=2000, runtime='2h', slurm_partition='gpu')."
            )
        resources.append((name, value))
    return Job(
        key=node.key,
        name=task.name,
        taskname=task.taskname,
        kind=_kind(type(task)),
        taskfile=f"{tasks}/{task.name}/{node.key}.json",
        desc=indented(task.desc) + "\n",
        outputs=tuple(_relative(os.path.abspath(p), root) for p in node.outputs),
        upstream=tuple(graph.job_upstream(node.key)),
        threads=max(1, spec.threads),
        resources=tuple(resources),
        retries=spec.retries,
        label=graph.label(node.key),
        folders=tuple(_relative(os.path.abspath(p), root) for p in node.folders),
    )


def _kind(cls: type) -> str:
    for base in cls.__mro__[1:]:
        if base.__dict__.get("_is_kind", False):
            return base.__name__
    return cls.__name__
