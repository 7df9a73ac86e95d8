"""The backend-neutral plan: jobs as plain data, task types, and which jobs share a process."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from smttask.compile.plan import (
    FALLBACK_SIZE,
    MAX_AUTO_SIZE,
    Batch,
    BatchSize,
    Job,
    Plan,
    TaskDuration,
    TaskType,
    make_plan,
)
from smttask.errors import CompileError
from smttask.graph import trace

BIN = Path(sys.executable).parent

TASKS = """
from typing import List
from smttask import MemoizedTask, RecordedTask, TaskOutput

@MemoizedTask
def offset(x: float) -> float:
    return x + 1

@RecordedTask(threads=2, resources={"mem_mb": 800, "runtime": "10m"}, retries=2)
def simulate(seed: int) -> float:
    return seed / 2

@RecordedTask(resources={"runtime": 3})
def square(x: float) -> float:
    return x * x

@RecordedTask
def cube(x: float) -> float:
    return x ** 3

class Pair(TaskOutput):
    low: float
    high: float

@RecordedTask
def split(x: float) -> Pair:
    return x - 1, x + 1

@RecordedTask
def total(xs: List[float]) -> float:
    return sum(xs)
"""


@pytest.fixture
def mod(project):  # type: ignore[no-untyped-def]
    return project.write_module("plan_tasks", TASKS)


def plan_of(project, tasks, batch=None) -> Plan:  # type: ignore[no-untyped-def]
    return make_plan(trace(tasks), root=project.root, outdir=project.root / "build", batch=batch)


def ancestors(plan: Plan, key: str) -> set[str]:
    seen: set[str] = set()
    todo = list(plan.job(key).upstream)
    while todo:
        up = todo.pop()
        if up not in seen:
            seen.add(up)
            todo.extend(plan.job(up).upstream)
    return seen


def check_processes_can_run(plan: Plan) -> list[tuple[str, ...]]:
    """The processes (batches, single jobs) in an order where each follows all it needs."""
    process = {j.key: (j.key,) for j in plan.jobs}
    for batch in plan.batches:
        for key in batch.keys:
            assert process[key] == (key,), f"{key} is in two batches"
            process[key] = batch.keys
        for key in batch.keys:
            assert not ancestors(plan, key) & set(batch.keys), f"{key} needs its own batch"
    pending = list(dict.fromkeys(process.values()))
    order: list[tuple[str, ...]] = []
    while pending:
        ready = [
            p
            for p in pending
            if all(process[u] in order or process[u] == p for k in p for u in plan.job(k).upstream)
        ]
        assert ready, f"these processes wait on each other: {pending}"
        order.extend(ready)
        pending = [p for p in pending if p not in ready]
    return order


def test_jobs_are_plain_data(project, mod):  # type: ignore[no-untyped-def]
    top = mod.total(xs=[mod.square(x=mod.offset(x=mod.simulate(seed=1))), 2.0])
    plan = plan_of(project, top)
    assert [j.name for j in plan.jobs] == ["simulate", "square", "total"]  # upstream first
    sim, sq, tot = plan.jobs
    assert sq.upstream == (sim.key,)  # through the memoized offset
    assert tot.upstream == (sq.key,) and sim.upstream == ()
    assert sim.taskname == "plan_tasks.simulate" and sim.kind == "RecordedTask"
    assert sim.taskfile == f"build/tasks/simulate/{sim.key}.json"
    assert json.loads(sim.desc)["digest"] == sim.key
    assert sim.outputs == (f"data/run_dump/simulate/{sim.key}.json",)
    assert (sim.threads, sim.resources, sim.retries) == (
        2,
        (("mem_mb", 800), ("runtime", "10m")),
        2,
    )
    assert (sq.threads, sq.resources, sq.retries) == (1, (("runtime", 3),), 0)
    assert plan.task_files() == {f"tasks/{j.name}/{j.key}.json": j.desc for j in plan.jobs}
    # plain data, nothing of a workflow engine
    names = {f.name for cls in (Plan, Job, TaskType, Batch) for f in fields(cls)}
    assert not {n for n in names if "slurm" in n or "layout" in n or "rule" in n}


def test_the_plan_imports_no_backend_and_no_template_engine():
    code = (
        "import sys, smttask.compile.plan; "
        "assert not [m for m in sys.modules if m.startswith('smttask.compile.snakemake')]; "
        "assert 'jinja2' not in sys.modules and 'networkx' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_task_types_share_name_and_output_pattern(project, mod):  # type: ignore[no-untyped-def]
    tasks = [mod.square(x=float(i)) for i in range(3)] + [mod.split(x=1.0), mod.cube(x=1.0)]
    plan = plan_of(project, tasks)
    types = {t.name: t for t in plan.task_types}
    assert [t.name for t in plan.task_types] == ["cube", "split", "square"]
    assert types["square"].outputs == ("data/run_dump/square/{key}.json",)
    assert types["split"].outputs == (
        "data/run_dump/split/{key}_low.json",
        "data/run_dump/split/{key}_high.json",
    )
    assert len(types["square"].keys) == 3
    for task_type in plan.task_types:
        assert task_type.batches == ()  # no batch asked for
        for key in task_type.keys:
            files = tuple(p.format(key=key) for p in task_type.outputs or ())
            assert files == plan.job(key).outputs


def test_batches_hold_up_to_n_jobs_of_one_type_in_key_order(project, mod):  # type: ignore[no-untyped-def]
    squares = [mod.square(x=float(i)) for i in range(5)]
    tasks = [*squares, mod.cube(x=1.0), mod.cube(x=2.0)]
    plan = plan_of(project, tasks, batch={"square": 2})
    types = {t.name: t for t in plan.task_types}
    assert [len(b.keys) for b in types["square"].batches] == [2, 2, 1]
    assert [k for b in plan.batches for k in b.keys] == sorted(s.key for s in squares)
    assert types["cube"].batches == ()
    every = plan_of(project, tasks, batch=2)
    assert [len(b.keys) for b in every.batches] == [2, 2, 2, 1]  # cube first: types by name
    star = plan_of(project, tasks, batch={"*": 2, "square": 5})
    assert [len(b.keys) for b in star.batches] == [2, 5]


def test_a_batch_adds_up_runtimes_and_takes_the_most_threads_and_retries(project, mod):  # type: ignore[no-untyped-def]
    plan = plan_of(project, [mod.simulate(seed=s) for s in range(3)], batch=3)
    (batch,) = plan.batches
    assert batch.resources == (("mem_mb", 800), ("runtime", 30))  # 3 x 10 minutes
    assert (batch.threads, batch.retries) == (2, 2)
    plan = plan_of(project, [mod.square(x=float(i)) for i in range(2)], batch=3)
    assert plan.batches[0].resources == (("runtime", 6),)


def test_batch_sizes_and_runtimes_are_checked(project, mod):  # type: ignore[no-untyped-def]
    tasks = [mod.square(x=1.0)]
    for size in (0, -1, True, "3"):
        with pytest.raises(CompileError, match="must be a positive integer"):
            plan_of(project, tasks, batch={"square": size})
    slow = project.write_module(
        "plan_slow",
        """
        from smttask import RecordedTask

        @RecordedTask(resources={"runtime": "soon"})
        def wait(x: int) -> int:
            return x
        """,
    )
    plan_of(project, [slow.wait(x=1)])  # unbatched: the runtime is passed on as it is
    with pytest.raises(CompileError, match="cannot batch it with runtime='soon'"):
        plan_of(project, [slow.wait(x=1)], batch=2)


def test_jobs_of_a_batch_never_depend_on_each_other(project, mod):  # type: ignore[no-untyped-def]
    a = mod.total(xs=[1.0])
    b = mod.total(xs=[a, 2.0])
    c = mod.total(xs=[3.0])
    plan = plan_of(project, [b, c], batch=10)
    assert [b.keys for b in plan.batches] == [tuple(sorted((a.key, c.key))), (b.key,)]
    check_processes_can_run(plan)


def test_a_job_reaching_its_type_through_another_type_gets_its_own_batch(project, mod):  # type: ignore[no-untyped-def]
    a1 = mod.square(x=1.0)
    a2 = mod.square(x=mod.cube(x=a1))  # a2 needs cube, which needs a1
    a3 = mod.square(x=5.0)
    plan = plan_of(project, [a2, a3], batch={"square": 10})
    assert [b.keys for b in plan.batches] == [tuple(sorted((a1.key, a3.key))), (a2.key,)]
    check_processes_can_run(plan)


def test_batches_of_two_types_never_wait_on_each_other(project, mod):  # type: ignore[no-untyped-def]
    # square(cube) and cube(square): one batch per type would need the other one
    tasks = [mod.square(x=mod.cube(x=2.0)), mod.cube(x=mod.square(x=3.0))]
    plan = plan_of(project, tasks, batch=10)
    assert len(plan.batches) == 4
    check_processes_can_run(plan)
    # where the types do not interleave, each type is one batch
    plan = plan_of(project, [mod.cube(x=mod.square(x=float(i))) for i in range(3)], batch=10)
    assert [len(b.keys) for b in plan.batches] == [3, 3]


def test_the_same_graph_gives_the_same_plan(project, mod):  # type: ignore[no-untyped-def]
    tops = [mod.total(xs=[mod.square(x=mod.simulate(seed=s)) for s in range(4)]), mod.cube(x=1.0)]
    first = plan_of(project, tops, batch=2)
    again = plan_of(project, [tops[1], *[n.task for n in trace(tops).jobs()[:3]], tops[0]], 2)
    assert first == again


@pytest.mark.slow
def test_snakemake_accepts_the_batches_of_interleaved_types(project, mod):  # type: ignore[no-untyped-def]
    snakemake = BIN / "snakemake"
    if not snakemake.exists():
        pytest.skip("snakemake is not installed (pip install 'smttask[snakemake]')")
    import smttask

    a1 = mod.square(x=1.0)
    tasks = [mod.square(x=mod.cube(x=a1)), mod.cube(x=mod.square(x=3.0)), mod.square(x=4.0)]
    smttask.export_snakemake(tasks, project.root / "build", batch=10)
    dry = subprocess.run(
        [str(snakemake), "-s", "build/Snakefile", "-n"],
        cwd=project.root,
        capture_output=True,
        text=True,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(project.root)},
    )
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "Cyclic" not in dry.stdout + dry.stderr


def test_auto_batches_take_about_the_minutes_asked_for(project, mod):  # type: ignore[no-untyped-def]
    squares = [mod.square(x=float(i)) for i in range(50)]
    cubes = [mod.cube(x=float(i)) for i in range(7)]
    splits = [mod.split(x=float(i)) for i in range(3)]
    durations = {
        "plan_tasks.square": TaskDuration(seconds=30.0, records=12),  # 20 per 10 minutes
        "plan_tasks.cube": TaskDuration(seconds=0.001, records=3),  # all of them at once
        "plan_tasks.split": TaskDuration(seconds=3600.0, records=1),  # longer than asked for
    }
    tasks = [*squares, *cubes, *splits]
    plan = make_plan(
        trace(tasks),
        root=project.root,
        outdir=project.root / "b",
        batch="auto",
        durations=durations,
    )
    types = {t.name: t for t in plan.task_types}
    assert [len(b.keys) for b in types["square"].batches] == [20, 20, 10]
    assert types["square"].batch_size == BatchSize(20, "records", 10.0, 30.0, 12)
    assert [len(b.keys) for b in types["cube"].batches] == [7]
    assert types["cube"].batch_size is not None and types["cube"].batch_size.size == MAX_AUTO_SIZE
    assert types["split"].batches == ()  # one task per job: no batch rules at all
    assert types["split"].batch_size == BatchSize(1, "records", 10.0, 3600.0, 1)
    described = types["square"].batch_size.describe()
    assert (
        described
        == "20 per process, ~10.0 min each (median 30 s of 12 finished records; aiming at 10 min)"
    )
    five = make_plan(
        trace(squares), root=project.root, outdir=project.root / "b", batch=("auto", 5),
        durations=durations,
    )  # fmt: skip
    assert [len(b.keys) for b in five.batches] == [10] * 5


def test_auto_batches_without_records(project, mod):  # type: ignore[no-untyped-def]
    tasks = [*(mod.square(x=float(i)) for i in range(5)), *(mod.cube(x=float(i)) for i in range(3))]
    plan = plan_of(project, tasks, batch={"*": "auto", "cube": 2})
    types = {t.name: t for t in plan.task_types}
    # square declares runtime=3 (minutes): 3 per 10 minutes; cube keeps the size asked for
    assert types["square"].batch_size == BatchSize(3, "runtime", 10.0, 180.0, 0)
    assert [len(b.keys) for b in types["square"].batches] == [3, 2]
    assert types["cube"].batch_size == BatchSize(2, "given")
    alone = plan_of(project, [mod.cube(x=float(i)) for i in range(3)], batch="auto")
    (cube,) = alone.task_types
    assert cube.batches == () and cube.batch_size == BatchSize(FALLBACK_SIZE, "default", 10.0)
    assert "no finished record and no declared runtime" in cube.batch_size.describe()
    assert types["square"].batch_size.describe() == (
        "3 per process, ~9.0 min each (no finished record; declared runtime 180 s; aiming at 10 min)"
    )
    for bad in ("soon", ("auto", 0), ("auto", "10"), ("fast", 3)):
        with pytest.raises(CompileError, match=r"must be a positive integer|positive number"):
            plan_of(project, tasks, batch={"square": bad})


def test_the_plan_never_reads_records():
    from test_architecture import PACKAGE, imports, within

    found = [i for i in imports(PACKAGE) if within(i.module, ("smttask.compile.plan",))]
    assert found and not [str(i) for i in found if within(i.target, ("smttask.recording",))]
