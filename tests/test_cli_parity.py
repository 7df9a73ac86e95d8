"""Command-line options of the original's CLI: `smttask run --import/--wait/--start-spacing/
--reverse` and `smttask store delete --before/--after/--older-than`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from smttask.cli import cli
from smttask.cli.timeparse import parse_duration

TASKS = """
import os
from smttask import RecordedTask

@RecordedTask
def marked(x: int) -> str:
    return f"{x}:{os.environ.get('PARITY_IMPORTED', 'no')}"

@RecordedTask
def other(x: int) -> int:
    return x
"""

MARKER = """
import os
os.environ["PARITY_IMPORTED"] = "yes"
"""


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def tasks(smt_project):  # type: ignore[no-untyped-def]
    smt_project.write("parity_marker.py", MARKER)
    smt_project.commit("parity_marker.py")
    return smt_project.write_module("parity_tasks", TASKS)


@pytest.mark.parametrize("cores", ["1", "2"])
def test_import_runs_in_every_process_before_the_task_files(
    smt_project, tasks, monkeypatch, cores
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PARITY_IMPORTED", raising=False)
    folder = smt_project.root / f"taskdir{cores}"
    for x in range(3):
        tasks.marked(x=x).save(folder)
    args = ["run", "--no-record", "-n", cores, "--start-spacing", "0.1"]
    result = invoke(*args, "--import", "parity_marker", str(folder))
    assert result.exit_code == 0, result.output
    assert [tasks.marked(x=x).run() for x in range(3)] == ["0:yes", "1:yes", "2:yes"]


def test_import_of_a_missing_module_is_refused(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    path = tasks.other(x=1).save(smt_project.root / "t")
    result = invoke("run", "--no-record", "--import", "no_such_module", str(path))
    assert result.exit_code != 0
    assert "Cannot import module 'no_such_module'" in str(result.exception)


def test_reverse_and_wait(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    folder = smt_project.root / "taskdir"
    paths = [tasks.other(x=x).save(folder) for x in range(3)]
    result = invoke("run", "--no-record", "--reverse", "--wait", "0.1s", str(folder))
    assert result.exit_code == 0, result.output
    shown = [line.split()[1] for line in result.output.splitlines() if line.startswith("ran ")]
    assert shown == [str(p) for p in sorted(paths, reverse=True)]
    bad = invoke("run", "--wait", "soon", str(folder))
    assert bad.exit_code == 2 and "not a duration" in bad.output


def test_durations() -> None:
    assert parse_duration("90") == 90 and parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800 and parse_duration("1.5 s") == 1.5
    for bad in ("", "h", "1x", "1h 30"):
        with pytest.raises(Exception, match="not a duration"):
            parse_duration(bad)


def test_store_delete_by_date(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording.store import open_store
    from smttask.runner import store_records

    tasks.marked(x=1).run()
    tasks.other(x=1).run()
    store_records(smt_project.root)
    assert len(open_store().labels()) == 2
    none = invoke("store", "delete", "--before", "2000-01-01", "--dry-run")
    assert none.exit_code == 0 and "No record selected." in none.output
    both = invoke("store", "delete", "--older-than", "0s", "--dry-run")
    assert "Would delete 2 record(s)" in both.output
    one = invoke("store", "delete", "--task", "other", "--after", "2000-01-01", "-y")
    assert one.exit_code == 0 and "Deleted 1 record(s)" in one.output
    assert len(open_store().labels()) == 1
    assert tasks.other(x=1).run() == 1  # its result went with its record: computed again
    assert invoke("store", "delete").exit_code == 2


def test_store_recreate_writes_the_task_file_of_a_record(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    from smttask import RSView, Task
    from smttask.runner import store_records

    task = tasks.other(x=5)
    task.run()
    store_records(smt_project.root)
    label = RSView()[0].label
    out = smt_project.root / "recreated"
    result = invoke("store", "recreate", label[:17], "-o", str(out))
    assert result.exit_code == 0, result.output
    [path] = out.glob("*.json")
    assert Task.from_desc(path) == task
    again = invoke("store", "recreate", label, "-o", str(out))
    assert again.exit_code == 2 and "--force" in again.output
    assert invoke("store", "recreate", label, "-o", str(out), "-f").exit_code == 0
