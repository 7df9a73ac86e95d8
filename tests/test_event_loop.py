"""Records are written and read in a thread that runs an asyncio event loop, as the cells of a
Jupyter kernel are: Django refuses to touch a database there (SynchronousOnlyOperation), so the
Django store reaches it from its own thread (``smttask.recording.django.thread``)."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from smttask import config, recording
from smttask.recording.projectinit import InitOptions, init_project
from smttask.recording.store import open_store
from smttask.view import RSView

T = TypeVar("T")

TASKS = """
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    return x * x
"""


def in_loop(fn: Callable[[], T]) -> T:
    """`fn()` called from a coroutine: with an event loop running in this thread."""

    async def main() -> T:
        asyncio.get_running_loop()  # (it is running)
        return fn()

    return asyncio.run(main())


def test_django_itself_refuses_a_thread_with_a_running_loop(smt_project) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import SynchronousOnlyOperation
    from django.db import connections

    open_store()  # Django set up, outside any loop

    def query() -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")

    query()
    with pytest.raises(SynchronousOnlyOperation):
        in_loop(query)  # what every record-store call met in a notebook


def test_run_record_and_view_inside_a_running_loop(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("looptasks", TASKS)

    def session() -> tuple[Any, ...]:
        results = [tasks.square(x=x).run() for x in range(3)]
        moved = recording.flush().records  # the kernel's records reach the store
        rs = RSView()
        again = rs.filter.task("square").latest.task.run()  # loads the result from disk
        frame = rs.dframe()
        html = rs._repr_html_()
        return results, moved, len(rs), again, frame.shape[0], html

    results, moved, found, again, rows, html = in_loop(session)
    assert results == [0, 1, 4]
    assert moved == 3
    assert found == rows == 3
    assert again == 4
    assert "square" in html
    # Outside the loop the same store shows the same records, read in this thread.
    store = open_store(flush_first=False)
    assert len(store.labels()) == 3
    assert {row.outcome for row in store.query()} == {""}


def test_a_query_inside_a_loop_is_read_in_chunks_in_order(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording.django import thread

    monkeypatch.setattr(thread, "CHUNK", 3)
    store = open_store()
    when = "2026-01-01T00:00:{:02d}+00:00"
    store.write([{"label": f"r{i:02d}", "timestamp": when.format(i)} for i in range(10)])
    names: list[str] = []

    def read() -> tuple[list[str], list[str], str]:
        rows = store.query()
        first = next(rows).label
        names.extend(t.name for t in threading.enumerate())
        rows.close()  # left unfinished: closed in the store thread
        labels = [row.label for row in store.query(newest_first=False)]
        indexed = [label for label, _ in store.output_index()]
        return labels, indexed, first

    labels, indexed, first = in_loop(read)
    assert labels == [f"r{i:02d}" for i in range(10)]
    assert indexed == []
    assert first == "r09"
    assert thread.THREAD_NAME in names


def test_errors_inside_a_loop_are_the_stores_own(smt_project) -> None:  # type: ignore[no-untyped-def]
    from smttask.errors import RecordingError

    store = open_store()
    with pytest.raises(RecordingError, match="No record labelled 'nope'"):
        in_loop(lambda: store.store_record("nope"))


def test_a_thread_never_reads_another_store_through_an_old_connection(
    smt_project, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The store thread keeps its connection between calls; when this thread makes another
    project's store the default one meanwhile, the store thread must not read the old one."""
    first = open_store()
    first.write([{"label": "in-first", "timestamp": "2026-01-01T00:00:00+00:00"}])
    assert in_loop(first.labels) == ["in-first"]  # the store thread connects to the first
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=other, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=other, check=True)
    init_project(other, InitOptions(name="other"))
    monkeypatch.chdir(other)
    monkeypatch.setenv("SMTTASK_PROJECT_ROOT", str(other))
    monkeypatch.setattr(config, "settings", config.Settings())
    config.forget_project_root()
    second = open_store()  # this thread switches Django's default database
    second.write([{"label": "in-second", "timestamp": "2026-01-01T00:00:00+00:00"}])
    assert in_loop(second.labels) == ["in-second"]
    assert in_loop(first.labels) == ["in-first"]
    assert second.labels() == ["in-second"]


#: DjangoStore's public methods that do not reach the database when called, and why.
NOT_IN_STORE_THREAD = {
    "info": "a property",
    "project_name": "a property",
    "native": "reads the condition only",
    "queryset": "a lazy Django query set, evaluated by its user (thread.call)",
    "sumatra_store": "Sumatra's object, whose methods run in the calling thread (thread.call)",
}


def test_every_store_method_reaching_the_database_goes_through_the_store_thread() -> None:
    from smttask.recording.django import DjangoStore

    public = {name for name in vars(DjangoStore) if not name.startswith("_")}
    direct = {name for name in public if not hasattr(getattr(DjangoStore, name), "__wrapped__")}
    assert direct == set(NOT_IN_STORE_THREAD), (
        f"DjangoStore.{sorted(direct - set(NOT_IN_STORE_THREAD))} would query Django in the "
        f"thread of a notebook's cells (SynchronousOnlyOperation): decorate them with "
        f"thread.synchronous (synchronous_iter for iterators), or list them here with the reason"
    )


def test_edits_inside_a_loop(smt_project) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    store.write([{"label": "r1", "timestamp": "2026-01-01T00:00:00+00:00"}])

    def edit() -> tuple[Any, ...]:
        fields = store.update_fields("r1", outcome="fits well", reason="a check")
        tags = store.edit_tags(["r1"], add={"paper"})
        return fields, tags, store.delete(["r1"])

    fields, tags, deleted = in_loop(edit)
    assert fields == {"outcome": "fits well", "reason": "a check"}
    assert tags == {"r1": frozenset({"paper"})}
    assert deleted == 1 and store.labels() == []
