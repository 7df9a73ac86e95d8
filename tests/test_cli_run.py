"""`smttask run` with recording: every option, worker processes, many concurrent runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from smttask.cli import cli
from smttask.recording.journal import journal_dir
from smttask.recording.store import open_store

SMTTASK = str(Path(sys.executable).with_name("smttask"))

TASKS = """
import os, time
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    print("process", os.environ.get("SMTTASK_PROCESS_NUM"))
    return x * x

@RecordedTask
def nap(x: int) -> int:
    time.sleep(0.3)  # long enough for every worker to get some
    print("process", os.environ.get("SMTTASK_PROCESS_NUM"), os.getpid())
    return x

@RecordedTask
def fail(x: int) -> int:
    raise ValueError(f"x={x} is wrong")
"""


def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture
def taskdir(smt_project):  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("run_tasks", TASKS)
    folder = smt_project.root / "taskdir"
    for x in range(3):
        tasks.square(x=x).save(folder)
    return folder


def test_record_reason_and_labels_in_the_output(smt_project, taskdir) -> None:  # type: ignore[no-untyped-def]
    result = invoke("run", "--reason", "first batch", str(taskdir))
    assert result.exit_code == 0, result.output
    records = open_store().records()
    assert len(records) == 3 and {r.reason for r in records} == {"first batch"}
    for rec in records:
        assert f"record {rec.label}" in result.output
    again = invoke("run", str(taskdir))
    assert "0 ran, 3 loaded, 0 failed" in again.output
    assert len(open_store().labels()) == 3


def test_no_record_skips_records_and_the_clean_code_check(smt_project, taskdir) -> None:  # type: ignore[no-untyped-def]
    smt_project.write("run_tasks.py", TASKS + "\n# not committed\n")
    refused = invoke("run", str(taskdir))
    assert refused.exit_code == 1 and "Uncommitted changes" in refused.output
    result = invoke("run", "--no-record", str(taskdir))
    assert result.exit_code == 0 and "3 ran" in result.output
    assert open_store().labels() == []


def test_recompute_makes_new_files_and_new_records(smt_project, taskdir) -> None:  # type: ignore[no-untyped-def]
    assert invoke("run", str(taskdir)).exit_code == 0
    result = invoke("run", "--recompute", str(taskdir))
    assert "3 ran" in result.output
    assert len(open_store().labels()) == 6
    assert len(list((smt_project.root / "data" / "run_dump" / "square").glob("*.1.json"))) == 3


def test_clean_removes_the_task_files_that_succeeded(smt_project, taskdir) -> None:  # type: ignore[no-untyped-def]
    tasks = sys.modules["run_tasks"]
    bad = tasks.fail(x=1).save(taskdir)
    result = invoke("run", "--clean", str(taskdir))
    assert result.exit_code == 1
    assert [p.name for p in taskdir.iterdir()] == [bad.name]
    tags = sorted(t for r in open_store().records() for t in r.tags)
    assert tags == ["_crashed_"] + ["_finished_"] * 3
    assert invoke("run", "--keep", str(taskdir)).exit_code == 1 and bad.exists()


def test_quiet_and_verbose(smt_project, taskdir) -> None:  # type: ignore[no-untyped-def]
    sys.modules["run_tasks"].fail(x=2).save(taskdir)
    quiet = invoke("run", "-q", str(taskdir))
    assert "ran taskdir" not in quiet.output and "ran " not in quiet.output.split("\n")[0]
    assert "FAILED" in quiet.output and "x=2 is wrong" in quiet.output
    assert "Traceback" not in quiet.output
    verbose = invoke("run", "-v", "--recompute", str(taskdir))
    assert "Traceback" in verbose.output and "record " in verbose.output


def test_pdb_opens_the_debugger_and_still_records(smt_project, taskdir) -> None:  # type: ignore[no-untyped-def]
    bad = sys.modules["run_tasks"].fail(x=3).save(smt_project.root / "bad")
    done = subprocess.run(  # a real terminal session: the debugger reads its commands
        [SMTTASK, "run", "--pdb", str(bad)],
        cwd=smt_project.root,
        input="p x * 10\nq\n",
        capture_output=True,
        text=True,
    )
    assert "Entering the debugger" in done.stderr
    assert "(Pdb) 30" in done.stdout  # it stopped in the task's own frame
    assert done.returncode == 1
    [rec] = open_store().records()
    assert rec.tags == {"_crashed_"} and rec.outcome == "ValueError: x=3 is wrong"
    ok = invoke("run", "--pdb", "--clean", str(taskdir))
    assert ok.exit_code == 0 and "3 ran" in ok.output and not list(taskdir.iterdir())


def test_worker_processes_have_distinct_numbers_and_their_records_are_stored(
    smt_project, taskdir
) -> None:  # type: ignore[no-untyped-def]
    tasks = sys.modules["run_tasks"]
    for x in range(6):
        tasks.nap(x=x).save(taskdir)
    tasks.fail(x=0).save(taskdir)
    done = subprocess.run(
        [SMTTASK, "run", "-n", "3", str(taskdir)],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1  # one task failed; the others ran
    assert "9 ran, 0 loaded, 1 failed (of 10 task files)." in done.stderr
    records = open_store().records()
    assert len(records) == 10 and not list(journal_dir(smt_project.root).glob("*.jsonl"))
    workers = {
        tuple(r.stdout_stderr.split()[1:3])
        for r in records
        if r.script_arguments == "run_tasks.nap"
    }  # (number, pid) of the processes that ran the naps
    numbers = {number for number, _ in workers}
    assert len(workers) >= 2 and len(numbers) == len(workers) and numbers <= {"1", "2", "3"}


@pytest.mark.slow
def test_32_processes_with_5_tasks_each_into_one_store(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("many_tasks", TASKS)
    for job in range(32):
        for x in range(5):
            tasks.square(x=job * 100 + x).save(smt_project.root / f"job{job}")
    procs = [
        subprocess.Popen(
            [SMTTASK, "run", "-q", f"job{job}"],
            cwd=smt_project.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for job in range(32)
    ]
    results = [p.communicate() for p in procs]
    errors = [err for p, (_, err) in zip(procs, results) if p.returncode != 0 or "rror" in err]
    assert errors == []
    labels = open_store().labels()
    assert len(labels) == len(set(labels)) == 160
    outputs = list((smt_project.root / "data" / "run_dump" / "square").glob("*.json"))
    assert len(outputs) == 160
    assert not list(journal_dir(smt_project.root).glob("*.jsonl"))


def test_attempt_is_a_tag_of_every_record_of_the_run(smt_project, taskdir) -> None:  # type: ignore[no-untyped-def]
    tasks = sys.modules["run_tasks"]
    bad = tasks.fail(x=4).save(smt_project.root / "bad")
    assert invoke("run", "--attempt", "2", str(taskdir)).exit_code == 0
    assert invoke("run", "--attempt", "3", str(bad)).exit_code == 1
    assert invoke("run", str(bad)).exit_code == 1  # no attempt given: no attempt tag
    tags = sorted(tuple(sorted(r.tags)) for r in open_store().records())
    assert tags == [
        ("_crashed_",),
        ("_crashed_", "attempt:3"),
        *[("_finished_", "attempt:2")] * 3,
    ]
    refused = invoke("run", "--attempt", "0", str(bad))
    assert refused.exit_code == 2 and "--attempt" in refused.output


def test_attempt_reaches_worker_processes_and_killed_records(smt_project, taskdir) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module(
        "die_tasks",
        "import os, signal\nfrom smttask import RecordedTask\n\n@RecordedTask\n"
        "def die(x: int) -> int:\n    os.kill(os.getpid(), signal.SIGKILL)\n    return x\n",
    )
    sys.modules["die_tasks"].die(x=1).save(smt_project.root / "die")
    done = subprocess.run(
        [SMTTASK, "run", "-n", "2", "--attempt", "2", str(taskdir)],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    killed = subprocess.run([SMTTASK, "run", "--attempt", "4", "die"], cwd=smt_project.root)
    assert killed.returncode == -9  # SIGKILL: the record is completed from the journal
    records = open_store().records()
    assert sorted(tuple(sorted(r.tags)) for r in records) == [
        ("_finished_", "attempt:2"),
        ("_finished_", "attempt:2"),
        ("_finished_", "attempt:2"),
        ("_killed_", "attempt:4"),
    ]
    environment = {**os.environ, "SMTTASK_ATTEMPT": "two"}
    bad = subprocess.run(
        [SMTTASK, "run", "--recompute", str(taskdir)],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert bad.returncode == 1 and "SMTTASK_ATTEMPT='two' is not an attempt number" in bad.stderr
