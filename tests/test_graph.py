"""Tracing task graphs: deduplication, jobs through memoized tasks, cycles, output clashes."""

from __future__ import annotations

import dataclasses

import pytest

from smttask import hooks
from smttask.errors import GraphError
from smttask.graph import trace
from smttask.storage import DataRoots, FileOutputStore

PIPELINE = """
from typing import List
from smttask import MemoizedTask, RecordedTask

@RecordedTask
def source(n: int) -> float:
    return float(n)

@MemoizedTask
def double(x: float) -> float:
    return 2 * x

@RecordedTask
def combine(a: float, b: float) -> float:
    return a + b

@RecordedTask
def total(xs: List[float]) -> float:
    return sum(xs)
"""


@pytest.fixture
def mod(project):
    return project.write_module("graph_tasks", PIPELINE)


def test_shared_subtasks_appear_once(mod):
    shared = mod.source(n=1)
    left = mod.combine(a=shared, b=mod.source(n=2))
    right = mod.combine(a=shared, b=mod.source(n=3))
    graph = trace([mod.total(xs=[left, right]), left])
    assert len(graph) == 6
    keys = [n.key for n in graph.nodes()]
    assert keys.count(shared.key) == 1
    assert graph.targets[1] == left.key
    order = {k: i for i, k in enumerate(keys)}
    for up, down in graph.edges():
        assert order[up] < order[down]
    assert set(graph.upstream(left.key)) == {shared.key, mod.source(n=2).key}


def test_equal_tasks_built_twice_are_one_node(mod):
    graph = trace([mod.source(n=1), mod.source(n=1)])
    assert len(graph) == 1 and len(graph.jobs()) == 1


def test_memoized_tasks_run_inside_their_consumer(mod):
    src = mod.source(n=4)
    doubled = mod.double(x=src)
    job = mod.combine(a=doubled, b=mod.double(x=doubled))
    graph = trace(job)
    assert [n.task.name for n in graph.jobs()] == ["source", "combine"]
    assert graph.job_upstream(job.key) == [src.key]
    memoized = [n for n in graph.nodes() if not n.recorded]
    assert {n.task.name for n in memoized} == {"double"} and len(memoized) == 2
    assert all(n.key not in graph.job_upstream(job.key) for n in memoized)
    assert graph.node(job.key).outputs[0].name == f"{job.key}.json"
    assert graph.node(doubled.key).outputs == ()


def test_order_is_deterministic(mod):
    tasks = [mod.source(n=i) for i in range(5)]
    first = [n.key for n in trace(tasks).nodes()]
    again = [n.key for n in trace(list(reversed(tasks))).nodes()]
    assert first == again == sorted(first)


def test_cycle_is_an_error_naming_the_tasks(mod):
    a = mod.combine(a=1.0, b=2.0)
    b = mod.combine(a=a, b=3.0)
    a.key, b.key  # noqa: B018 - fix the keys before the inputs are tampered with
    a.inputs["a"] = b
    with pytest.raises(GraphError) as err:
        trace(b)
    msg = str(err.value)
    assert "cycle" in msg and a.key[:10] in msg and b.key[:10] in msg and "combine(" in msg


class FlatStore(FileOutputStore):
    """A store whose file names forget the digest: every task of a type shares one file."""

    def archive_paths(self, task):  # type: ignore[no-untyped-def]
        return {
            out: path.with_name("result.json") for out, path in super().archive_paths(task).items()
        }


def test_two_tasks_claiming_one_output_is_an_error(mod):
    session = hooks.current()
    flat = dataclasses.replace(session, outputs=FlatStore(DataRoots(*session.data_roots)))
    with hooks.using(flat), pytest.raises(GraphError) as err:
        trace([mod.source(n=1), mod.source(n=2)])
    msg = str(err.value)
    assert "same output file" in msg and "result.json" in msg
    assert "source(n=1)" in msg and "source(n=2)" in msg


def test_tracing_something_else_is_an_error(mod):
    with pytest.raises(GraphError, match="not a task"):
        trace([mod.source])
