"""Results on disk: layout, atomic and exclusive writes, kills, concurrent writers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from smttask.errors import OutputError

TASKS = """
import collections, os, time
from pathlib import Path
from typing import Dict, List, Tuple
import numpy as np
from scityping.numpy import Array
from smttask import RecordedTask, TaskOutput

@RecordedTask
def big(n: int, seed: int) -> Array[float, 1]:
    return np.random.default_rng(seed).random(n)

@RecordedTask
def pair(a: float) -> Tuple[float, float]:
    return (a, -a)

class Stats(TaskOutput):
    mean: float
    values: Array[float, 1]

@RecordedTask
def stats(n: int) -> Stats:
    values = np.arange(n, dtype=float)
    return Stats(mean=float(values.mean()), values=values)

@RecordedTask
def table(keys: List[str]) -> Dict[str, int]:
    return {k: i for i, k in enumerate(keys)}

@RecordedTask
def ordered(keys: List[str]) -> collections.OrderedDict:
    return collections.OrderedDict((k, i) for i, k in enumerate(keys))

@RecordedTask
def slow_same(x: float, gate: str) -> float:
    Path(gate + "." + str(os.getpid())).touch()
    while not Path(gate).exists():
        time.sleep(0.01)
    return x * 3
"""


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    return project.write_module("tasks", TASKS)


def test_layout_archive_and_link(tasks, project) -> None:  # type: ignore[no-untyped-def]
    t = tasks.pair(a=1.5)
    assert t.run() == (1.5, -1.5)
    archive = project.root / "data/run_dump/pair" / f"{t.key}.json"
    link = project.root / "data/pair" / f"{t.key}.json"
    assert archive.is_file() and not archive.is_symlink()
    assert link.is_symlink() and link.resolve() == archive.resolve()
    assert not os.path.isabs(os.readlink(link))  # relative: the project folder can move
    assert t.output_paths == {"": link}
    assert archive.read_text() == "[1.5, -1.5]"
    assert oct(archive.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_named_outputs_and_arrays_as_npy(tasks, project) -> None:  # type: ignore[no-untyped-def]
    t = tasks.stats(n=4)
    t.run()
    names = sorted(p.name for p in (project.root / "data/run_dump/stats").iterdir())
    assert names == [f"{t.key}_mean.json", f"{t.key}_values.npy"]
    assert np.array_equal(np.load(t.output_paths["values"]), [0, 1, 2, 3])
    loaded = tasks.stats(n=4).get_output()
    assert loaded.mean == 1.5 and np.array_equal(loaded.values, np.arange(4.0))


def test_results_load_in_a_new_process(tasks, project) -> None:  # type: ignore[no-untyped-def]
    tasks.big(n=1000, seed=1).run()
    code = (
        "import tasks, numpy as np\n"
        "t = tasks.big(n=1000, seed=1)\n"
        "r = t.run()\n"
        "assert not t.computed and r.shape == (1000,)\n"
        "print(repr(float(r.sum())))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root, check=True, capture_output=True, text=True
    ).stdout
    assert float(out) == float(tasks.big(n=1000, seed=1).run().sum())


LOAD_IN_A_NEW_PROCESS = """
import tasks
for t in (tasks.table(keys=["b", "c", "a"]), tasks.ordered(keys=["b", "c", "a"])):
    print(list(t.run().items()), t.computed)
"""


def test_json_results_are_written_with_sorted_keys_and_read_back_equal(tasks, project) -> None:  # type: ignore[no-untyped-def]
    table, ordered = tasks.table(keys=["b", "c", "a"]), tasks.ordered(keys=["b", "c", "a"])
    assert table.run() == {"b": 0, "c": 1, "a": 2}
    assert list(ordered.run().items()) == [("b", 0), ("c", 1), ("a", 2)]
    # Equal dicts give equal files; an OrderedDict keeps its order, which is part of its value.
    assert table.output_paths[""].read_text() == '{"a": 2, "b": 0, "c": 1}'
    assert ordered.output_paths[""].read_text() == '{"b": 0, "c": 1, "a": 2}'
    out = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_NEW_PROCESS],
        cwd=project.root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert out == [
        "[('a', 2), ('b', 0), ('c', 1)] False",
        "[('b', 0), ('c', 1), ('a', 2)] False",
    ]


def test_recompute_writes_a_new_numbered_file_and_never_overwrites(tasks, project) -> None:  # type: ignore[no-untyped-def]
    t = tasks.pair(a=2.0)
    t.run()
    folder = project.root / "data/run_dump/pair"
    first = folder / f"{t.key}.json"
    first_inode = first.stat().st_ino
    tasks.pair(a=2.0).run(recompute=True)
    tasks.pair(a=2.0).run(recompute=True)
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{t.key}.1.json",
        f"{t.key}.2.json",
        f"{t.key}.json",
    ]
    assert first.stat().st_ino == first_inode
    assert t.output_paths[""].resolve() == (folder / f"{t.key}.2.json").resolve()
    assert tasks.pair(a=2.0).run() == (2.0, -2.0)


def test_archive_without_link_is_still_found(tasks, project) -> None:  # type: ignore[no-untyped-def]
    t = tasks.pair(a=3.0)
    t.run()
    t.output_paths[""].unlink()
    again = tasks.pair(a=3.0)
    assert again.run() == (3.0, -3.0) and not again.computed


def test_a_corrupted_result_gives_a_clear_error(tasks, project) -> None:  # type: ignore[no-untyped-def]
    t = tasks.pair(a=4.0)
    t.run()
    archive = project.root / "data/run_dump/pair" / f"{t.key}.json"
    archive.chmod(0o644)
    archive.write_text('["oops"')
    with pytest.raises(OutputError, match=rf"{archive}.*delete it.*recompute=True"):
        tasks.pair(a=4.0).run()


KILLER = """
import os, signal, sys
import tasks
point = sys.argv[1]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if point == "mid-write":
    real_write = os.write
    def write(fd, data):
        real_write(fd, bytes(data)[: len(data) // 2])
        die()
    os.write = write
elif point == "before-publish":  # whichever way the file system publishes
    from smttask import fileio
    os.link = die
    if fileio._RENAMEAT2 is not None:
        fileio._RENAMEAT2 = die
elif point == "before-link":
    os.symlink = die
tasks.big(n=200_000, seed=7).run()
"""


@pytest.mark.parametrize("point", ["mid-write", "before-publish", "before-link"])
def test_a_killed_process_never_leaves_a_file_that_a_later_run_loads(tasks, project, point) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, point], cwd=project.root, capture_output=True, text=True
    )
    assert proc.returncode == -9, proc.stderr
    visible = [
        p
        for p in (project.root / "data").rglob("*")
        if p.is_file() and not p.name.startswith(".") and ".leases" not in p.parts
    ]
    expected = np.random.default_rng(7).random(200_000)
    task = tasks.big(n=200_000, seed=7)
    if point == "before-link":  # the archive was complete and published; only the link is missing
        assert [p.parent.name for p in visible] == ["big"]
        assert np.array_equal(task.run(), expected) and not task.computed
    else:
        assert visible == []
        assert np.array_equal(task.run(), expected) and task.computed


def test_two_processes_running_the_same_task_both_succeed_and_one_computes(tasks, project) -> None:  # type: ignore[no-untyped-def]
    gate = project.root / "gate"
    code = f"import tasks; print(tasks.slow_same(x=2.0, gate={str(gate)!r}).run())"
    errors = [project.root / f"err{i}" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=project.root,
            stdout=subprocess.PIPE,
            stderr=err.open("w"),
            text=True,
        )
        for err in errors
    ]
    deadline = time.monotonic() + 60
    while not (
        list(project.root.glob("gate.*"))  # one is inside the function, the other waits
        and any("waiting for its result" in e.read_text() for e in errors)
    ):
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.01)
    gate.touch()
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e.read_text() for e in errors]
    assert [o[0].strip() for o in outputs] == ["6.0", "6.0"]
    assert len(list(project.root.glob("gate.*"))) == 1  # computed once
    t = tasks.slow_same(x=2.0, gate=str(gate))
    files = sorted(p.name for p in (project.root / "data/run_dump/slow_same").iterdir())
    assert files == [f"{t.key}.json"]
    assert t.run() == 6.0 and not t.computed
    assert Path(t.output_paths[""]).resolve().read_text() == "6.0"


def test_saving_a_result_that_is_already_stored_keeps_the_one_file(tasks, project) -> None:  # type: ignore[no-untyped-def]
    """What two processes computing one task both do when one took over the other's lease."""
    from smttask import hooks

    t = tasks.pair(a=5.0)
    store = hooks.current().outputs
    first = store.save(t, (5.0, -5.0), recompute=False)
    again = store.save(t, (5.0, -5.0), recompute=False)
    assert first == again
    assert [p.name for p in (project.root / "data/run_dump/pair").iterdir()] == [f"{t.key}.json"]
