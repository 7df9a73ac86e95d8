"""From a task graph to a workflow plan: jobs with their files, resources and dependencies.

The plan is plain data (no task objects): every path is relative to the project root (posix
spelling), every task description is already JSON text. Backends render a plan into files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import CompileError
from ..graph import Node, TaskGraph

#: Resource values Snakemake accepts: integers (e.g. mem_mb, runtime in minutes) and strings.
ResourceValue = int | str

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Job:
    """One recorded task: a `smttask run <taskfile>` process."""

    key: str
    name: str  # task (function) name
    taskname: str  # module.qualname
    kind: str
    taskfile: str
    desc: str  # task description JSON text
    outputs: tuple[str, ...]
    upstream: tuple[str, ...]  # keys of the jobs it needs
    threads: int
    resources: tuple[tuple[str, ResourceValue], ...]
    retries: int


@dataclass(frozen=True)
class SlurmOptions:
    account: str | None = None
    partition: str | None = None
    status_command: str | None = None  # "squeue" on clusters without accounting
    mem_mb: int = 1000
    runtime: str = "60m"
    jobs: int = 100


@dataclass(frozen=True)
class Plan:
    """Everything a backend needs, in a deterministic order (upstream jobs first)."""

    outdir: str  # the output folder, relative to the project root
    root_from_outdir: str  # the project root, relative to the output folder
    jobs: tuple[Job, ...]
    layout: str = "auto"  # "auto" | "named" | "wildcard"
    batch: Mapping[str, int] = field(default_factory=dict)  # task name ("*": all) -> size
    slurm: SlurmOptions = SlurmOptions()

    def job(self, key: str) -> Job:
        return self._by_key()[key]

    def _by_key(self) -> dict[str, Job]:
        cache: dict[str, Job] | None = self.__dict__.get("_jobs_by_key")
        if cache is None:
            cache = {j.key: j for j in self.jobs}
            object.__setattr__(self, "_jobs_by_key", cache)
        return cache

    def path(self, *parts: str) -> str:
        """A path inside the output folder, relative to the project root."""
        return str(PurePosixPath(self.outdir, *parts)) if self.outdir != "." else "/".join(parts)


def relative(path: Path, root: Path) -> str:
    """`path` relative to `root` in posix spelling; absolute if it lies outside `root`."""
    path = Path(os.path.abspath(path))
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def make_plan(
    graph: TaskGraph,
    *,
    root: Path,
    outdir: Path,
    layout: str = "auto",
    batch: int | Mapping[str, int] | None = None,
    slurm: SlurmOptions = SlurmOptions(),
) -> Plan:
    """The plan for the recorded tasks of `graph`, written to `outdir` in project `root`."""
    if layout not in ("auto", "named", "wildcard"):
        raise CompileError(f"Unknown layout {layout!r}: choose auto, named or wildcard.")
    root = Path(os.path.abspath(root))
    outdir = Path(os.path.abspath(outdir))
    out_rel = relative(outdir, root)
    plan_stub = Plan(out_rel, Path(os.path.relpath(root, outdir)).as_posix(), ())
    jobs = tuple(_job(graph, node, plan_stub, root) for node in graph.jobs())
    if not jobs:
        raise CompileError(
            "The tasks contain no recorded task, so there is no job to export: memoized "
            "tasks keep their results in memory only. Export RecordedTask instances (or tasks "
            "that use them)."
        )
    return Plan(
        outdir=plan_stub.outdir,
        root_from_outdir=plan_stub.root_from_outdir,
        jobs=jobs,
        layout=layout,
        batch=_batch_sizes(batch),
        slurm=slurm,
    )


def _job(graph: TaskGraph, node: Node, plan: Plan, root: Path) -> Job:
    task, spec = node.task, node.task._spec
    where = f"{spec.taskname} (task {node.label})"
    resources = []
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
        taskfile=plan.path("tasks", task.name, f"{node.key}.json"),
        desc=json.dumps(task.desc, indent=2) + "\n",
        outputs=tuple(relative(p, root) for p in node.outputs),
        upstream=tuple(graph.job_upstream(node.key)),
        threads=max(1, spec.threads),
        resources=tuple(resources),
        retries=spec.retries,
    )


def _kind(cls: type) -> str:
    for base in cls.__mro__[1:]:
        if base.__dict__.get("_is_kind", False):
            return base.__name__
    return cls.__name__


def _batch_sizes(batch: int | Mapping[str, int] | None) -> dict[str, int]:
    if batch is None:
        return {}
    sizes = {"*": batch} if isinstance(batch, int) else dict(batch)
    for name, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise CompileError(
                f"Batch size {size!r} for {name!r} must be a positive integer (tasks per job)."
            )
    return sizes
