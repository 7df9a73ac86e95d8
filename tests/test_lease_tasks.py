"""One computation per task: processes asking for a task that another process is computing
wait for it and load its result (``smttask run -n``, separate processes, Snakemake killed and
rerun while its jobs still run). Every task function appends a line to ``runs.txt`` when it
really executes; records are counted in the record store."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_snakemake_e2e import BIN, env, export, make_project, ok, runs, snakemake

from smttask.recording.store import open_store

SMTTASK = str(BIN / "smttask")

TASKS = """
import os, time
from pathlib import Path
from smttask import RecordedTask


def log(line: str) -> None:
    with open("runs.txt", "a") as f:
        f.write(line + "\\n")


@RecordedTask
def upstream(x: int, gate: str) -> int:
    log(f"upstream {x} {os.getpid()}")
    Path(gate + ".inside").touch()
    while not Path(gate).exists():
        time.sleep(0.01)
    return x * 10


@RecordedTask
def down(u: int, k: int) -> int:
    log(f"down {k}")
    return u + k
"""


def wait_for(condition, seconds: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def lines(root: Path) -> list[str]:
    path = root / "runs.txt"
    return sorted(path.read_text().split("\n")[:-1]) if path.exists() else []


@pytest.fixture
def spawn():  # type: ignore[no-untyped-def]
    """``subprocess.Popen`` in a session of its own; whatever is left of each process group
    (a task waiting at its gate, a job a killed Snakemake left running) is killed when the
    test ends, passed or failed."""
    started: list[subprocess.Popen[str]] = []

    def start(*args, **kwargs):  # type: ignore[no-untyped-def]
        proc = subprocess.Popen(*args, start_new_session=True, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def tasks(smt_project):  # type: ignore[no-untyped-def]
    smt_project.write(".gitignore", "data/\nruns.txt\ngate*\ntaskdir/\n*.err\n")
    smt_project.commit(".gitignore")
    return smt_project.write_module("lease_tasks", TASKS)


def test_run_n2_computes_a_shared_upstream_task_once(smt_project, tasks, spawn) -> None:  # type: ignore[no-untyped-def]
    gate = smt_project.root / "gate"
    folder = smt_project.root / "taskdir"
    for k in (1, 2):
        tasks.down(u=tasks.upstream(x=3, gate=str(gate)), k=k).save(folder)
    errors = smt_project.root / "run.err"
    proc = spawn(
        [SMTTASK, "run", "-n", "2", str(folder)],
        cwd=smt_project.root,
        stdout=subprocess.DEVNULL,
        stderr=errors.open("w"),
    )
    wait_for(lambda: (smt_project.root / "gate.inside").exists())
    # the other worker reaches the upstream task meanwhile and waits for it
    wait_for(lambda: "waiting for its result" in errors.read_text())
    gate.touch()
    proc.wait(timeout=120)
    err = errors.read_text()
    assert proc.returncode == 0, err
    assert "2 ran, 0 loaded, 0 failed (of 2 task files)." in err
    assert [line.split()[0] for line in lines(smt_project.root)] == ["down", "down", "upstream"]
    names = sorted(r.script_arguments for r in open_store().records())
    assert names == ["lease_tasks.down", "lease_tasks.down", "lease_tasks.upstream"]


def test_two_processes_asking_for_one_task_compute_it_once(smt_project, tasks, spawn) -> None:  # type: ignore[no-untyped-def]
    gate = smt_project.root / "gate"
    code = f"import lease_tasks; print(lease_tasks.upstream(x=4, gate={str(gate)!r}).run())"

    def start(name: str) -> subprocess.Popen[str]:
        return spawn(
            [sys.executable, "-c", code],
            cwd=smt_project.root,
            stdout=subprocess.PIPE,
            stderr=(smt_project.root / f"{name}.err").open("w"),
            text=True,
        )

    first = start("first")
    wait_for(lambda: (smt_project.root / "gate.inside").exists())
    second = start("second")
    wait_for(lambda: "waiting for its result" in (smt_project.root / "second.err").read_text())
    gate.touch()
    outputs = [p.communicate(timeout=120)[0].strip() for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0]
    assert outputs == ["40", "40"]
    assert lines(smt_project.root) == [f"upstream 4 {first.pid}"]
    assert "being computed by process" in (smt_project.root / "second.err").read_text()
    [record] = open_store().records()
    assert record.script_arguments == "lease_tasks.upstream" and record.tags == {"_finished_"}


def test_a_killed_holder_is_taken_over_and_the_task_computed_once_more(
    smt_project, tasks, spawn
) -> None:  # type: ignore[no-untyped-def]
    gate = smt_project.root / "gate"
    code = f"import lease_tasks; print(lease_tasks.upstream(x=5, gate={str(gate)!r}).run())"
    first = spawn([sys.executable, "-c", code], cwd=smt_project.root)
    wait_for(lambda: (smt_project.root / "gate.inside").exists())
    first.send_signal(signal.SIGKILL)
    first.wait()
    gate.touch()
    again = subprocess.run(
        [sys.executable, "-c", code], cwd=smt_project.root, capture_output=True, text=True
    )
    assert again.returncode == 0 and again.stdout.strip() == "50", again.stderr
    assert [line.split()[:2] for line in lines(smt_project.root)] == [["upstream", "5"]] * 2
    tags = sorted(sorted(r.tags) for r in open_store().records())
    assert tags == [["_finished_"], ["_killed_"]]


SLOW_PIPELINE = "from e2e_tasks import slow, summary\n\ntasks = [summary(values=[slow(x=1.0)])]\n"


@pytest.mark.slow
def test_snakemake_killed_then_rerun_does_not_run_a_running_task_twice(project, spawn) -> None:  # type: ignore[no-untyped-def]
    """Snakemake (``--cores 2``) is killed while its job runs; the job goes on. Rerun at once
    (``--unlock``, then with ``--rerun-incomplete``): the new job waits for the running one
    and loads its result."""
    root = make_project(project, SLOW_PIPELINE)
    export(root)
    proc = spawn(
        [str(BIN / "snakemake"), "-s", "build/Snakefile", "--cores", "2"],
        cwd=root,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: (root / "slow.started").exists())
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # Snakemake only: its job keeps running
        proc.wait()
    ok(snakemake(root, "-s", "build/Snakefile", "--unlock"))
    rerun = spawn(
        [str(BIN / "snakemake"), "-s", "build/Snakefile", "--cores", "2", "--rerun-incomplete"],
        cwd=root,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    logs = root / "build" / "logs"

    def waiting() -> bool:
        texts = [p.read_text() for p in logs.rglob("*") if p.is_file()] if logs.is_dir() else []
        return any("waiting for its result" in t for t in texts)

    wait_for(waiting)
    (root / "slow.release").touch()
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "3 of 3 steps (100%) done" in err
    assert runs(root) == ["slow finished 1.0", "slow started 1.0", "summary"]
    code = (
        "from smttask.recording.store import open_store; "
        "print(sorted((r.script_arguments, sorted(r.tags)) for r in open_store().records()))"
    )
    out = ok(subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                            text=True, env=env())).stdout  # fmt: skip
    assert out.strip() == str(
        [
            ("e2e_tasks.slow", ["_finished_", "attempt:1"]),
            ("e2e_tasks.summary", ["_finished_", "attempt:1"]),
        ]
    )
    assert "Nothing to be done" in ok(snakemake(root, "-s", "build/Snakefile", "-c2")).stderr
    # (the job Snakemake lost track of was still running: its process ends with the release)
