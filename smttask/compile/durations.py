"""How long tasks take, from their records: what ``batch="auto"`` sizes batches with.

Read through the record-store seam (``smttask.recording.api``), whatever the store: the
median ``duration`` of the newest ``LIMIT`` finished records (tag ``_finished_``) of each
task, named ``module.task`` as the records' ``script_arguments`` name it. The plan itself
never reads records (``smttask.compile.plan.sizing`` takes these durations as an argument).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SmttaskError
from ..recording import fields
from ..recording.api import RecordSource, Where, find
from .plan import TaskDuration

#: Records read per task (newest first): enough for a stable median, cheap on a big store.
LIMIT = 200


@dataclass(frozen=True)
class Durations:
    """The durations found, and why some could not be looked up (for the export's summary)."""

    found: dict[str, TaskDuration] = field(default_factory=dict)
    problem: str = ""  # e.g. "no Sumatra project", "the record store cannot be read: ..."


def from_source(source: RecordSource, tasknames: Iterable[str]) -> dict[str, TaskDuration]:
    """{module.task: median duration of its newest finished records} for those that have one."""
    found = {}
    for name in sorted(set(tasknames)):
        conditions = [Where("script_arguments", "eq", name), Where("tags", "has", fields.FINISHED)]
        rows = itertools.islice(find(source, conditions), LIMIT)
        seconds = [r.duration for r in rows if r.duration is not None]
        if seconds:
            found[name] = TaskDuration(statistics.median(seconds), len(seconds))
    return found


def recorded_durations(tasknames: Iterable[str], root: Path) -> Durations:
    """The durations of `tasknames` in the record store of the project in `root`.

    Never fails: without a project or a readable store, the automatic sizes fall back to
    declared runtimes or one task per job, and `problem` says why.
    """
    names = set(tasknames)
    if not names:
        return Durations()
    from ..recording import find_project
    from ..recording.store import open_store

    if find_project(root) is None:
        return Durations(problem=f"no Sumatra project in {root}, so no records")
    try:
        return Durations(from_source(open_store(root), names))
    except Exception as exc:  # sizes are a matter of speed: say why, and go on without
        what = str(exc) if isinstance(exc, SmttaskError) else f"{type(exc).__name__}: {exc}"
        return Durations(problem=f"the record store cannot be read: {what}")
