"""The four task kinds: where results live and how they are found again."""

from __future__ import annotations

import json

import numpy as np
import pytest

import smttask
from smttask import RecordedIterativeTask, TaskOutput
from smttask.errors import OutputError, TaskDefinitionError, TaskExecutionError

TASKS = """
from typing import List
import numpy as np
from scityping.numpy import Array
from smttask import (MemoizedTask, RecordedIterativeTask, RecordedTask, TaskOutput,
                     UnpureMemoizedTask)

CALLS = []
SOURCE = {"value": 1.0}

@MemoizedTask
def mem(x: float) -> float:
    CALLS.append(("mem", x))
    return x * 2

@RecordedTask(cache=True)
def cached(x: float) -> float:
    CALLS.append(("cached", x))
    return x + 1

@RecordedTask
def plain(x: float) -> float:
    CALLS.append(("plain", x))
    return x + 1

@UnpureMemoizedTask
def read_source(name: str) -> float:
    CALLS.append(("read_source", name))
    return SOURCE["value"]

@RecordedTask
def consume(v: float) -> float:
    CALLS.append(("consume", v))
    return v * 100

class State(TaskOutput):
    n: int
    x: float
    trace: Array[float, 1]

@RecordedIterativeTask("n", map={"n": "start_n", "x": "x0", "trace": "trace0"})
def grow(n: int, rate: float, start_n: int = 0, x0: float = 1.0,
         trace0: Array[float, 1] = np.zeros(0)) -> State:
    CALLS.append(("grow", start_n, n))
    x, trace = x0, list(trace0)
    for _ in range(start_n, n):
        x *= rate
        trace.append(x)
    return {"n": n, "x": x, "trace": np.array(trace), "outcome": f"grew to {n}"}

@RecordedTask
def fails(x: float) -> float:
    raise ValueError(f"bad x {x}")

@RecordedTask
def wrong_return(x: float) -> List[float]:
    return "not a list of floats"
"""


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    return project.write_module("tasks", TASKS)


def test_memoized_results_stay_in_memory_and_are_never_written(tasks, project) -> None:  # type: ignore[no-untyped-def]
    assert tasks.mem(x=2.0).run() == 4.0
    assert tasks.mem(x=2.0).run() == 4.0  # an equal task: same result, not recomputed
    assert tasks.CALLS == [("mem", 2.0)]
    assert not (project.root / "data").exists()
    smttask.clear_memory_cache()
    tasks.mem(x=2.0).run()
    assert tasks.CALLS == [("mem", 2.0), ("mem", 2.0)]


def test_memoized_get_output_never_computes(tasks) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OutputError, match="not been computed yet"):
        tasks.mem(x=3.0).get_output()
    tasks.mem(x=3.0).run()
    assert tasks.mem(x=3.0).get_output() == 6.0


def test_recorded_task_caches_in_memory_only_when_asked(tasks, project) -> None:  # type: ignore[no-untyped-def]
    cached, plain = tasks.cached(x=1.0), tasks.plain(x=1.0)
    assert cached.run() == 2.0 and plain.run() == 2.0
    for path in [*cached.output_paths.values(), *plain.output_paths.values()]:
        path.unlink()  # remove the links ...
    for folder in ("cached", "plain"):
        for f in (project.root / "data/run_dump" / folder).iterdir():
            f.unlink()  # ... and the archives
    assert tasks.cached(x=1.0).run() == 2.0  # from memory
    assert tasks.plain(x=1.0).run() == 2.0  # recomputed
    assert tasks.CALLS == [("cached", 1.0), ("plain", 1.0), ("plain", 1.0)]


def test_recorded_get_output_never_computes(tasks) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OutputError, match=r"plain\(x=5.0\) has not been computed"):
        tasks.plain(x=5.0).get_output()
    assert tasks.CALLS == []
    tasks.plain(x=5.0).run()
    assert tasks.plain(x=5.0).get_output() == 6.0


def test_unpure_task_passes_the_digest_of_its_output_downstream(tasks) -> None:  # type: ignore[no-untyped-def]
    first = tasks.consume(v=tasks.read_source(name="s"))
    assert first.run() == 100.0
    tasks.SOURCE["value"] = 2.0  # the world changed ...
    smttask.clear_memory_cache()  # ... and a new session starts
    second = tasks.consume(v=tasks.read_source(name="s"))
    assert second.digest != first.digest
    assert second.run() == 200.0
    tasks.SOURCE["value"] = 1.0
    smttask.clear_memory_cache()
    third = tasks.consume(v=tasks.read_source(name="s"))
    assert third.digest == first.digest
    assert third.run() == 100.0 and not third.computed  # loaded from disk


def test_iterative_task_resumes_from_the_nearest_saved_iteration(tasks, project) -> None:  # type: ignore[no-untyped-def]
    three = tasks.grow(n=3, rate=2.0).run()
    assert (three.n, three.x) == (3, 8.0)
    assert np.array_equal(three.trace, [2.0, 4.0, 8.0])
    five = tasks.grow(n=5, rate=2.0).run()
    assert (five.n, five.x) == (5, 32.0)
    assert np.array_equal(five.trace, [2.0, 4.0, 8.0, 16.0, 32.0])
    assert tasks.CALLS == [("grow", 0, 3), ("grow", 3, 5)]
    again = tasks.grow(n=3, rate=2.0)
    assert again.run() == three and not again.computed
    four = tasks.grow(n=4, rate=2.0).run()  # nearest saved iteration below 4 is 3
    assert four.x == 16.0
    assert tasks.CALLS[-1] == ("grow", 3, 4)
    other = tasks.grow(n=5, rate=3.0).run()  # another family: starts from scratch
    assert other.x == 243.0 and tasks.CALLS[-1] == ("grow", 0, 5)


def test_iterative_task_files_share_the_family_digest(tasks, project) -> None:  # type: ignore[no-untyped-def]
    t3, t5 = tasks.grow(n=3, rate=2.0), tasks.grow(n=5, rate=2.0)
    assert t3.family_digest == t5.family_digest
    assert t3.key == f"{t3.family_digest}__n3" and t3.key != t5.key
    t3.run()
    names = sorted(p.name for p in (project.root / "data/run_dump/grow").iterdir())
    assert names == [f"{t3.key}_n.json", f"{t3.key}_trace.npy", f"{t3.key}_x.json"]


class Out(TaskOutput):
    n: int


def test_iterative_decorator_errors(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TaskDefinitionError, match="needs the name of the iteration input"):

        @RecordedIterativeTask
        def a(n: int) -> Out:
            return Out(n)

    with pytest.raises(TaskDefinitionError, match="'m' is not a parameter"):

        @RecordedIterativeTask("m", map={"n": "n"})
        def b(n: int) -> Out:
            return Out(n)

    with pytest.raises(TaskDefinitionError, match="map key 'y' is not an output"):

        @RecordedIterativeTask("n", map={"y": "n"})
        def c(n: int) -> Out:
            return Out(n)


def test_a_failing_function_names_the_task_and_writes_nothing(tasks, project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TaskExecutionError) as info:
        tasks.fails(x=1.5).run()
    message = str(info.value)
    assert "fails(x=1.5)" in message and "ValueError: bad x 1.5" in message
    assert "Nothing was written" in message
    assert isinstance(info.value.__cause__, ValueError)
    assert not (project.root / "data").exists()


def test_a_wrong_return_value_is_an_output_error(tasks, project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OutputError, match=r"wrong_return.*List\[float\].*return annotation"):
        tasks.wrong_return(x=1.0).run()
    assert not (project.root / "data").exists()


def test_named_outputs_are_stored_separately_and_read_by_name(tasks, project) -> None:  # type: ignore[no-untyped-def]
    task = tasks.grow(n=2, rate=3.0)
    result = task.run()
    n, x, _trace = result  # unpacks like a tuple
    assert (n, x) == (2, 9.0) and result.x == 9.0 and result["n"] == 2
    assert task.get_output("x") == 9.0
    with pytest.raises(OutputError, match="no output named 'y'"):
        task.get_output("y")
    assert json.loads(task.output_paths["x"].read_text()) == 9.0
