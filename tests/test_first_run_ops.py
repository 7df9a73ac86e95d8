"""A first run of a task does a bounded number of file operations (counted, not timed).

Tasks of one type run for the first time, one after another in one process (the type's
folders made and a spare lease file kept by the first of them); over the next `N` a probe
counts, per task, the operations that touch the file system: files opened (and of those,
created, named or unnamed: ``O_CREAT`` or ``O_TMPFILE``), renames (``rename``/``replace``,
and ``renameat2`` called through ctypes), hard links and symbolic links made, folders made
and listed, ``stat``/``lstat`` calls, and random bytes drawn from the system (``os.urandom``:
one system call each; names and tokens need none per task). With recording
on, the same tasks each get a record: the bounds then also say that a record costs no
``git`` process (git's files are compared by their stamps), no read of git's ``HEAD`` while
it is unchanged, no folder listing and no path resolution (``lstat``) of the module, and no
look at git's ``packed-refs`` while the branch has a ref file of its own, and no read of the
result just written (its SHA-1, for the record, comes from the bytes written and one ``stat``).

The bounds are what the write path does today: a result is an unnamed file linked under
its name (one open, one link: no temporary name, no rename), the lease a spare file renamed
to the lease's name and back. A change that makes a first run do more (a named temporary
file again, a ``stat`` per path built, a lease folder looked up every time, a random name
drawn per file) fails here with the operations it did. Lower a bound when a change does
less.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from smttask import config

TASKS = """
from smttask import RecordedTask


@RecordedTask
def square(x: int) -> int:
    return x * x
"""

N = 20
TMPFILE = getattr(os, "O_TMPFILE", 0)

#: Per task: recording off, then on (journal only: moving records into the store is
#: counted by the store's own tests; the record's label draws random bytes).
BOUNDS = {
    False: {"open": 4, "create": 1, "rename": 2, "link": 1, "symlink": 1, "mkdir": 0,
            "listdir": 0, "stat": 1, "lstat": 0, "random": 0, "process": 0, "head": 0},
    True: {"open": 4, "create": 1, "rename": 2, "link": 1, "symlink": 1, "mkdir": 0,
           "listdir": 0, "stat": 9, "lstat": 0, "random": 1, "process": 0, "head": 0},
}  # fmt: skip
#: Where the system has no unnamed files (``O_TMPFILE``), a result is a named temporary
#: file renamed to its name: one rename more, no link.
NAMED = {"rename": 1, "link": -1}


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Count file-system operations while the block runs (this thread's and others')."""
    seen: Counter[str] = Counter()
    active = [False]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not active[0]:
            return
        if event == "open":
            seen["open"] += 1
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            if flags & os.O_CREAT or (TMPFILE and flags & TMPFILE == TMPFILE):
                seen["create"] += 1
            if str(args[0]).endswith(f"{os.sep}HEAD"):
                seen["head"] += 1
        elif event in ("os.rename", "os.replace"):
            seen["rename"] += 1
        elif event == "os.link":
            seen["link"] += 1
        elif event == "os.symlink":
            seen["symlink"] += 1
        elif event == "os.mkdir":
            seen["mkdir"] += 1
        elif event in ("os.listdir", "os.scandir"):
            seen["listdir"] += 1
        elif event == "subprocess.Popen":
            seen["process"] += 1

    def counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if active[0]:
                seen[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    from smttask import fileio

    monkeypatch.setattr(os, "stat", counted("stat", os.stat))
    monkeypatch.setattr(os, "lstat", counted("lstat", os.lstat))
    monkeypatch.setattr(os, "urandom", counted("random", os.urandom))
    if fileio._RENAMEAT2 is not None:
        monkeypatch.setattr(fileio, "_RENAMEAT2", counted("rename", fileio._RENAMEAT2))
    sys.addaudithook(hook)  # (hooks stay for the life of the process: `active` turns it off)
    active[0] = True
    try:
        yield seen
    finally:
        active[0] = False


@pytest.mark.parametrize("record", [False, True], ids=["recording off", "recording on"])
def test_a_first_run_does_a_bounded_number_of_file_operations(  # type: ignore[no-untyped-def]
    smt_project, monkeypatch, record: bool
) -> None:
    assert ctypes  # renameat2 is called through ctypes (counted by wrapping it)
    tasks = smt_project.write_module("optasks", TASKS)
    config.settings.record = record
    config.settings.flush_records = False  # records stay in the journal
    config.settings.git_check_interval = 3600.0  # a slow machine must not ask git again
    tasks.square(x=-1).run()  # makes the folders, the journal, the first git status
    with counting(monkeypatch) as seen:
        results = [tasks.square(x=x).run() for x in range(N)]
    assert results == [x * x for x in range(N)]
    archives = list((smt_project.root / "data" / "run_dump" / "square").glob("*.json"))
    assert len(archives) == N + 1, "the probe did not see the tasks computed"
    if record:
        from smttask.recording import RECORDER

        rec = RECORDER.projects[smt_project.root]
        assert len(rec.pending) == N + 1
        assert rec.watcher().checks == 1  # one `git status`, for the first task
    from smttask import fileio

    # (Linux has unnamed files; a file system without them is noted by smttask's first write)
    named = not sys.platform.startswith("linux") or str(archives[0].parent) in getattr(
        fileio, "_named_only", ()
    )
    for what, bound in BOUNDS[record].items():
        bound += NAMED.get(what, 0) if named else 0
        assert seen[what] <= bound * N, (
            f"A first run ({'recorded' if record else 'not recorded'}) did more {what!r} than "
            f"the {bound} per task allowed: {seen[what]} for {N} tasks ({dict(seen)})."
        )
