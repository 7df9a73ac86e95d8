"""Export task graphs as workflows: ``smttask.export_snakemake(tasks, "build/")``.

``export(tasks, outdir, backend=...)``: check the backend's options, trace the tasks, check
that their modules import in the jobs, plan the jobs, check that every job's task file reads
back (same task, same digest) before writing anything, render the workflow, write it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from . import config
from .compile.backend import get_backend
from .compile.durations import recorded_durations
from .compile.plan import BatchRequest, Plan, TaskDuration, auto_tasknames, batch_sizes, make_plan
from .compile.roundtrip import InputShapes
from .compile.writer import write_files
from .errors import CompileError, SmttaskError
from .graph import TaskGraph, trace
from .task import Task


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote, and what the backend made of the plan."""

    folder: Path
    backend: str
    jobs: int
    tasks: int  # tasks in the graph (jobs + memoized)
    batches: int
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    refused: tuple[str, ...] = ()  # stale files listed outside the folder: kept, one sentence each
    description: str = ""  # the backend's words, e.g. "named layout, 4 rules"
    entry: str | None = None  # the file starting the workflow, in `folder`
    run: str = ""  # how to run it; "{entry}" stands for the entry file's path
    details: Mapping[str, str | int] = field(default_factory=dict)
    batching: tuple[str, ...] = ()  # per task type sized automatically: size, and its origin
    notes: tuple[str, ...] = ()  # what the user should know before running it
    dry_run: bool = False  # nothing was written: `written` and `removed` say what would be

    @property
    def entry_path(self) -> Path | None:
        return None if self.entry is None else self.folder / self.entry

    def summary(self) -> str:
        would = "would be " if self.dry_run else ""
        changed = f"{len(self.written)} {would}written, {len(self.unchanged)} unchanged"
        if self.removed:
            changed += f", {len(self.removed)} stale {would}removed"
        shape = f", {self.description}" if self.description else ""
        verb = "Dry run: would export" if self.dry_run else "Exported"
        text = (
            f"{verb} {self.jobs} job{'s' if self.jobs != 1 else ''} ({self.tasks} tasks"
            f"{shape}) to {self.folder}: {changed}."
        )
        if self.dry_run:
            for rel in self.written:
                text += f"\n  would write {rel}"
            for rel in self.removed:
                text += f"\n  would remove {rel}"
            return text
        for line in self.batching:
            text += f"\nBatches: {line}"
        for note in self.notes:
            text += f"\nNote: {note}"
        if self.run:
            text += f"\nRun: {self.run.format(entry=self.entry_path)}"
        for line in self.refused:
            text += f"\n{line}."
        return text


@dataclass(frozen=True)
class SnakemakeExport(ExportResult):
    """The result of ``export_snakemake``: an ExportResult that names its layout and rules."""

    @property
    def layout(self) -> str:
        return str(self.details["layout"])

    @property
    def rules(self) -> int:
        return int(self.details["rules"])

    @property
    def snakefile(self) -> Path:
        return self.folder / "Snakefile"


def export(
    tasks: Task | Iterable[Task],
    outdir: str | Path = "build",
    *,
    backend: str = "snakemake",
    batch: BatchRequest = None,
    durations: Mapping[str, TaskDuration] | None = None,
    force: bool = False,
    dry_run: bool = False,
    **options: object,
) -> ExportResult:
    """Write a workflow running `tasks` (and all they need) into `outdir`, for `backend`.

    Recorded tasks become jobs (``smttask run TASKFILE``); memoized tasks run inside the jobs
    that use them. `batch`: run up to N independent tasks of one type per job (an int for
    every type, or ``{"task_name": N}``); ``"auto"`` or ``("auto", minutes)`` for N chooses
    it so that a job runs about that many minutes (default 10), from the median duration of
    the task's finished records (`durations`, ``{"module.task": TaskDuration}``, if given;
    else read from the project's record store). `options` go to the backend, which checks
    them (``smttask.compile.backend.get_backend(backend).validate_options``) before anything
    is traced. Nothing is written unless the jobs' task files load back into the same tasks
    (one loaded per shape of task, see ``check_plan``).

    When runs are recorded (a Sumatra project, ``settings.record``), uncommitted changes to
    the project's code are refused first, with the message ``smttask run`` gives: every job
    would fail on them. With `dry_run`, everything is checked and the result says what would
    be written, unchanged and removed, but nothing on disk changes.
    """
    engine = get_backend(backend)
    backend_options = engine.validate_options(options)
    if config.settings.record:
        from .recording import check_committed

        check_committed(config.project_root())
    sizes = batch_sizes(batch)
    graph = trace(tasks)
    check_modules(graph)
    notes: list[str] = []
    if durations is None:
        wanted = auto_tasknames(((n.task.name, n.task.taskname) for n in graph.jobs()), sizes)
        found = recorded_durations(wanted, config.project_root())
        durations = found.found
        if found.problem:
            notes.append(f"batch sizes without records: {found.problem}.")
    plan = plan_export(graph, outdir, batch=batch, durations=durations)
    check_plan(plan, graph)
    files = engine.render(plan, backend_options)
    described = engine.describe(plan, backend_options)
    report = write_files(Path(outdir), files, force=force, dry_run=dry_run)
    return ExportResult(
        folder=Path(outdir),
        backend=engine.name,
        jobs=len(plan.jobs),
        tasks=len(graph),
        batches=len(plan.batches),
        written=report.written,
        unchanged=report.unchanged,
        removed=report.removed,
        refused=report.refused,
        description=described.text,
        entry=described.entry,
        run=described.run,
        details=dict(described.details),
        batching=batching_lines(plan),
        notes=(*notes, *described.notes),
        dry_run=dry_run,
    )


def export_snakemake(
    tasks: Task | Iterable[Task],
    outdir: str | Path = "build",
    *,
    layout: str = "auto",
    batch: BatchRequest = None,
    durations: Mapping[str, TaskDuration] | None = None,
    slurm_account: str | None = None,
    slurm_partition: str | None = None,
    slurm_status_command: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> SnakemakeExport:
    """Write a Snakemake workflow running `tasks` (and all they need) into `outdir`.

    Recorded tasks become jobs (``smttask run TASKFILE``); memoized tasks run inside the jobs
    that use them. `layout`: ``"named"`` (one rule per job), ``"wildcard"`` (one rule per task
    type) or ``"auto"`` (named up to 500 rules). `batch`: run up to N independent tasks of
    one type per job (an int for every type, or ``{"task_name": N}``; ``"auto"`` or
    ``("auto", minutes)``: about that many minutes per job, from the records, see
    ``export``). The ``slurm_*`` options go into ``profiles/slurm``; use
    ``slurm_status_command="squeue"`` on clusters without accounting (sacct). The same as
    ``export(tasks, outdir, backend="snakemake", ...)``; `dry_run`: nothing is written.
    """
    result = export(
        tasks,
        outdir,
        backend="snakemake",
        batch=batch,
        durations=durations,
        force=force,
        dry_run=dry_run,
        layout=layout,
        slurm_account=slurm_account,
        slurm_partition=slurm_partition,
        slurm_status_command=slurm_status_command,
    )
    return SnakemakeExport(**{f.name: getattr(result, f.name) for f in fields(result)})


def plan_export(
    graph: TaskGraph,
    outdir: str | Path,
    *,
    batch: BatchRequest = None,
    durations: Mapping[str, TaskDuration] | None = None,
) -> Plan:
    """The plan of `graph`, to be written into `outdir` of the current project."""
    root = config.project_root()
    return make_plan(graph, root=root, outdir=Path(outdir), batch=batch, durations=durations)


def batching_lines(plan: Plan) -> tuple[str, ...]:
    """For each task type with an automatic batch size: the size and where it came from."""
    lines = []
    for task_type in plan.task_types:
        size = task_type.batch_size
        if size is not None and size.source != "given":
            jobs = len(task_type.batches) or len(task_type.keys)
            lines.append(f"{task_type.name}: {size.describe()} -> {jobs} job(s)")
    return tuple(lines)


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
    """Raise CompileError unless the jobs' task files load back into the same tasks.

    One task file is loaded back per shape of task (its type and the classes of its inputs'
    values, see ``smttask.compile.roundtrip``): tasks of one shape serialize alike. A file
    that does not match its code when a job runs is refused by ``smttask run`` then.
    """
    shapes = InputShapes()
    checked: set[int] = set()
    for job in plan.jobs:
        task = graph.node(job.key).task
        shape = shapes.shape(task)
        if shape in checked:
            continue
        checked.add(shape)
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
