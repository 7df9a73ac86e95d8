"""`smttask store find-output | rebuild | create-surrogates | merge | delete | flush` and
`smttask smt ...`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from smttask import config
from smttask.cli import cli
from smttask.errors import ProjectError, RecordingError
from smttask.recording.projectinit import InitOptions, init_project
from smttask.recording.store import open_store

TASKS = """
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    return x * x

@RecordedTask
def cube(x: int) -> int:
    return x * x * x
"""


def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture
def tasks(smt_project):  # type: ignore[no-untyped-def]
    return smt_project.write_module("store_tasks", TASKS)


def _link(project, task) -> Path:  # type: ignore[no-untyped-def]
    return project.root / "data" / task.name / f"{task.key}.json"


def _archive(project, task, n: str = "") -> Path:  # type: ignore[no-untyped-def]
    return project.root / "data" / "run_dump" / task.name / f"{task.key}{n}.json"


def test_find_output_names_the_record_and_checks_the_content(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    task = tasks.square(x=2)
    task.run()
    [label] = open_store().labels()
    for path in (_link(smt_project, task), _archive(smt_project, task)):
        result = invoke("store", "find-output", str(path))
        assert result.exit_code == 0, result.output
        assert label in result.output and "content as recorded" in result.output
    _archive(smt_project, task).write_text("5")
    assert "CONTENT CHANGED" in invoke("store", "find-output", str(_link(smt_project, task))).output

    config.settings.record = False
    unrecorded = tasks.square(x=3)
    unrecorded.run()
    result = invoke("store", "find-output", str(_link(smt_project, unrecorded)))
    assert result.exit_code == 1 and "create-surrogates" in result.output
    outside = smt_project.root / "store_tasks.py"
    assert isinstance(invoke("store", "find-output", str(outside)).exception, RecordingError)


def test_rebuild_recreates_missing_links_newest_first_and_is_idempotent(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    task = tasks.square(x=4)
    task.run()
    task.run(recompute=True)  # a second archive, numbered
    other = tasks.cube(x=2)
    other.run()
    _link(smt_project, task).unlink()
    _link(smt_project, other).unlink()
    dry = invoke("store", "rebuild", "--dry-run")
    assert "Would create 2 link(s)" in dry.output and not _link(smt_project, task).exists()
    result = invoke("store", "rebuild")
    assert "Created 2 link(s); 0 output(s) missing." in result.output
    assert _link(smt_project, task).resolve() == _archive(smt_project, task, ".1").resolve()
    assert _link(smt_project, other).exists()
    assert "Created 0 link(s)" in invoke("store", "rebuild").output
    _archive(smt_project, other).unlink()
    _link(smt_project, other).unlink()
    result = invoke("store", "rebuild")
    assert (
        "1 output(s) missing" in result.output
        and str(_archive(smt_project, other)) in result.output
    )


def test_create_surrogates_for_outputs_without_records(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    tasks.square(x=1).run()  # recorded
    config.settings.record = False
    described = tasks.square(x=5)
    described.run()
    tasks.cube(x=5).run()
    described.save(smt_project.root / "taskdir")
    dry = invoke("store", "create-surrogates", "--dry-run", "taskdir")
    assert "Would add 2 surrogate record(s) for 2 file(s)." in dry.output
    result = invoke("store", "create-surrogates", "taskdir")
    assert result.exit_code == 0 and "Added 2 surrogate" in result.output
    records = open_store().records()
    assert sorted(t for r in records for t in r.tags) == ["_finished_"] + ["_surrogate_"] * 2
    surrogates = [r for r in records if r.tags == {"_surrogate_"}]
    by_task = {r.parameters.as_dict()["task"]: r for r in surrogates}
    assert by_task["square"].parameters.as_dict() == described.desc
    assert by_task["cube"].parameters.as_dict()["task"] == "cube"  # no task file: name + key
    assert "unknown" in by_task["cube"].outcome
    assert "Added 0 surrogate" in invoke("store", "create-surrogates").output
    found = invoke("store", "find-output", str(_link(smt_project, described)))
    assert "_surrogate_" in found.output


def _other_project(tmp_path: Path, name: str) -> Path:
    other = tmp_path / name
    other.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *args], cwd=other, check=True)
    root_before = config.settings.project_root
    init_project(other, InitOptions(name=name))
    config.settings.project_root = root_before
    return other


def test_merge_another_store_reporting_collisions(smt_project, tasks, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording import find_project
    from smttask.recording.django.writer import write_records

    tasks.square(x=1).run()
    other = _other_project(tmp_path, "other")
    info = find_project(other)
    assert info is not None
    template = dict(open_store().records()[0].__dict__)  # a record to copy from
    mine = open_store().labels()[0]
    write_records(info, [_record(template, "20260101-000000_a_1", "x")])
    write_records(info, [_record(template, mine, "different")])  # same label, other run
    config.forget_project_root()

    dry = invoke("store", "merge", "--dry-run", str(other))
    assert "Would add 1 record(s); 0 already here; 1 collision(s)." in dry.output
    assert dry.exit_code == 1 and mine in dry.output
    result = invoke("store", "merge", str(other / ".smt" / "records"))
    assert "Added 1 record(s)" in result.output
    assert "20260101-000000_a_1" in open_store().labels()
    again = invoke("store", "merge", str(other))
    assert "Added 0 record(s); 1 already here; 1 collision(s)." in again.output
    assert isinstance(invoke("store", "merge", str(smt_project.root)).exception, ProjectError)


def _record(template: dict, label: str, reason: str) -> dict:  # type: ignore[type-arg]
    return {
        "label": label,
        "timestamp": template["timestamp"].isoformat(),
        "reason": reason,
        "parameters": template["parameters"].as_dict(),
        "tags": ["_finished_", "imported"],
        "script_arguments": "store_tasks.square",
        "executable": {"path": sys.executable, "name": "Python", "version": "3", "options": ""},
        "repository": {"url": "/elsewhere", "upstream": None},
        "datastore": "/elsewhere/data/run_dump",
        "input_datastore": "/elsewhere/data",
        "launch_mode": {"working_directory": "/elsewhere"},
    }


def test_delete_records_and_their_outputs(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    keep, drop = tasks.square(x=7), tasks.cube(x=7)
    keep.run()
    drop.run()
    assert invoke("store", "delete").exit_code == 2  # nothing selected: usage error
    dry = invoke("store", "delete", "--task", "cube", "--dry-run")
    assert "Would delete 1 record(s), 2 file(s)." in dry.output
    assert _archive(smt_project, drop).exists()
    result = invoke("store", "delete", "--task", "cube", input="y\n")
    assert "Deleted 1 record(s), 2 file(s)." in result.output
    assert not _archive(smt_project, drop).exists() and not _link(smt_project, drop).is_symlink()
    assert [r.script_arguments for r in open_store().records()] == ["store_tasks.square"]
    [label] = open_store().labels()
    result = invoke("store", "delete", label, "--keep-outputs", "--yes")
    assert "Deleted 1 record(s), 0 file(s)." in result.output
    assert _archive(smt_project, keep).exists() and open_store().labels() == []
    assert isinstance(invoke("store", "delete", "nolabel", "-y").exception, RecordingError)
    typo = invoke("store", "delete", "--task", "squar", "-y").exception  # a typo deletes nothing
    assert isinstance(typo, RecordingError) and "No record of a task named 'squar'" in str(typo)
    assert _archive(smt_project, keep).exists()


def test_delete_by_tag_and_flush(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    script = "import store_tasks\nstore_tasks.square(x=9).run()\n"
    env = {"SMTTASK_FLUSH_RECORDS": "0", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], cwd=smt_project.root, env=env, check=True)
    result = invoke("store", "flush")
    assert result.output.startswith("1 record(s) moved from 1 journal(s).")
    [label] = open_store().labels()
    assert invoke("smt", "tag", "obsolete", label).exit_code == 0
    assert "Deleted 1 record(s)" in invoke("store", "delete", "--tag", "obsolete", "-y").output


def test_smt_passes_through_to_sumatra_after_moving_journaled_records(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    script = "import store_tasks\nstore_tasks.square(x=11).run()\n"
    env = {"SMTTASK_FLUSH_RECORDS": "0", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], cwd=smt_project.root, env=env, check=True)
    listed = invoke("smt", "list")  # the journal of the ended process moves first
    assert listed.exit_code == 0 and "_square_" in listed.output
    label = listed.output.split()[0]
    assert invoke("smt", "tag", "good", label).exit_code == 0
    assert invoke("smt", "list", "good").output.split() == [label]
    assert "Project name" in invoke("smt", "info").output
    assert "store_tasks.square" in invoke("smt", "view", label).output
    assert "tags" in invoke("smt", "list", "--help").output.lower()
    helped = invoke("smt", "--help")
    assert helped.exit_code == 0 and "list" in helped.output and "view" in helped.output
    bad = invoke("smt", "run", "x.py")
    assert bad.exit_code == 2 and "smttask run" in bad.output
    missing = invoke("smt", "view", "no-such-label")
    assert isinstance(missing.exception, RecordingError)


def test_store_help_explains_each_command(smt_project) -> None:  # type: ignore[no-untyped-def]
    for command in ("find-output", "rebuild", "create-surrogates", "merge", "delete", "flush"):
        result = invoke("store", command, "--help")
        assert result.exit_code == 0 and len(result.output.splitlines()) > 5, command


CHAIN = """
from smttask import RecordedTask

@RecordedTask
def base(x: int) -> int:
    return x + 1

@RecordedTask
def double(y: int) -> int:
    return 2 * y
"""


def test_smt_tag_and_comment_work_on_records_with_equal_parameters_and_inputs(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("chain", CHAIN)
    task = tasks.double(y=tasks.base(x=1))
    task.run()
    task.run(recompute=True)  # same parameters, same input file: two records
    store = open_store()
    twins = [r.label for r in store.records() if "double" in r.label]
    assert len(twins) == 2
    smttask = str(Path(sys.executable).with_name("smttask"))

    def smt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([smttask, "smt", *args], cwd=smt_project.root, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)  # fmt: skip

    done = smt("tag", "checked", *twins)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    done = smt("comment", twins[0], "looks right")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert sorted(smt("list", "checked").stdout.split()) == sorted(twins)
    again = {r.label: r for r in open_store().records(twins)}
    assert all("checked" in r.tags for r in again.values())
    assert "looks right" in again[twins[0]].outcome
    assert [len(r.input_data) for r in again.values()] == [1, 1]
