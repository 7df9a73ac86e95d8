"""SumatraTask 0.2 task files: converted by `smttask migrate` with new digests, refused by
`Task.from_desc` and `smttask run`, never a hit on an old result file.

The old files below are written by hand in the original's format: a JSON object with
``taskname``, ``module``, ``inputs`` (which also hold the old ``digest``, ``hashed_digest``
and ``unhashed_digests``) and ``reason``; upstream tasks embedded as such objects; Join tasks
with ``generator_module``/``generator_function``/``generator_args``/``generator_kwargs``;
results in ``<input store>/<taskname>/<digest>_<output name>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from smttask import Task, TaskFileError
from smttask.cli import cli
from smttask.migrate import convert, is_old_desc, migrate

TASKS = """
from typing import List

from scityping.numpy import Array

from smttask import RecordedIterativeTask, RecordedTask, TaskOutput


@RecordedTask
def square(x: float) -> float:
    return x * x


@RecordedTask
def shift(y: float, by: float = 1.0) -> float:
    return y + by


@RecordedTask
def norm(arr: Array) -> float:
    return float((arr ** 2).sum() ** 0.5)


class WalkOut(TaskOutput):
    n: int
    x: float


@RecordedIterativeTask("n", map={"n": "start_n", "x": "x0"})
def walk(n: int, x0: float = 0.0, start_n: int = 0) -> WalkOut:
    return WalkOut(n=n, x=x0 + (n - start_n))
"""

ARRAY = [
    "scityping.numpy._ArrayType",
    {
        "data": [
            "scityping.numpy.ListArrayData",
            [
                [
                    "scityping.base_types.Type",
                    {"module": "scityping.numpy", "name": "ListArrayData"},
                ],
                {"data": [3.0, 4.0], "dtype": ["scityping.numpy.DType", {"desc": "float64"}]},
            ],
        ]
    },
]


def old(taskname: str, inputs: dict, digest: str, reason: str | None = None, **extra) -> dict:  # type: ignore[type-arg, no-untyped-def]
    digests = {"digest": digest, "hashed_digest": digest.split("__")[0], "unhashed_digests": {}}
    return {
        "taskname": taskname,
        "module": "old_tasks",
        "inputs": {**digests, **inputs},
        "reason": reason,
        **extra,
    }


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    return project.write_module("old_tasks", TASKS)


@pytest.fixture
def oldfiles(project, tasks) -> Path:  # type: ignore[no-untyped-def]
    folder = project.root / "old"
    folder.mkdir()
    upstream = old("square", {"x": 3.0}, "1a2b3c4d5e")
    files = {
        "square": old("square", {"x": 3.0}, "1a2b3c4d5e", reason="first try"),
        "shift": old("shift", {"y": upstream, "by": 0.5}, "5e4d3c2b1a"),
        "norm": old("norm", {"arr": ARRAY}, "0f0f0f0f0f"),
        "walk": old("walk", {"n": 4, "x0": 0.0, "start_n": 0}, "abcdefabcd__n_4"),
        "join": old(
            "JoinCreator.Join[square]",
            {
                "tasks": [
                    old("square", {"x": 1.0}, "aaaaaaaaaa"),
                    old("square", {"x": 2.0}, "bbbbbbbbbb"),
                ]
            },
            "cccccccccc",
            generator_module="smttask.task_generators",
            generator_function="JoinCreator",
            generator_args=[["smttask.typing.Type", {"module": "old_tasks", "name": "square"}]],
            generator_kwargs={},
        ),
    }
    for name, desc in files.items():
        (folder / f"{name}__{desc['inputs']['digest']}.taskdesc.json").write_text(
            json.dumps(desc, indent=2)
        )
    return folder


def _file(folder: Path, name: str) -> Path:
    return next(folder.glob(f"{name}__*.json"))


def test_old_files_convert_to_the_same_tasks_with_new_digests(tasks, oldfiles) -> None:  # type: ignore[no-untyped-def]
    sq = migrate(_file(oldfiles, "square"))
    assert sq.task == tasks.square(x=3.0) and sq.reason == "first try"
    assert sq.old_digest == "1a2b3c4d5e" and sq.task.digest != sq.old_digest
    sh = migrate(_file(oldfiles, "shift")).task
    assert sh == tasks.shift(y=tasks.square(x=3.0), by=0.5)
    nm = migrate(_file(oldfiles, "norm")).task
    assert np.array_equal(nm.inputs["arr"], [3.0, 4.0]) and nm.run() == 5.0
    wk = migrate(_file(oldfiles, "walk")).task
    assert wk == tasks.walk(n=4) and wk.run().x == 4.0
    jn = migrate(_file(oldfiles, "join")).task
    assert jn.name == "Join_square" and jn.run() == [1.0, 4.0]


def test_old_result_files_are_never_loaded(project, tasks, oldfiles) -> None:  # type: ignore[no-untyped-def]
    stale = project.root / "data" / "square" / "1a2b3c4d5e_.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("999.0")  # what the old smttask left (and a value that is wrong now)
    task = migrate(_file(oldfiles, "square")).task
    assert task.run() == 9.0 and task.computed


def test_from_desc_and_run_refuse_old_files(project, tasks, oldfiles) -> None:  # type: ignore[no-untyped-def]
    path = _file(oldfiles, "square")
    with pytest.raises(TaskFileError, match=r"SumatraTask 0\.2.*smttask migrate"):
        Task.from_desc(path)
    result = CliRunner().invoke(cli, ["run", "--no-record", str(path)])
    assert result.exit_code == 1 and "smttask migrate" in result.output


def test_migrate_command_writes_new_files_and_lists_old_results(project, tasks, oldfiles) -> None:  # type: ignore[no-untyped-def]
    stale = project.root / "data" / "square" / "1a2b3c4d5e_.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("9.0")
    out = project.root / "new"
    result = CliRunner().invoke(cli, ["migrate", str(oldfiles), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Converted 5 of 5 task file(s)." in result.output
    assert "old result, not reused: data/square/1a2b3c4d5e_.json" in result.output
    assert "old reason: first try" in result.output
    written = sorted(p.name.split("__")[0] for p in out.glob("*.json"))
    assert written == ["Join_square", "norm", "shift", "square", "walk"]
    ran = CliRunner().invoke(cli, ["run", "--no-record", str(out)])
    assert (
        ran.exit_code == 0 and "4 ran, 1 loaded, 0 failed" in ran.output
    )  # square ran as upstream of shift


def test_unconvertible_old_files_are_refused_with_the_reason(project, tasks, tmp_path) -> None:  # type: ignore[no-untyped-def]
    create = old(
        "Create.CreateModel",
        {
            "obj_to_create": ["smttask.typing.Type", {"module": "old_tasks", "name": "Model"}],
            "kwargs": {},
        },
        "dddddddddd",
        generator_module="smttask.task_generators",
        generator_function="Create",
        generator_args=[],
        generator_kwargs={},
    )
    with pytest.raises(TaskFileError, match="Create<Name> = Create"):
        convert(create)
    gone = old("vanished", {"x": 1.0}, "eeeeeeeeee")
    with pytest.raises(TaskFileError, match="defines no task"):
        migrate(gone)
    coerced = old("square", {"x": "3"}, "ffffffffff")  # a string where a float is expected
    with pytest.raises(TaskFileError, match="x"):
        migrate(coerced)
    (tmp_path / "bad.json").write_text(json.dumps(gone))
    result = CliRunner().invoke(
        cli, ["migrate", str(tmp_path / "bad.json"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 1 and "FAILED" in result.output
    assert not is_old_desc({"smttask_format": 1, "taskname": "x", "module": "m", "inputs": {}})


def test_old_records_merge_and_show_their_results(smt_project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An old project's record store merged with `smttask store merge`; its result files
    copied into this project's output store: the records show their parameters and results,
    and migrate(record.params) rebuilds the task with a new digest."""
    import hashlib
    import subprocess
    import sys

    from smttask import RSView, config
    from smttask.recording import find_project
    from smttask.recording.django.writer import write_records
    from smttask.recording.projectinit import InitOptions, init_project

    tasks = smt_project.write_module("old_tasks", TASKS)
    other = tmp_path / "oldproject"
    other.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *args], cwd=other, check=True)
    root_before = config.settings.project_root
    init_project(other, InitOptions(name="oldproject"))
    config.settings.project_root = root_before
    result = b"81.0"  # what the old square(x=9.0) stored, old file name and all
    relpath = "square/9a9a9a9a9a_.json"
    record = {
        "label": "20210301-101010_9a9a9a",
        "timestamp": "2021-03-01T10:10:10+00:00",
        "reason": "old run",
        "parameters": old("square", {"x": 9.0}, "9a9a9a9a9a", reason="old run"),
        "tags": ["_finished_"],
        "script_arguments": "square",
        "main_file": "old_tasks.py",
        "executable": {"path": sys.executable, "name": "Python", "version": "3", "options": ""},
        "repository": {"url": str(other), "upstream": None},
        "datastore": str(other / "data" / "run_dump"),
        "input_datastore": str(other / "data"),
        "launch_mode": {"working_directory": str(other)},
        "output_data": [
            {"path": relpath, "digest": hashlib.sha1(result).hexdigest(), "metadata": {}}
        ],
    }
    info = find_project(other)
    assert info is not None
    write_records(info, [record])
    config.forget_project_root()
    merged = CliRunner().invoke(cli, ["store", "merge", str(other)])
    assert merged.exit_code == 0 and "Added 1 record(s)" in merged.output, merged.output
    archive = smt_project.root / "data" / "run_dump" / relpath  # the old data store, copied
    archive.parent.mkdir(parents=True)
    archive.write_bytes(result)

    [rec] = RSView().filter.reason("old run")
    assert rec.params["inputs"]["x"] == 9.0 and rec.get_output() == 81.0
    with pytest.raises(TaskFileError, match=r"SumatraTask 0\.2.*migrate"):
        rec.task  # noqa: B018
    task = migrate(rec.params).task
    assert task == tasks.square(x=9.0) and task.digest != "9a9a9a9a9a"
    assert task.run() == 81.0 and task.computed  # computed: the old file is not its result
    recreated = CliRunner().invoke(cli, ["store", "recreate", "20210301", "-o", "recreated"])
    assert recreated.exit_code == 0 and "SumatraTask 0.2: new digest" in recreated.output
    assert Task.from_desc(next((smt_project.root / "recreated").glob("*.json"))) == task
