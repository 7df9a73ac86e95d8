"""The record store: Sumatra's Django store on SQLite (WAL) or PostgreSQL, written in batches."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from smttask import recording
from smttask.recording.journal import journal_dir
from smttask.recording.projectinit import InitOptions, init_project
from smttask.recording.store import open_store

SMTTASK = str(Path(sys.executable).with_name("smttask"))

TASKS = """
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    print("x =", x)
    return x * x
"""


def _fields(rec):  # type: ignore[no-untyped-def]
    return {
        "parameters": rec.parameters.as_dict(),
        "tags": rec.tags,
        "outputs": [(k.path, k.digest, k.creation, k.metadata) for k in rec.output_data],
        "inputs": [(k.path, k.digest) for k in rec.input_data],
        "dependencies": sorted((d.name, d.path, d.version) for d in rec.dependencies),
        "platforms": [vars(p) for p in rec.platforms],
        "executable": (rec.executable.path, rec.executable.name, rec.executable.version),
        "repository": (rec.repository.url, rec.repository.upstream),
        "launch_mode": rec.launch_mode.__getstate__(),
        "datastore": (rec.datastore.root, rec.input_datastore.root),
        "rest": (rec.main_file, rec.version, rec.script_arguments, rec.reason, rec.outcome,
                 rec.duration, rec.timestamp, rec.stdout_stderr, rec.user, rec.diff),
    }  # fmt: skip


def test_sqlite_store_uses_wal_and_batch_rows_read_back_like_sumatras_own(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("stasks", TASKS)
    tasks.square(x=2).run()
    store = open_store()
    with sqlite3.connect(smt_project.root / ".smt" / "records") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    [ours] = store.records()
    expected = _fields(ours)
    # Sumatra's own save of the same record, read back: identical in every field. (Sumatra
    # moves equal output keys to the record it saves last, so `ours` is read before.)
    ours.label = "copy_by_sumatra"
    store.sumatra_store().save(store.project_name, ours)
    assert _fields(store.get("copy_by_sumatra")) == expected


def test_moving_a_journal_twice_keeps_one_record_per_label(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("ttasks", TASKS)
    tasks.square(x=3).run()
    rec = recording.RECORDER.projects[smt_project.root]
    batch = list(rec.pending)
    recording.flush()
    from smttask.recording.django.writer import write_records

    write_records(rec.info, batch)  # e.g. a crash between the store commit and the journal
    assert len(open_store().labels()) == 1
    assert open_store().records()[0].tags == {"_finished_"}


def test_a_torn_last_journal_line_is_ignored(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module("jtasks", TASKS)
    script = "import jtasks\nfor x in range(2): jtasks.square(x=x).run()\n"
    env = {"SMTTASK_FLUSH_RECORDS": "0", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], cwd=smt_project.root, env=env, check=True)
    [journal] = journal_dir(smt_project.root).glob("*.jsonl")
    with open(journal, "a") as f:
        f.write('{"kind": "begin", "label": "half-writ')  # a process killed mid-write
    report = recording.flush()
    assert (report.records, report.journals) == (2, 1)


def test_concurrent_processes_lose_no_record(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module("ctasks", TASKS)
    script = (
        "import sys, ctasks\nfor x in range(5): ctasks.square(x=int(sys.argv[1]) * 10 + x).run()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(i)], cwd=smt_project.root)
        for i in range(8)
    ]
    assert all(p.wait() == 0 for p in procs)
    labels = open_store().labels()
    assert len(labels) == len(set(labels)) == 40


def test_each_project_keeps_its_own_records_in_one_process(
    smt_project, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from smttask import config

    tasks = smt_project.write_module("ptasks", TASKS)
    tasks.square(x=1).run()
    recording.flush()
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=other, check=True)
    (other / "more.py").write_text(TASKS)
    subprocess.run(["git", "add", "."], cwd=other, check=True)
    subprocess.run(["git", "commit", "-qm", "x"], cwd=other, check=True)
    init_project(other, InitOptions(name="other"))
    monkeypatch.chdir(other)
    monkeypatch.setenv("SMTTASK_PROJECT_ROOT", str(other))
    monkeypatch.setattr(config, "settings", config.Settings())
    monkeypatch.syspath_prepend(str(other))
    import more

    more.square(x=2).run()
    more.square(x=3).run()
    assert len(open_store().labels()) == 2
    assert len(open_store(smt_project.root).labels()) == 1


def test_postgresql_store(project, postgres_dsn) -> None:  # type: ignore[no-untyped-def]
    init_project(project.root, InitOptions(name="pg", store=postgres_dsn))
    data = json.loads((project.root / ".smt" / "project").read_text())
    assert data["record_store"]["db_file"] == postgres_dsn
    tasks = project.write_module("pgtasks", TASKS)
    for x in range(3):
        tasks.square(x=x).run()
    script = (
        "import sys, pgtasks\nfor x in range(3): pgtasks.square(x=int(sys.argv[1]) + x).run()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(10 * i)], cwd=project.root)
        for i in range(1, 5)
    ]
    assert all(p.wait() == 0 for p in procs)  # four processes writing at once
    store = open_store()
    assert len(store.labels()) == 3 + 4 * 3
    assert {r.tags.pop() for r in store.records()} == {"_finished_"}
    listed = subprocess.run(
        [SMTTASK, "smt", "list"], cwd=project.root, capture_output=True, text=True, check=True
    )
    assert len(listed.stdout.split()) == 15


def _left_journals(smt_project, module: str, runs: int) -> list[Path]:  # type: ignore[no-untyped-def]
    """Journals of `runs` ended processes, two records each, left for a flush."""
    smt_project.write_module(module, TASKS)
    env = {"SMTTASK_FLUSH_RECORDS": "0", "PATH": "/usr/bin:/bin"}
    for i in range(runs):
        script = f"import {module}\nfor x in range(2): {module}.square(x={10 * i} + x).run()\n"
        subprocess.run([sys.executable, "-c", script], cwd=smt_project.root, env=env, check=True)
    return sorted(journal_dir(smt_project.root).glob("*.jsonl"))


def _counting_writes(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    from smttask.recording import store

    writes: list[int] = []
    real = store.backend

    def backend(info):  # type: ignore[no-untyped-def]
        found = real(info)
        write = found.write

        def counted(records):  # type: ignore[no-untyped-def]
            writes.append(len(records))
            return write(records)

        found.write = counted
        return found

    monkeypatch.setattr(store, "backend", backend)
    return writes


def test_the_journals_of_many_ended_processes_move_in_one_write(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    journals = _left_journals(smt_project, "mtasks", 3)
    assert len(journals) == 3
    writes = _counting_writes(monkeypatch)
    report = recording.flush()
    assert (report.records, report.journals, report.errors) == (6, 3, [])
    assert writes == [6]  # one transaction for all of them
    assert not any(j.exists() for j in journals)
    labels = open_store().labels()
    assert len(labels) == len(set(labels)) == 6


def test_a_record_in_two_journals_is_one_row_counted_once(smt_project) -> None:  # type: ignore[no-untyped-def]
    journals = _left_journals(smt_project, "dtasks", 2)
    copy = journals[0].with_name("copied-1-0.jsonl")
    copy.write_bytes(journals[0].read_bytes())  # a journal copied by hand: the same records
    report = recording.flush()
    assert (report.records, report.journals, report.errors) == (4, 3, [])
    assert not copy.exists() and not any(j.exists() for j in journals)
    labels = open_store().labels()
    assert len(labels) == len(set(labels)) == 4


def test_a_journal_that_cannot_be_stored_holds_back_no_other(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import re

    good = _left_journals(smt_project, "btasks", 3)
    damaged = good[0].with_name("damaged-1-0.jsonl")
    damaged.write_text(good[0].read_text().replace('"kind":"end"', '"kind":"end', 1))
    unlabelled = good[0].with_name("unlabelled-1-0.jsonl")
    unlabelled.write_text(re.sub(r'"label":"[^"]*"', '"label":5', good[0].read_text()))
    writes = _counting_writes(monkeypatch)
    report = recording.flush(strict=False)
    assert (report.records, report.journals) == (6, 3)
    assert sorted(Path(e.split(": ", 1)[0]).name for e in report.errors) == [
        damaged.name,
        unlabelled.name,
    ]
    assert damaged.exists() and unlabelled.exists()  # left for a later try
    assert not any(j.exists() for j in good)
    # together, then one by one (the two records of the unlabelled journal now share a label)
    assert writes[0] == 7 and sorted(writes[1:]) == [1, 2, 2, 2]
    assert len(open_store().labels()) == 6
