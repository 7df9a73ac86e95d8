"""Reading task files is bounded and well reported: only regular files of a documented size,
JSON and values of a documented depth, and dependency cycles named instead of a
RecursionError."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import smttask
from smttask import Task, serialization, taskfile
from smttask.errors import GraphError, OutputError, TaskFileError

TASKS = """
from typing import Any
from smttask import MemoizedTask, RecordedTask

@MemoizedTask
def inc(x: float) -> float:
    return x + 1

@MemoizedTask
def twice(y: float) -> float:
    return 2 * y

@MemoizedTask
def keep(v: Any) -> int:
    return 1

@RecordedTask
def nested(depth: int) -> Any:
    value = []
    for _ in range(depth):
        value = [value]
    return value
"""


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    return project.write_module("limit_tasks", TASKS)


LOAD = """
import sys
from smttask import Task
from smttask.errors import TaskFileError
try:
    Task.from_desc(sys.argv[1])
except TaskFileError as exc:
    print("REFUSED", exc)
"""


def load_in_subprocess(path: Path) -> str:
    """Load `path` in another process, which must finish promptly (a FIFO is never read)."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(path)], capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr


def test_a_fifo_a_device_and_a_folder_are_not_read(tasks, project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "task.json"
    os.mkfifo(fifo)
    assert "REFUSED Task file" in (out := load_in_subprocess(fifo)) and "is a FIFO" in out
    out = load_in_subprocess(Path("/dev/zero"))
    assert "REFUSED Task file /dev/zero is a device" in out
    with pytest.raises(TaskFileError, match=r"is a folder"):
        Task.from_desc(tmp_path)


def test_a_file_larger_than_the_limit_is_refused_before_reading(tasks, tmp_path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(taskfile.MAX_FILE_BYTES + 1)  # sparse: nothing is written, nothing read
    with pytest.raises(TaskFileError, match=r"has 104857601 bytes, more than the 104857600"):
        Task.from_desc(big)


def test_json_nested_too_deeply_is_refused_with_a_clear_message(tasks, project) -> None:  # type: ignore[no-untyped-def]
    path = project.root / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(TaskFileError, match=r"nested deeper than 256 levels"):
        Task.from_desc(path)
    deep: list[object] = []
    for _ in range(300):
        deep = [deep]
    path.write_text(json.dumps({"smttask_format": 1, "x": deep}))
    with pytest.raises(TaskFileError, match=r"nested more than 256 levels"):
        Task.from_desc(path)
    with pytest.raises(TaskFileError, match=r"nested more than 256 levels"):
        Task.from_desc({"smttask_format": 1, "x": deep})  # a record's dict: same limit


def test_an_input_value_nested_too_deeply_is_refused(tasks) -> None:  # type: ignore[no-untyped-def]
    value: list[object] = []
    for _ in range(serialization.MAX_VALUE_DEPTH + 5):
        value = [value]
    desc = tasks.keep(v=1).desc
    with pytest.raises(TaskFileError, match=r"input 'v': it is nested more than 100 levels"):
        Task.from_desc({**desc, "inputs": {"v": value}})
    chain = tasks.inc(x=0.0)
    for _ in range(40):  # embedded upstream tasks each start a new count
        chain = tasks.inc(x=chain)
    assert Task.from_desc(json.dumps(chain.desc)) == chain


def test_a_stored_result_nested_too_deeply_is_refused(tasks) -> None:  # type: ignore[no-untyped-def]
    task = tasks.nested(depth=serialization.MAX_VALUE_DEPTH + 5)
    task.run()
    smttask.clear_memory_cache()
    with pytest.raises(OutputError, match=r"nested more than 100 levels"):
        tasks.nested(depth=serialization.MAX_VALUE_DEPTH + 5).run()


def test_a_dependency_cycle_is_reported_with_its_tasks(tasks) -> None:  # type: ignore[no-untyped-def]
    a = tasks.inc(x=1.0)
    b = tasks.twice(y=a)
    a.inputs["x"] = b  # mutated after creation: a -> b -> a
    with pytest.raises(GraphError, match=r"twice depends on itself \(twice -> inc -> twice\)"):
        _ = b.digest
    with pytest.raises(GraphError, match=r"depends on itself"):
        _ = a.desc
    c = tasks.inc(x=1.0)
    assert c.run() == 2.0  # computes its digest: the cycle below is met by run() alone
    smttask.clear_memory_cache()
    c.inputs["x"] = c
    with pytest.raises(
        GraphError, match=r"inc depends on itself \(inc -> inc\), found while running"
    ):
        c.run()
