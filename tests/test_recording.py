"""One Sumatra record per recorded execution, with the fields docs/recording.md describes."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from smttask import TaskExecutionError, recording
from smttask.recording.store import open_store

SMTTASK = str(Path(sys.executable).with_name("smttask"))

TASKS = """
from smttask import MemoizedTask, RecordedTask, TaskOutput

class Stats(TaskOutput):
    mean: float
    n: int

@RecordedTask
def square(x: int) -> int:
    print("squaring", x)
    return x * x

@RecordedTask
def stats(values: list) -> Stats:
    return {"mean": sum(values) / len(values), "n": len(values), "outcome": "converged"}

@MemoizedTask
def double(x: int) -> int:
    return 2 * x

@RecordedTask
def total(a: int, b: int) -> int:
    return a + b

@RecordedTask
def fail(x: int) -> int:
    print("about to fail")
    raise ValueError(f"bad x={x}")
"""


def _records() -> list:  # type: ignore[type-arg]
    return open_store().records()


def test_one_record_per_execution_with_task_description_code_and_outputs(
    smt_project, capsys
) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("rec_tasks", TASKS)
    task = tasks.square(x=3)
    assert task.run(reason="first try") == 9
    assert task.run() == 9  # loaded from disk: no second record
    assert "squaring 3" in capsys.readouterr().out  # the tee still shows the output

    [rec] = _records()
    head = smt_project.git("rev-parse", "HEAD").strip()
    assert rec.parameters.as_dict() == json.loads(json.dumps(task.desc))
    assert rec.main_file == "rec_tasks.py"
    assert rec.script_arguments == "rec_tasks.square"
    assert rec.version == head and rec.diff == ""
    assert Path(rec.repository.url) == smt_project.root
    assert rec.executable.name == "Python"
    assert rec.executable.version == platform.python_version()
    [machine] = rec.platforms  # as Sumatra's own probe names this machine
    assert (machine.system_name, machine.network_name, machine.release) == (
        platform.system(),
        platform.node(),
        platform.release(),
    )
    assert (machine.version, machine.machine) == (platform.version(), platform.machine())
    assert rec.reason == "first try"
    assert rec.tags == {"_finished_"}
    assert rec.duration > 0
    assert rec.stdout_stderr == "squaring 3\n"
    assert rec.user.startswith("Test <test@example.org>")
    [key] = rec.output_data
    archive = smt_project.root / "data" / "run_dump" / key.path
    assert key.path == f"square/{task.key}.json"
    assert key.digest == hashlib.sha1(archive.read_bytes()).hexdigest()
    assert key.metadata["size"] == archive.stat().st_size


def test_dependencies_are_the_imported_packages_with_their_versions(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("dep_tasks", TASKS)
    tasks.square(x=4).run()
    [rec] = _records()
    deps = {d.name: d.version for d in rec.dependencies}
    for name in ("numpy", "pydantic", "scityping", "smttask"):
        assert deps[name] == importlib.metadata.version(name)
    assert "dep_tasks" not in deps  # the project's own code: its version is the commit
    assert "os" not in deps and "json" not in deps  # the standard library is not listed


def test_named_outputs_and_returned_outcome(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("out_tasks", TASKS)
    task = tasks.stats(values=[1, 2, 3])
    task.run()
    [rec] = _records()
    assert rec.outcome == "converged"
    by_output = {k.metadata["output"]: k.path for k in rec.output_data}
    assert by_output == {"mean": f"stats/{task.key}_mean.json", "n": f"stats/{task.key}_n.json"}


def test_upstream_results_are_recorded_as_input_data(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("up_tasks", TASKS)
    first = tasks.square(x=5)
    task = tasks.total(a=first, b=tasks.double(x=1))
    assert task.run() == 27
    recs = {r.script_arguments: r for r in _records()}
    assert set(recs) == {"up_tasks.square", "up_tasks.total"}  # memoized: no record
    [key] = recs["up_tasks.total"].input_data
    assert key.path == f"square/{first.key}.json"
    assert key.digest == recs["up_tasks.square"].output_data[0].digest
    assert key.metadata["role"] == "upstream" and key.metadata["output"] == ""
    assert key.metadata["archive"] == recs["up_tasks.square"].output_data[0].path


def test_an_upstream_result_read_from_its_archive_is_listed_too(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("arch_tasks", TASKS)
    first = tasks.square(x=6)
    first.run()
    link = Path(first.output_paths[""])
    link.unlink()  # the task now reads the archive itself
    tasks.total(a=first, b=1).run()
    recs = {r.script_arguments: r for r in _records()}
    [key] = recs["arch_tasks.total"].input_data
    assert key.path == f"run_dump/square/{first.key}.json"
    assert key.digest == recs["arch_tasks.square"].output_data[0].digest


def test_a_crash_is_recorded_with_the_exception_and_output(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("crash_tasks", TASKS)
    with pytest.raises(TaskExecutionError, match="bad x=1"):
        tasks.fail(x=1).run()
    [rec] = _records()
    assert rec.tags == {"_crashed_"}
    assert rec.outcome == "ValueError: bad x=1"
    assert rec.stdout_stderr.startswith("about to fail\n")
    assert "Traceback" in rec.stdout_stderr and "ValueError: bad x=1" in rec.stdout_stderr
    assert rec.output_data == []


def test_records_never_touch_the_network(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def no_network(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError(f"network access during recording: {args}")

    tasks = smt_project.write_module("net_tasks", TASKS)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "gethostbyname", no_network)
    tasks.square(x=6).run()
    recording.flush()
    [rec] = _records()
    assert rec.platforms[0].ip_addr == "127.0.0.1"
    assert rec.platforms[0].network_name == platform.node()


def test_labels_stay_unique_for_tasks_started_in_the_same_second(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("many_tasks", TASKS)
    for x in range(50):
        tasks.square(x=x).run()
    labels = open_store().labels()
    assert len(labels) == len(set(labels)) == 50


def test_records_reach_sumatra_at_process_exit(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module("exit_tasks", TASKS)
    script = "import exit_tasks\nfor x in range(3): exit_tasks.square(x=x).run()\n"
    subprocess.run([sys.executable, "-c", script], check=True, cwd=smt_project.root)
    # A detached mover stores them (the process imported no record store); `smttask smt`
    # waits for it, and the journal is gone once they are stored.
    out = subprocess.run(
        [SMTTASK, "smt", "list"],
        capture_output=True,
        text=True,
        check=True,
        cwd=smt_project.root,
    )
    assert len(out.stdout.split()) == 3
    assert not list((smt_project.root / ".smt" / "journal").glob("*.jsonl"))


KILLER = """
import os, signal, sys, time
import kill_tasks
for x in range(3):
    kill_tasks.square(x=x).run()
print("recorded", flush=True)
if sys.argv[1] == "after":
    os.kill(os.getpid(), signal.SIGKILL)
kill_tasks.slow(x=1).run()
"""


@pytest.mark.parametrize("when", ["after", "during"])
def test_a_record_reported_as_written_survives_kill_9(smt_project, when) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module(
        "kill_tasks",
        TASKS
        + textwrap.dedent("""
        import os, signal
        @RecordedTask
        def slow(x: int) -> int:
            os.kill(os.getpid(), signal.SIGKILL)
            return x
        """),
    )
    done = subprocess.run(
        [sys.executable, "-c", KILLER, when], cwd=smt_project.root, capture_output=True, text=True
    )
    assert done.returncode == -signal.SIGKILL and "recorded" in done.stdout
    journals = list((smt_project.root / ".smt" / "journal").glob("*.jsonl"))
    assert len(journals) == 1  # nothing moved yet: the process never reached its exit
    report = recording.flush()
    assert report.records == (3 if when == "after" else 4)
    tags = sorted(t for r in _records() for t in r.tags)
    assert tags == ["_finished_"] * 3 + (["_killed_"] if when == "during" else [])
    assert not journals[0].exists()


def test_a_running_process_journal_is_left_alone(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module("live_tasks", TASKS)
    script = "import sys, live_tasks\nlive_tasks.square(x=1).run()\nprint('ok', flush=True)\n"
    script += "sys.stdin.read()\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=smt_project.root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "SMTTASK_FLUSH_RECORDS": "0"},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "squaring 1"
        assert proc.stdout.readline().strip() == "ok"
        assert recording.flush().records == 0  # the owner is alive: its journal is its own
    finally:
        proc.communicate("")
    assert recording.flush().records == 1  # now gone: its records move


def test_docs_recording_examples_run(smt_project) -> None:  # type: ignore[no-untyped-def]
    from test_docs import run_doc

    run_doc("recording.md", smt_project)


def test_iterative_tasks_are_recorded_per_iteration(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module(
        "iter_tasks",
        """
        from smttask import RecordedIterativeTask, TaskOutput

        class State(TaskOutput):
            n: int
            x: float

        @RecordedIterativeTask("n", map={"n": "start_n", "x": "x0"})
        def walk(n: int, x0: float = 0.0, start_n: int = 0) -> State:
            x = x0
            for _ in range(start_n, n):
                x += 1.5
            return n, x
        """,
    )
    tasks.walk(n=2).run()
    tasks.walk(n=5).run()  # resumes from n=2
    records = sorted(_records(), key=lambda r: r.timestamp)
    assert [r.parameters.as_dict()["inputs"]["n"] for r in records] == [2, 5]
    paths = sorted(k.path for k in records[1].output_data)
    assert all("__n5" in p for p in paths) and len(paths) == 2
    # The earlier iteration it resumed from is listed among the results it read.
    resumed = sorted(records[1].input_data, key=lambda k: k.path)
    assert [k.metadata["role"] for k in resumed] == ["resumed", "resumed"]
    assert all("__n2" in k.path for k in resumed)
    first = {k.path: k.digest for k in records[0].output_data}
    assert {k.metadata["archive"]: k.digest for k in resumed} == first
    assert {k.metadata["output"] for k in resumed} == {"n", "x"}


def test_without_flushing_a_process_writes_only_its_journal(smt_project) -> None:  # type: ignore[no-untyped-def]
    # What exported workflows do on compute nodes: no store write, however many records or
    # however long the process runs; the next store command moves the records.
    smt_project.write_module("journal_tasks", TASKS)
    script = "import journal_tasks\nfor x in range(3):\n    journal_tasks.square(x=x).run()\n"
    env = {
        **os.environ,
        "SMTTASK_FLUSH_RECORDS": "0",
        "SMTTASK_FLUSH_EVERY": "1",
        "SMTTASK_FLUSH_INTERVAL": "0",
    }
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=smt_project.root,
        env=env,
        check=True,
        capture_output=True,
    )
    assert open_store(flush_first=False).records() == []
    assert len(list((smt_project.root / ".smt/journal").glob("*.jsonl"))) == 1
    assert recording.flush().records == 3
    assert len(_records()) == 3
