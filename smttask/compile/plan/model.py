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
class AutoBatch:
    """Ask for batches sized from recorded durations: about `minutes` of work per process."""

    minutes: float = 10.0


@dataclass(frozen=True)
class TaskDuration:
    """What the records say of one task's run time (``module.task``): median seconds, and how
    many finished records that median comes from."""

    seconds: float
    records: int


@dataclass(frozen=True)
class BatchSize:
    """How many jobs of a task type share a process, and where that number comes from.

    `source`: ``"given"`` (a number asked for), ``"records"`` (`seconds` is the median
    duration of `records` finished records), ``"runtime"`` (`seconds` from the declared
    ``runtime`` resource) or ``"default"`` (nothing known: one job per process). `minutes`:
    the work aimed at per process (automatic sizes only).
    """

    size: int
    source: str
    minutes: float | None = None
    seconds: float | None = None
    records: int = 0

    def describe(self) -> str:
        """E.g. ``"120 per process, ~10 min each (median 4.9 s of 12 finished records; aiming
        at 10 min)"``."""
        per = f"{self.size} per process"
        if self.source == "given":
            return f"{per} (given)"
        if self.source == "default":
            return f"{per} (no finished record and no declared runtime to size batches by)"
        about = f"~{_duration(self.size * (self.seconds or 0.0))} each"
        aim = f"aiming at {self.minutes:g} min"
        if self.source == "records":
            s = "s" if self.records != 1 else ""
            why = f"median {self.seconds:.3g} s of {self.records} finished record{s}"
        else:
            why = f"no finished record; declared runtime {self.seconds:g} s"
        return f"{per}, {about} ({why}; {aim})"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


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
    batch_size: BatchSize | None = None  # None: no batching asked for this type


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
