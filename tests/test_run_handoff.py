"""`smttask run` leaves its records to a detached mover: the run imports no record store, and
every record reaches the store exactly once, whoever moves it and whenever a mover dies."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from smttask.recording import flush
from smttask.recording.journal import journal_dir, wait_for_movers
from smttask.recording.store import open_store

TASKS = """
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    return x * x
"""

#: `smttask run` as its console script does it, under `python -X importtime`.
RUN = "import sys; from smttask.cli import main; sys.argv[0] = 'smttask'; sys.exit(main())"

#: Packages a run of a task file of plain ints needs none of: the record store (Sumatra,
#: Django, GitPython) and the validation of richer types (pydantic, scityping, numpy).
NOT_IMPORTED = ("django", "sumatra", "git", "pydantic", "scityping", "numpy")


def imported(stderr: str) -> set[str]:
    """Top-level names of the modules `-X importtime` reported."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name.split(".")[0])
    return names


def journals(root: Path) -> list[Path]:
    folder = journal_dir(root)
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


@pytest.fixture
def taskfiles(smt_project):  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("handoff_tasks", TASKS)
    return [tasks.square(x=x).save(smt_project.root / "tasks" / f"t{x}") for x in range(4)]


def test_a_run_imports_no_store_and_its_record_is_in_the_store(smt_project, taskfiles) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", RUN, "run", str(taskfiles[0])],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = imported(done.stderr)
    assert "smttask" in names and not names & set(NOT_IMPORTED), names & set(NOT_IMPORTED)
    [line] = [ln for ln in done.stderr.splitlines() if ln.startswith("ran ")]
    label = line.rsplit("record ", 1)[1]
    # The mover moves it: once it is done (waited for, nothing moved here), the journal is
    # gone and the record in the store.
    wait_for_movers(journal_dir(smt_project.root))
    assert journals(smt_project.root) == []
    assert open_store(flush_first=False).labels() == [label]
    store = open_store()  # a reader: waits for the mover, if it is still moving the journal
    assert store.labels() == [label]
    assert store.record(label)["tags"] == ["_finished_"]
    assert journals(smt_project.root) == []
    # A hit: nothing recorded, nothing moved, no record store either.
    again = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", RUN, "run", str(taskfiles[0])],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0 and "0 ran, 1 loaded" in again.stderr
    assert not imported(again.stderr) & set(NOT_IMPORTED)
    assert open_store().labels() == [label]


def test_concurrent_runs_movers_and_readers_store_each_record_once(smt_project, taskfiles) -> None:  # type: ignore[no-untyped-def]
    smttask = str(Path(sys.executable).with_name("smttask"))
    runs = [
        subprocess.Popen([smttask, "run", "-q", str(f)], cwd=smt_project.root) for f in taskfiles
    ]
    for process in runs:
        assert process.wait() == 0
    # Two readers at once, while the runs' movers may still be at work (each journal is moved
    # by its mover or by a reader, never by both).
    readers = [
        subprocess.Popen([smttask, "store", "flush"], cwd=smt_project.root, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in readers:
        assert process.wait() == 0
    labels = open_store().labels()
    assert len(labels) == len(set(labels)) == len(taskfiles)
    assert journals(smt_project.root) == []


HAND_OFF = """
import sys
from pathlib import Path

import handoff_tasks
from smttask.recording.handoff import hand_off

handoff_tasks.square(x=7).run()
# A "mover" that holds the journal and its lock, and moves nothing.
print(hand_off(Path.cwd(), mover=[sys.executable, "-c", "import time; time.sleep(120)"]))
"""


def test_a_mover_that_dies_leaves_the_journal_to_the_next_flush(smt_project, taskfiles) -> None:  # type: ignore[no-untyped-def]
    """The mover here is a process that holds the journal (and its lock) and never moves it,
    until it is killed, as a SLURM job's end would kill a real one."""
    done = subprocess.run(
        [sys.executable, "-c", HAND_OFF],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
        env={**os.environ, "SMTTASK_FLUSH_INTERVAL": "1000"},
    )
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[-1])
    try:
        [journal] = journals(smt_project.root)
        assert journal.read_text().splitlines()[-1] == '{"kind":"handoff"}'
        # Without waiting, a flush leaves a journal another process holds.
        assert flush(smt_project.root, wait=False).records == 0
        killer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))
        killer.start()
        report = flush(smt_project.root)  # waits for the holder, which dies: moves it here
        killer.join()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert (report.records, report.journals, report.killed) == (1, 1, 0)
    assert journals(smt_project.root) == []
    [label] = open_store().labels()
    assert open_store().record(label)["tags"] == ["_finished_"]
    assert flush(smt_project.root).records == 0  # moved once


def test_the_process_records_on_in_a_new_journal_after_a_hand_off(smt_project, taskfiles) -> None:  # type: ignore[no-untyped-def]
    """Records made after a hand-off go to a new journal (with its own context line), which
    the mover of the first never deletes."""
    script = HAND_OFF.replace('[sys.executable, "-c", "import time; time.sleep(120)"]', "None") + (
        "handoff_tasks.square(x=8).run()\n"
        "print(hand_off(Path.cwd()))\n"
        "handoff_tasks.square(x=9).run()\n"  # stored at exit, by this process
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
        env={**os.environ, "SMTTASK_FLUSH_INTERVAL": "1000"},
    )
    assert done.returncode == 0, done.stderr
    assert all(line.isdigit() for line in done.stdout.split()), done.stdout
    store = open_store()
    tasks = sorted(store.record(label)["parameters"]["inputs"]["x"] for label in store.labels())
    assert tasks == [7, 8, 9]
    assert journals(smt_project.root) == []


SESSION = """
import sys
import handoff_tasks
for x in range(12):
    handoff_tasks.square(x=x).run()
print("django" in sys.modules)
"""


def test_a_session_leaves_its_batches_and_last_records_to_movers(smt_project, taskfiles) -> None:  # type: ignore[no-untyped-def]
    """A session that has not imported the record store leaves each batch (every 5 records
    here) and its records at exit to detached movers: it never imports Django, and every
    record reaches the store once, complete."""
    done = subprocess.run(
        [sys.executable, "-c", SESSION],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
        env={**os.environ, "SMTTASK_FLUSH_EVERY": "5", "SMTTASK_FLUSH_INTERVAL": "1000"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]
    store = open_store()  # a reader: waits for the movers
    assert journals(smt_project.root) == []
    labels = store.labels()
    assert len(labels) == len(set(labels)) == 12
    head = smt_project.git("rev-parse", "HEAD").strip()
    for label in labels:
        record = store.record(label)
        assert record["tags"] == ["_finished_"] and record["version"] == head
        assert record["executable"]["path"] == sys.executable
        assert record["main_file"] == "handoff_tasks.py"
        assert len(record["platforms"]) == 1
        assert {"smttask"} <= {d["name"] for d in record["dependencies"]}
        [key] = record["output_data"]
        data = Path(record["datastore"], key["path"])
        assert key["digest"] == hashlib.sha1(data.read_bytes()).hexdigest()
    xs = sorted(store.record(label)["parameters"]["inputs"]["x"] for label in labels)
    assert xs == list(range(12))


def test_a_long_session_stores_its_later_batches_itself(smt_project, taskfiles) -> None:  # type: ignore[no-untyped-def]
    """Past its first few batches (each left to a mover costing about a second of CPU), a
    session stores its batches itself: 12 records in batches of 2 start 3 movers, then load
    the store here; every record is stored once."""
    from smttask.recording.recorder import MOVED_BATCHES

    done = subprocess.run(
        [sys.executable, "-c", SESSION],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
        env={**os.environ, "SMTTASK_FLUSH_EVERY": "2", "SMTTASK_FLUSH_INTERVAL": "1000"},
    )
    assert done.returncode == 0, done.stderr
    assert MOVED_BATCHES * 2 < 12
    assert done.stdout.split() == ["True"]  # the store was loaded here for later batches
    store = open_store()
    assert journals(smt_project.root) == []
    labels = store.labels()
    assert len(labels) == len(set(labels)) == 12
    xs = sorted(store.record(label)["parameters"]["inputs"]["x"] for label in labels)
    assert xs == list(range(12))
