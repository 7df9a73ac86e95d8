"""The export's check that task files load back (``smttask.export.check_plan``), one per shape
of task (``smttask.compile.roundtrip``), and the refusal of ``smttask run`` behind it."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import smttask
from smttask.cli import cli
from smttask.compile.roundtrip import InputShapes
from smttask.errors import CompileError

TASKS = """
from typing import Any, Dict, Union
from smttask import MemoizedTask, RecordedTask, UnpureMemoizedTask

@RecordedTask
def keep(x: Any) -> float:
    return 1.0

@RecordedTask
def keyed(d: Dict[Union[int, str], float]) -> float:
    return float(len(d))

@MemoizedTask
def wrap(x: Any) -> Any:
    return x

@RecordedTask
def use(v: Any) -> float:
    return 1.0

@UnpureMemoizedTask
def listing(folder: str) -> int:
    return 3

@RecordedTask
def count(n: int) -> int:
    return n
"""


@pytest.fixture
def rt(project):  # type: ignore[no-untyped-def]
    return project.write_module("rt_tasks", TASKS)


def shapes(*tasks: Any) -> list[int]:
    """The shapes of `tasks`, numbered by one InputShapes."""
    found = InputShapes()
    return [found.shape(t) for t in tasks]


@pytest.mark.parametrize(
    ("same", "other"),
    [
        (1.0, 2.5),
        (float("inf"), float("nan")),
        (1e300, 1e-300),
        (3, -7),
        ("a", "b/c.d"),
        (b"text", b"more"),
        ([1.0] * 3, [2.0] * 10),
        ({"a": 1.0, "b": 2}, {"a": 3.0, "b": 5}),
        ({1: 1.0}, {2: 5.0}),
        (np.arange(3.0), np.arange(100.0).reshape(10, 10)[0]),
        (PurePosixPath("a/b"), PurePosixPath("c")),
    ],
)
def test_values_of_one_class_share_a_shape(rt, same, other) -> None:  # type: ignore[no-untyped-def]
    one, two = shapes(rt.keep(x=same), rt.keep(x=other))
    assert one == two


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (1.0, 1),  # types
        (1.0, np.float64(1.0)),
        (1.0, float("inf")),  # written as Infinity
        (1.0, 1e300),  # written with a three-digit exponent, checked by the reader
        (1, 2**70),  # more than 64 bits
        (b"text", b"\xff"),  # base85-encoded
        ((1.0, 2.0), [1.0, 2.0]),
        ([1.0, "a"], ["a", 1.0]),  # order
        ([1.0], [[1.0]]),  # nesting
        ({1.0}, [1.0]),
        ({"a": 1.0}, {"b": 1.0}),  # string keys count themselves
        ({"1": 1.0}, {1: 1.0}),
        ({"smttask_format": 2}, {"format": 2}),  # the key of an embedded task
        (np.arange(3.0), np.arange(3)),  # dtype
        (np.arange(3.0), np.zeros((1, 3))),  # dimensions
        (np.arange(3.0), np.arange(0.0)),  # empty
        (PurePosixPath("a"), PurePosixPath("/a")),
        (object(), object()),  # anything else: each object its own
    ],
)
def test_values_that_could_load_differently_have_shapes_of_their_own(rt, one, other) -> None:  # type: ignore[no-untyped-def]
    first, second = shapes(rt.keep(x=one), rt.keep(x=other))
    assert first != second


def test_upstream_tasks_count_with_their_own_inputs(rt) -> None:  # type: ignore[no-untyped-def]
    shapes = InputShapes()
    assert shapes.shape(rt.use(v=rt.wrap(x=1.0))) == shapes.shape(rt.use(v=rt.wrap(x=2.0)))
    assert shapes.shape(rt.use(v=rt.wrap(x=1.0))) != shapes.shape(rt.use(v=rt.wrap(x={1.0})))
    assert shapes.shape(rt.use(v=rt.wrap(x=1.0))) != shapes.shape(rt.use(v=rt.keep(x=1.0)))
    assert shapes.shape(rt.keep(x=1.0)) != shapes.shape(rt.count(n=1))  # task types


def test_tasks_whose_digest_depends_on_an_output_are_each_checked(rt) -> None:  # type: ignore[no-untyped-def]
    shapes = InputShapes()
    a, b = (rt.use(v=rt.listing(folder=f)) for f in ("a", "b"))
    assert shapes.shape(a) != shapes.shape(b)
    assert shapes.shape(a) == shapes.shape(a)


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        ("keep", {1.0}),  # a set becomes a list under Any
        ("keep", np.arange(3)),  # an array becomes its JSON form under Any
        ("keyed", {1: 1.0}),  # an int key comes back as the str "1"
        ("use", b"\xff"),  # inside an upstream memoized task: bytes become their JSON form
    ],
)
def test_one_input_that_does_not_round_trip_among_many_that_do_is_refused(
    rt, project, good: str, bad: Any
) -> None:  # type: ignore[no-untyped-def]
    make = {
        "keep": lambda v: rt.keep(x=v),
        "keyed": lambda v: rt.keyed(d=v),
        "use": lambda v: rt.use(v=rt.wrap(x=v)),
    }[good]
    fine = {
        "keep": lambda i: float(i),
        "keyed": lambda i: {"a": float(i), "1": 2.0},
        "use": lambda i: (float(i), "x"),
    }[good]
    tasks = [make(fine(i)) for i in range(200)]
    culprit = make(bad)
    tasks.insert(137, culprit)
    smttask.export_snakemake(tasks[:137] + tasks[138:], project.root / "ok")  # all fine
    with pytest.raises(CompileError) as caught:
        smttask.export_snakemake(tasks, project.root / "build")
    text = str(caught.value)
    assert f"Cannot export {culprit!r}" in text and "would not load in the job" in text
    assert "was written for digest" in text
    assert not (project.root / "build").exists()


def test_a_task_file_edited_after_export_is_refused_when_the_job_runs(rt, project) -> None:  # type: ignore[no-untyped-def]
    tasks = [rt.count(n=i) for i in range(50)]
    smttask.export_snakemake(tasks, project.root / "build")
    path = project.root / "build" / "tasks" / "count" / f"{tasks[7].key}.json"
    desc = json.loads(path.read_text())
    assert desc["inputs"] == {"n": 7}
    desc["inputs"]["n"] = 8  # the digest of n=7 kept: the file would compute another task
    path.write_text(json.dumps(desc, indent=2) + "\n")
    done = CliRunner().invoke(cli, ["run", "--no-record", str(path)], catch_exceptions=False)
    assert done.exit_code != 0
    assert f"was written for digest {tasks[7].key}" in done.output
    assert rt.count(n=8).key in done.output
    assert not Path(tasks[7].output_paths[next(iter(tasks[7].output_paths))]).exists()
    assert not Path(rt.count(n=8).output_paths[next(iter(rt.count(n=8).output_paths))]).exists()
