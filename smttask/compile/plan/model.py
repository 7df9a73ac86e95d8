"""The workflow plan as plain data: jobs, task types, batches. Knows no workflow engine.

Every path is relative to the project root (posix spelling), every task description is
already JSON text, every order is deterministic. A backend reads a plan and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

#: Resource values: integers (e.g. mem_mb, runtime in minutes) and strings (e.g. "2h").
ResourceValue = int | str

Resources = tuple[tuple[str, ResourceValue], ...]


@dataclass(frozen=True)
class Job:
    """One recorded task: it runs as ``smttask run <taskfile>``."""

    key: str  # the task's digest (iterative tasks: <digest>__<param><n>)
    name: str  # task (function) name
    taskname: str  # module.qualname
    kind: str  # RecordedTask, RecordedIterativeTask...
    taskfile: str  # where its task description goes
    desc: str  # task description JSON text (the task file's content)
    outputs: tuple[str, ...]  # the files it writes
    upstream: tuple[str, ...]  # keys of the jobs it needs
    threads: int
    resources: Resources  # sorted by name
    retries: int


@dataclass(frozen=True)
class Batch:
    """Jobs of one task type run one after another in one process (``smttask run a b ...``).

    No job of a batch depends on another job of it. The batch needs the most threads and
    retries any of its jobs asks for, the resources of its first job, and the sum of their
    runtimes (a ``runtime`` resource, in minutes).
    """

    keys: tuple[str, ...]  # sorted
    threads: int
    resources: Resources
    retries: int


@dataclass(frozen=True)
class TaskType:
    """Jobs of one task name whose output files differ only by the job's key.

    `outputs` spells the files as ``str.format`` patterns of ``{key}`` (literal braces
    doubled), so ``pattern.format(key=job.key)`` is the job's file; it is None for a job
    whose file names do not start with its key (such a job is a type of its own).
    """

    name: str
    outputs: tuple[str, ...] | None
    keys: tuple[str, ...]  # in plan order
    batches: tuple[Batch, ...] = ()  # empty: each job runs in a process of its own


@dataclass(frozen=True)
class Plan:
    """Everything a backend needs, in a deterministic order."""

    outdir: str  # the output folder, relative to the project root
    root_from_outdir: str  # the project root, relative to the output folder
    jobs: tuple[Job, ...]  # upstream jobs first
    task_types: tuple[TaskType, ...] = ()  # sorted by name, then output pattern

    @property
    def batches(self) -> tuple[Batch, ...]:
        """All batches, type by type; a job is in at most one."""
        return tuple(b for t in self.task_types for b in t.batches)

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

    def task_files(self) -> dict[str, str]:
        """The task description of every job: {path in the output folder: JSON text}."""
        folder = PurePosixPath(self.outdir)
        if str(folder) == ".":
            return {job.taskfile: job.desc for job in self.jobs}
        return {str(PurePosixPath(j.taskfile).relative_to(folder)): j.desc for j in self.jobs}
