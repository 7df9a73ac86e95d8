"""Task description files: self-contained, versioned, and rebuilt into equal tasks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import smttask
from smttask import Task, taskfile
from smttask.errors import TaskFileError

TASKS = """
import enum
from typing import Dict, List, Set, Tuple
import numpy as np
from scityping.numpy import Array
from smttask import MemoizedTask, RecordedTask, UnpureMemoizedTask

@MemoizedTask
def make(n: int, scale: float = 1.0) -> Array[float, 1]:
    return np.arange(n) * scale

@RecordedTask
def analyze(arr: Array, dt: float, nbins: int) -> Tuple[float, float, float]:
    return float(np.mean(arr)), float(np.std(arr) * dt), float(nbins)

@RecordedTask
def combine(parts: List[Tuple[float, float, float]], weights: Dict[str, float],
            tags: Set[str] = frozenset()) -> float:
    return sum(p[0] for p in parts) + sum(weights.values()) + len(tags)

class Plain(enum.Enum):
    RED = 1
    BLUE = 2

class Number(enum.IntEnum):
    ONE = 1
    TWO = 2

class Mixed(str, enum.Enum):
    RED = "red"
    BLUE = "blue"

class Text(enum.StrEnum):
    RED = "red"
    BLUE = "blue"

@MemoizedTask
def pick(plain: Plain, number: Number, mixed: Mixed, text: Text,
         by_mixed: Dict[Mixed, int] = {}) -> str:
    return f"{plain.name} {number.name} {mixed.name} {text.name} {sorted(by_mixed.values())}"

SOURCE = {"value": 1.0}

@UnpureMemoizedTask
def read_source(name: str) -> float:
    return SOURCE["value"]

class Volatile(MemoizedTask):
    # A kind of its own whose downstream identity is its output's, like UnpureMemoizedTask.
    _is_kind = True
    digest_from_output = True

@Volatile
def clock(tick: int) -> float:
    return SOURCE["value"] + tick
"""


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    return project.write_module("tasks", TASKS)


def pipeline(tasks):  # type: ignore[no-untyped-def]
    a = tasks.analyze(arr=tasks.make(n=5), dt=0.1, nbins=3)
    b = tasks.analyze(arr=np.linspace(0, 1, 200), dt=0.2, nbins=4)
    return tasks.combine(parts=[a, b], weights={"x": 1.0, "y": 2.0}, tags={"b", "a"})


def test_desc_is_readable_versioned_and_self_contained(tasks) -> None:  # type: ignore[no-untyped-def]
    desc = pipeline(tasks).desc
    assert desc["smttask_format"] == taskfile.FORMAT_VERSION == 2
    assert desc["code"]["digest"] == tasks.combine._spec.code.digest
    assert "tasks.combine" in desc["code"]["parts"] and "version" not in desc
    assert (desc["task"], desc["module"], desc["kind"]) == ("combine", "tasks", "RecordedTask")
    first = desc["inputs"]["parts"][0]
    assert first["task"] == "analyze" and first["inputs"]["arr"]["task"] == "make"
    assert first["inputs"]["arr"]["kind"] == "MemoizedTask"
    assert desc["inputs"]["tags"] == ["a", "b"]  # sets are written sorted
    json.dumps(desc)  # JSON-compatible as it is


@pytest.mark.parametrize("form", ["dict", "text", "path", "str path"])
def test_round_trip_gives_an_equal_task(tasks, project, form) -> None:  # type: ignore[no-untyped-def]
    task = pipeline(tasks)
    path = task.save(project.root / "taskdir")
    assert path.name == f"combine__{task.key}.taskdesc.json"
    source = {"dict": task.desc, "text": path.read_text(), "path": path, "str path": str(path)}[
        form
    ]
    rebuilt = Task.from_desc(source)
    assert rebuilt == task and rebuilt.digest == task.digest
    assert rebuilt.run() == task.run()


def test_save_to_an_explicit_file(tasks, project) -> None:  # type: ignore[no-untyped-def]
    path = tasks.make(n=3).save(project.root / "one.json")
    assert path == project.root / "one.json"
    assert np.array_equal(Task.from_desc(path).run(), [0.0, 1.0, 2.0])


def test_loading_imports_the_task_module_only(tasks, project) -> None:  # type: ignore[no-untyped-def]
    path = pipeline(tasks).save(project.root / "taskdir")
    code = (
        "import sys\n"
        # smttask imports these when a value first needs them: not what this test is about
        "import numpy, pydantic, xxhash, scityping.json, scityping.numpy, scityping.pydantic\n"
        "before = set(sys.modules)\n"
        "from smttask import Task\n"
        "after_import = set(sys.modules)\n"
        f"task = Task.from_desc({str(path)!r})\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - after_import} - {'smttask'}\n"
        "print(sorted(new))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root, check=True, capture_output=True, text=True
    ).stdout
    assert eval(out) == ["tasks"]  # smttask's own modules aside


def test_truncated_and_malformed_files(tasks, project) -> None:  # type: ignore[no-untyped-def]
    good = pipeline(tasks).save(project.root / "taskdir").read_text()
    bad = project.root / "bad.json"
    bad.write_text(good[: len(good) // 2])
    with pytest.raises(TaskFileError, match=r"bad\.json.*truncated.*Regenerate"):
        Task.from_desc(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(TaskFileError, match=r"not a task description.*smttask_format"):
        Task.from_desc(bad)
    bad.write_text('{"smttask_format": 2, "task": "analyze"}')
    with pytest.raises(TaskFileError, match=r"incomplete.*'module'.*'inputs'"):
        Task.from_desc(bad)
    with pytest.raises(TaskFileError, match=r"does not exist"):
        Task.from_desc(project.root / "missing.json")


def test_unknown_task_module_and_newer_format(tasks) -> None:  # type: ignore[no-untyped-def]
    desc = tasks.make(n=2).desc
    with pytest.raises(TaskFileError, match=r"names task 'nope' in module 'tasks'.*renamed"):
        Task.from_desc({**desc, "task": "nope"})
    with pytest.raises(TaskFileError, match=r"needs module 'no_such_module'.*PYTHONPATH"):
        Task.from_desc({**desc, "module": "no_such_module"})
    with pytest.raises(TaskFileError, match=r"format version 99.*Upgrade smttask"):
        Task.from_desc({**desc, "smttask_format": 99})


def test_wrong_inputs_in_a_file(tasks) -> None:  # type: ignore[no-untyped-def]
    desc = tasks.analyze(arr=np.arange(3), dt=1.0, nbins=2).desc
    desc["inputs"]["nbins"] = "many"
    with pytest.raises(TaskFileError, match=r"inputs do not fit analyze.*'nbins' = 'many'"):
        Task.from_desc(desc)


def test_a_file_for_changed_code_is_refused(tasks, project) -> None:  # type: ignore[no-untyped-def]
    path = tasks.make(n=2).save(project.root / "taskdir")
    changed = TASKS.replace("scale: float = 1.0", "scale: float = 1.0, offset: float = 0.0")
    project.write_module("tasks", changed)
    with pytest.raises(
        TaskFileError,
        match=r"written for other code of tasks.make: tasks.make "
        r"changed since.*Save or export the task again.*smttask explain",
    ):
        Task.from_desc(path)
    assert Task.from_desc(path, check_digest=False).inputs["offset"] == 0.0


def test_a_file_naming_another_kind_is_refused(tasks) -> None:  # type: ignore[no-untyped-def]
    desc = tasks.make(n=2).desc
    assert desc["kind"] == "MemoizedTask"
    del desc["digest"]  # without a digest, only the kind says what the file expects
    with pytest.raises(
        TaskFileError,
        match=r"describes make as a 'RecordedTask', but the current code "
        r"makes it a MemoizedTask.*Save or export the task again",
    ):
        Task.from_desc({**desc, "kind": "RecordedTask"})
    with pytest.raises(TaskFileError, match=r"as a \[1\], but"):
        Task.from_desc({**desc, "kind": [1]})
    assert Task.from_desc(desc).key == tasks.make(n=2).key


def test_a_file_whose_digest_differs_is_refused(tasks, project) -> None:  # type: ignore[no-untyped-def]
    desc = tasks.make(n=2).desc
    desc["digest"] = "0" * 20  # same code, another digest (written by other inputs' rules)
    with pytest.raises(
        TaskFileError, match=r"written for digest 0{20}, but the current code .* gives"
    ):
        Task.from_desc(desc)


def test_a_file_of_the_format_before_code_identity_is_refused(tasks, project) -> None:  # type: ignore[no-untyped-def]
    old = {k: v for k, v in tasks.make(n=2).desc.items() if k != "code"}
    old["smttask_format"] = 1
    with pytest.raises(TaskFileError, match=r"format version 1: .* did not cover code.*again"):
        Task.from_desc(old)
    assert Task.from_desc(old, check_digest=False).inputs["n"] == 2  # records stay readable


def test_enum_inputs_are_written_as_their_values_and_read_back_as_members(tasks, project) -> None:  # type: ignore[no-untyped-def]
    task = tasks.pick(
        plain=tasks.Plain.BLUE,
        number=tasks.Number.TWO,
        mixed=tasks.Mixed.BLUE,
        text=tasks.Text.BLUE,
        by_mixed={tasks.Mixed.RED: 1},
    )
    inputs = task.desc["inputs"]
    assert inputs == {
        "plain": 2,
        "number": 2,
        "mixed": "blue",
        "text": "blue",
        "by_mixed": {"red": 1},
    }
    assert [type(v) for v in inputs.values()] == [int, int, str, str, dict]
    assert [type(k) for k in inputs["by_mixed"]] == [str]
    rebuilt = Task.from_desc(task.save(project.root / "taskdir"))
    assert rebuilt.digest == task.digest and rebuilt == task
    for name in ("plain", "number", "mixed", "text"):
        assert rebuilt.inputs[name] is task.inputs[name]
    assert list(rebuilt.inputs["by_mixed"]) == [tasks.Mixed.RED]
    assert rebuilt.run() == "BLUE TWO BLUE BLUE [1]"


def test_a_digest_that_depends_on_an_output_is_not_written(tasks, project) -> None:  # type: ignore[no-untyped-def]
    plain = tasks.analyze(arr=tasks.make(n=3), dt=0.1, nbins=2)
    assert plain.desc["digest"] == plain.key
    assert plain.desc["inputs"]["arr"]["digest"] == tasks.make(n=3).key
    for upstream in (tasks.read_source(name="s"), tasks.clock(tick=1)):
        task = tasks.combine(parts=[], weights={"w": upstream})
        desc = task.desc
        assert "digest" not in desc and "digest" not in desc["inputs"]["weights"]["w"]
        rebuilt = Task.from_desc(task.save(project.root / "taskdir"))
        assert rebuilt == task
        tasks.SOURCE["value"] += 1.0  # the world changes: the file still loads ...
        smttask.clear_memory_cache()
        again = Task.from_desc(desc)
        assert again != task  # ... into a task with a new identity
        tasks.SOURCE["value"] = 1.0
        smttask.clear_memory_cache()
