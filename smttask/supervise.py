"""A small parent process that watches ``smttask run`` and says how it ended if it was killed.

A task over its memory limit is killed with ``SIGKILL`` by the kernel's out-of-memory killer
(SLURM with cgroup limits, or a machine out of memory): the killed process cannot report
anything. `supervise` forks before any task runs; the child does the work, the parent (a few
MB of its own) waits. If the child dies of a signal, the parent finds out whether the kernel
killed it for memory (the out-of-memory counters of its cgroups went up), ends the records
the child left open with that reason, prints it, and exits 128 + the signal number, as a
shell would.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class MemoryCgroup:
    """One memory cgroup of this process, from its own up to the root."""

    path: Path
    version: int  # 1 or 2

    def oom_kills(self) -> int:
        """Processes the out-of-memory killer has killed in this cgroup (0 if unknown)."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (self.path / name).read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def limit_mb(self) -> int | None:
        """This cgroup's memory limit in MB (None: none)."""
        name = "memory.limit_in_bytes" if self.version == 1 else "memory.max"
        try:
            raw = (self.path / name).read_text().strip()
        except OSError:
            return None
        if not raw.isdigit() or int(raw) >= 1 << 60:  # "max", or v1's "unlimited"
            return None
        return int(raw) >> 20


def memory_cgroups(proc_cgroup: str | None = None) -> list[MemoryCgroup]:
    """The memory cgroups of this process and their ancestors (innermost first)."""
    if proc_cgroup is None:
        try:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            return []
    found: Path | None = None
    version = 0
    for line in proc_cgroup.splitlines():
        _, controllers, rel = [*line.split(":", 2), "", ""][:3]
        if "memory" in controllers.split(","):  # cgroup v1: its memory hierarchy
            found, version = CGROUP_ROOT / "memory" / rel.lstrip("/"), 1
            break
        candidate = CGROUP_ROOT / rel.lstrip("/")
        if controllers == "" and found is None and (candidate / "memory.events").exists():
            found, version = candidate, 2  # cgroup v2 with the memory controller
    if found is None:
        return []
    top = CGROUP_ROOT / "memory" if version == 1 else CGROUP_ROOT
    chain = []
    path = found
    while True:
        chain.append(MemoryCgroup(path, version))
        if path == top or top not in path.parents:
            break
        path = path.parent
    return chain


def supervise(project_root: Path, task_files: Sequence[Path]) -> None:
    """Fork: return in the child, which goes on with the command; the parent waits for it and
    exits with its exit code (never returns). Without ``os.fork`` (Windows), just returns."""
    if not hasattr(os, "fork"):  # pragma: no cover
        return
    cgroups = memory_cgroups()
    before = [c.oom_kills() for c in cgroups]
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        return
    # Ctrl-C reaches the child too (same process group); the child reports it and exits 130.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(child, signum))
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        oom = [c for c, n in zip(cgroups, before) if c.oom_kills() > n]
        message = killed_message(child, signum, task_files, cgroups, oom)
        from .recording.ended import end_open_records

        try:
            ended = end_open_records(project_root, child, message)
        except Exception as exc:  # the record is completed later, without the reason
            print(f"smttask: could not end the task's record: {exc}", file=sys.stderr)
            ended = []
        names = sorted({r.task for r in ended if r.task})
        print(f"smttask: {message}", file=sys.stderr)
        if names:
            print(f"smttask: records ended as _killed_: {', '.join(names)}", file=sys.stderr)
        code = 128 + signum
    else:
        code = os.WEXITSTATUS(status)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def killed_message(
    pid: int,
    signum: int,
    task_files: Sequence[Path],
    cgroups: Sequence[MemoryCgroup],
    oom: Sequence[MemoryCgroup],
) -> str:
    """What happened to the child, and what to do about it."""
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    files = ", ".join(str(p) for p in task_files[:3]) + (" ..." if len(task_files) > 3 else "")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss >> 10  # KB -> MB on Linux
    job = os.environ.get("SLURM_JOB_ID", "")
    declared = os.environ.get("SLURM_MEM_PER_NODE", "")
    where = f" in SLURM job {job}" if job else ""
    if oom:
        limits = [lim for lim in (c.limit_mb() for c in cgroups) if lim is not None]
        limit = f"{min(limits)} MB" if limits else "unknown"
        asked = (
            f" (the SLURM job's memory{f', --mem={declared}' if declared else ''}, from the "
            f"task's mem_mb; it covers everything the job runs, Snakemake included)"
            if job
            else ""
        )
        raise_to = 2 * min(limits) if limits else None
        example = f"{{'mem_mb': {raise_to}}}" if raise_to else "{'mem_mb': ...}"
        return (
            f"Out of memory: the kernel's out-of-memory killer stopped smttask run (pid {pid}, "
            f"{name}){where} while it ran {files}, at its memory limit of {limit}{asked} "
            f"(peak resident memory {peak} MB). Raise the task's memory: "
            f"resources={example} in its decorator (or set-resources in the Snakemake "
            f"profile), export again and rerun."
        )
    checked = " (its cgroups counted no out-of-memory kill)" if cgroups else ""
    return (
        f"smttask run (pid {pid}){where} was killed by {name} while it ran {files}, not by a "
        f"memory limit{checked}; peak resident memory {peak} MB. Something else stopped it: "
        f"scancel or a time limit (the task's runtime), a person, or the machine."
    )
