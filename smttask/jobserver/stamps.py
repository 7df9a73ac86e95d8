"""Stamps of the source files a process has loaded: has any changed since it imported them?

A warm process holds the code it imported. Before the job server forks a child for a job, it
compares the stamp of every loaded module's file with the stamp taken when it was imported;
any difference (or a file changed while it was being imported) means the child would run
other code than a fresh process, so the job is refused.

A stamp is ``(st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns)``: the change time is set by
the kernel on every write, rename over or ``touch``, so even a file restored with its old
modification time and size (``cp -p``, ``git checkout`` of an older blob) has a new stamp.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

Stamp = tuple[int, int, int, int, int] | None

#: How long before a process started a file may have changed and still be trusted to be the
#: one it imported (the boot time in ``/proc`` has whole seconds).
START_MARGIN_NS = 2_000_000_000
#: The same for a module imported later, from a clock read just before: file times come from
#: the kernel's coarse clock, a few ms behind.
IMPORT_MARGIN_NS = 50_000_000


def stamp(path: str) -> Stamp:
    """The stamp of `path`, or None if it does not exist (or cannot be read)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def module_files(names: Iterable[str] | None = None) -> set[str]:
    """The files of the modules `names` (default: every module in ``sys.modules``): their
    ``__file__``, for those that have one."""
    modules = sys.modules
    found = set()
    for name in list(modules) if names is None else names:
        file = getattr(modules.get(name), "__file__", None)
        if isinstance(file, str):
            found.add(file)
    return found


def process_start_ns() -> int:
    """When this process started (wall clock, ns; ``/proc``), or now if it cannot be read."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        ticks = int(fields[19])  # field 22: start time in clock ticks after boot
        with open("/proc/stat", "rb") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith(b"btime "))
        return (boot * 10**9) + ticks * 10**9 // os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return time.time_ns()


@dataclass
class Stamps:
    """The stamps of the loaded modules' files, taken after they were imported."""

    files: dict[str, Stamp] = field(default_factory=dict)
    #: Files found changed around the time they were imported (see `take`).
    suspect: list[str] = field(default_factory=list)

    def take(self, paths: Iterable[str], imported_since_ns: int, margin_ns: int) -> None:
        """Stamp `paths` not stamped yet, which were imported after `imported_since_ns`
        (wall clock). A file whose change time is later than that, less `margin_ns`, may
        have changed after it was read: it is noted in `suspect`."""
        limit = imported_since_ns - margin_ns
        for path in paths:
            if path in self.files:
                continue
            found = self.files[path] = stamp(path)
            if found is not None and found[4] >= limit:
                self.suspect.append(path)

    def changed(self) -> list[str]:
        """The stamped files whose stamp differs now (suspect ones first)."""
        return self.suspect + [p for p, s in self.files.items() if stamp(p) != s]
