"""`smttask run --running-elsewhere exit` skips a task that another live process computes
(exit code 75, the holder named), and `smttask run --supervise` says how a killed run ended
and ends its record with it. Real processes and a real record store."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from test_lease_tasks import SMTTASK, TASKS, lines, wait_for

from smttask.recording.store import open_store

SELF_KILL = """
import os, signal
from smttask import RecordedTask


@RecordedTask
def doomed(x: int) -> int:
    with open("runs.txt", "a") as f:
        f.write(f"doomed {x}\\n")
    os.kill(os.getpid(), signal.SIGKILL)
    return x
"""


def test_running_elsewhere_exit_skips_the_task_with_exit_code_75(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write(".gitignore", "data/\nruns.txt\ngate*\ntaskdir/\n*.err\n")
    smt_project.commit(".gitignore")
    tasks = smt_project.write_module("lease_tasks", TASKS)
    gate = smt_project.root / "gate"
    folder = smt_project.root / "taskdir"
    tasks.upstream(x=7, gate=str(gate)).save(folder)
    holder = subprocess.Popen([SMTTASK, "run", str(folder)], cwd=smt_project.root)
    wait_for(lambda: (smt_project.root / "gate.inside").exists())
    start = time.monotonic()
    skipped = subprocess.run(
        [SMTTASK, "run", "--running-elsewhere", "exit", str(folder)],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - start < 60  # did not wait for the holder
    assert skipped.returncode == 75, skipped.stderr
    assert "running elsewhere" in skipped.stderr
    assert f"process {holder.pid} on " in skipped.stderr  # names who computes it
    assert "0 ran, 0 loaded, 1 running elsewhere, 0 failed (of 1 task files)." in skipped.stderr
    gate.touch()
    assert holder.wait(timeout=120) == 0
    again = subprocess.run(
        [SMTTASK, "run", "--running-elsewhere", "exit", str(folder)],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "0 ran, 1 loaded, 0 failed" in again.stderr, again.stderr
    assert lines(smt_project.root) == [f"upstream 7 {holder.pid}"]  # computed once
    assert [sorted(r.tags) for r in open_store().records()] == [["_finished_"]]


def test_a_supervised_run_killed_by_a_signal_says_so_in_its_record(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write(".gitignore", "data/\nruns.txt\ntaskdir/\n")
    smt_project.commit(".gitignore")
    tasks = smt_project.write_module("doomed_tasks", SELF_KILL)
    folder = smt_project.root / "taskdir"
    path = tasks.doomed(x=1).save(folder)
    result = subprocess.run(
        [SMTTASK, "run", "--supervise", str(folder)],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 137, result.stderr  # 128 + SIGKILL, as a shell says
    assert (smt_project.root / "runs.txt").read_text() == "doomed 1\n"
    said = result.stderr
    assert "was killed by SIGKILL while it ran" in said and str(Path(path).name) in said
    assert "not by a memory limit" in said
    assert "records ended as _killed_: doomed_tasks.doomed" in said
    [record] = open_store().records()
    assert record.tags == {"_killed_"}
    assert record.outcome.startswith("smttask run (pid ") and "SIGKILL" in record.outcome


def test_without_supervision_the_killed_record_says_less(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write(".gitignore", "data/\nruns.txt\ntaskdir/\n")
    smt_project.commit(".gitignore")
    tasks = smt_project.write_module("doomed_tasks", SELF_KILL)
    folder = smt_project.root / "taskdir"
    tasks.doomed(x=2).save(folder)
    env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_ID"}  # not supervised
    result = subprocess.run(
        [SMTTASK, "run", str(folder)], cwd=smt_project.root, capture_output=True, text=True, env=env
    )
    assert result.returncode == -9  # the command itself was killed: nobody could say why
    [record] = open_store().records()
    assert record.tags == {"_killed_"} and "killed, crashed or out of memory" in record.outcome
