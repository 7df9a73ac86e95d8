"""Why a task would compute or load: ``smttask explain`` and ``task.explain()``.

For every task of the graph: *load* (its results are on disk), *compute* (they are not) or,
for a memoized task, *not needed* (no task using it computes). For a task that computes, the
reasons, from comparing it with the closest earlier description of its type: the newest
record with the same input values, else one differing in one input, else the closest of the
newest few (``earlier``), or the task file it was loaded from when that was written for
other code. Reasons name what differs: an input (old and new value), the code (each changed
function or class, with a short diff of its source from the record's commit), the version,
the kind, an upstream task (that reruns); or, when nothing differs, that the earlier result
is gone or its run did not finish.

Nothing is written: records are read where they are (``flush=True`` first moves the records
waiting in journals into the store, as every command that reads records does).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import hooks
from ..errors import SmttaskError, TaskFileError
from ..recording.api import RecordSource
from ..task import Task
from .earlier import Earlier, EarlierRecords
from .explainer import explain_tasks
from .model import COMPUTE, LOAD, SKIP, Explanation, Reason, TaskExplanation
from .sources import Sources

#: A task file: (its path, its description if written for other code, why run refuses it).
FileEntry = tuple[str, Earlier | None, str | None]

__all__ = [
    "COMPUTE",
    "LOAD",
    "SKIP",
    "Explanation",
    "Reason",
    "TaskExplanation",
    "explain",
    "explain_targets",
    "load_files",
]


def explain(
    tasks: Task | Iterable[Task],
    *,
    session: hooks.Session | None = None,
    flush: bool = True,
    _files: dict[str, FileEntry] | None = None,
) -> Explanation:
    """What running `tasks` (and what they need) would do, task by task, and why."""
    current = session or hooks.current()
    records = EarlierRecords(lambda: _open_store(current.root, flush))
    with _no_cycle_collection():
        found = explain_tasks(tasks, current, records, Sources(current.root), _files)
    return Explanation(found.tasks, tuple(records.problems))


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused for the block (reference counting still frees
    memory): explaining makes many objects that live on, and few cycles, so each collection
    would walk the whole graph again for little (15 % of explaining 20,000 tasks)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def explain_targets(
    targets: Iterable[str], *, session: hooks.Session | None = None, flush: bool = True
) -> Explanation:
    """``explain`` of command-line targets (``file.py:NAME``, task files, folders). A task
    file written for other code is explained too (against its own description)."""
    from ..runner import collect_task_files
    from ..targets import load_targets

    tasks: dict[str, Task] = {}
    files: dict[str, FileEntry] = {}
    for target in targets:
        path = Path(target)
        if path.is_dir() or (path.suffix == ".json" and path.exists()):
            for task, entry in load_files(collect_task_files([path])):
                tasks.setdefault(task.key, task)
                files.setdefault(task.key, entry)
        else:
            for task in load_targets([target]):
                tasks.setdefault(task.key, task)
    return explain(list(tasks.values()), session=session, flush=flush, _files=files)


def load_files(paths: Iterable[Path]) -> list[tuple[Task, FileEntry]]:
    """Load task files; one written for other code is loaded for the current code, with its
    description kept to compare with and a note saying why ``smttask run`` refuses it."""
    from ..taskfile import parse, read

    out: list[tuple[Task, FileEntry]] = []
    for path in paths:
        try:
            out.append((Task.from_desc(path), (str(path), None, None)))
            continue
        except TaskFileError as exc:
            refused = exc
        try:
            task = Task.from_desc(path, check_digest=False)
        except SmttaskError:
            raise refused from None
        desc = parse(read(path), f"task file {path}")
        earlier = Earlier.of(desc, where=f"task file {path}")
        note = f"smttask run refuses this task file: {_first_sentence(str(refused))}"
        out.append((task, (str(path), earlier, note)))
    return out


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + ("." if sep else "")


def _open_store(root: Path, flush: bool) -> RecordSource | None:
    """The project's record store (None without a project), opened when a task computes."""
    from ..recording import find_project
    from ..recording.store import open_store

    if find_project(root) is None:
        return None
    return open_store(root, flush_first=flush)
