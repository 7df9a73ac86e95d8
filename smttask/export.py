"""Export task graphs as Snakemake workflows: ``smttask.export_snakemake(tasks, "build/")``.

Trace the tasks, check that every job's task file can be read back (same task, same digest)
before writing anything, render the workflow, write it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import config
from .compile.plan import Plan, SlurmOptions, make_plan
from .compile.rules import build_rules
from .compile.snakemake import compile_snakemake
from .compile.writer import write_files
from .errors import CompileError, SmttaskError
from .graph import TaskGraph, trace
from .task import Task


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    jobs: int
    tasks: int  # tasks in the graph (jobs + memoized)
    layout: str
    rules: int
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def snakefile(self) -> Path:
        return self.folder / "Snakefile"

    def summary(self) -> str:
        changed = f"{len(self.written)} written, {len(self.unchanged)} unchanged"
        if self.removed:
            changed += f", {len(self.removed)} stale removed"
        return (
            f"Exported {self.jobs} job{'s' if self.jobs != 1 else ''} ({self.tasks} tasks, "
            f"{self.layout} layout, {self.rules} rule{'s' if self.rules != 1 else ''}) to "
            f"{self.folder}: {changed}.\n"
            f"Run: snakemake -s {self.snakefile} --cores 4"
        )


def export_snakemake(
    tasks: Task | Iterable[Task],
    outdir: str | Path = "build",
    *,
    layout: str = "auto",
    batch: int | Mapping[str, int] | None = None,
    slurm_account: str | None = None,
    slurm_partition: str | None = None,
    slurm_status_command: str | None = None,
    force: bool = False,
) -> ExportResult:
    """Write a Snakemake workflow running `tasks` (and all they need) into `outdir`.

    Recorded tasks become jobs (``smttask run TASKFILE``); memoized tasks run inside the jobs
    that use them. `layout`: ``"named"`` (one rule per job), ``"wildcard"`` (one rule per task
    type) or ``"auto"`` (named up to 500 rules). `batch`: run up to N independent tasks of
    one type per job (an int for every type, or ``{"task_name": N}``). The ``slurm_*``
    options go into ``profiles/slurm``; use ``slurm_status_command="squeue"`` on clusters
    without accounting (sacct).
    """
    graph = trace(tasks)
    check_modules(graph)
    plan = plan_export(
        graph,
        outdir,
        layout=layout,
        batch=batch,
        slurm=SlurmOptions(
            account=slurm_account, partition=slurm_partition, status_command=slurm_status_command
        ),
    )
    check_plan(plan, graph)
    ruleset = build_rules(plan)
    files = compile_snakemake(plan, ruleset)
    report = write_files(Path(outdir), files, force=force)
    return ExportResult(
        folder=Path(outdir),
        jobs=len(plan.jobs),
        tasks=len(graph),
        layout=ruleset.layout,
        rules=len(ruleset.rules),
        written=report.written,
        unchanged=report.unchanged,
        removed=report.removed,
    )


def plan_export(
    graph: TaskGraph,
    outdir: str | Path,
    *,
    layout: str = "auto",
    batch: int | Mapping[str, int] | None = None,
    slurm: SlurmOptions | None = None,
) -> Plan:
    slurm = slurm or SlurmOptions()
    if slurm.status_command not in (None, "sacct", "squeue"):
        raise CompileError(
            f"SLURM status command {slurm.status_command!r} is not supported: use 'squeue' "
            f"(clusters without accounting) or 'sacct'."
        )
    return make_plan(
        graph,
        root=config.project_root(),
        outdir=Path(outdir),
        layout=layout,
        batch=batch,
        slurm=slurm,
    )


def check_modules(graph: TaskGraph) -> None:
    """Raise CompileError unless the jobs can import the modules of all tasks."""
    root = config.project_root()
    checked: set[str] = set()
    for node in graph.nodes():
        module = node.task._spec.module
        if module not in checked:
            checked.add(module)
            _check_module(module, node.task.taskname, root)


def check_plan(plan: Plan, graph: TaskGraph) -> None:
    """Raise CompileError unless every job's task file loads back into the same task."""
    for job in plan.jobs:
        task = graph.node(job.key).task
        try:
            again = Task.from_desc(json.loads(job.desc))
        except SmttaskError as exc:
            raise CompileError(
                f"Cannot export {task!r} (digest {job.key[:10]}): its task file would not load "
                f"in the job: {exc}"
            ) from None
        if again.key != job.key:
            raise CompileError(
                f"Cannot export {task!r}: its task file loads back as a task with digest "
                f"{again.key}, not {job.key}. An input does not survive serialization "
                f"unchanged; give it a type that serializes exactly (see scityping)."
            )


def _check_module(name: str, taskname: str, root: Path) -> None:
    """Jobs run in the project folder: the module must be importable from there by `name`."""
    if name == "__main__":
        raise CompileError(
            f"Cannot export {taskname}: it is defined in a script run as __main__ (or a "
            f"notebook), which the jobs cannot import. Move the task functions into a module "
            f"of the project (e.g. tasks.py) and import them from there."
        )
    module = sys.modules.get(name)
    filename = getattr(module, "__file__", None)
    if not filename:
        return
    path = Path(filename).resolve()
    try:
        rel = path.relative_to(root)
    except ValueError:
        return  # installed package: importable wherever the environment is active
    if {"site-packages", "dist-packages"} & set(rel.parts):
        return  # a virtual environment inside the project folder
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    if ".".join(parts) != name:
        raise CompileError(
            f"Cannot export {taskname}: its module {name!r} is the file {rel}, which the jobs "
            f"(running in the project folder {root}) would import as {'.'.join(parts)!r}. "
            f"Import the tasks through the module name matching their path from the project "
            f"folder (e.g. `from {'.'.join(parts)} import ...`)."
        )
