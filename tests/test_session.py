"""Sessions: what tasks run with, made once per run and never by changing global settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from click.testing import CliRunner

from smttask import config, hooks, open_session
from smttask.cli import cli
from smttask.recording import projectfile, recorder

TASKS = """
from smttask import MemoizedTask, RecordedTask

@MemoizedTask
def base(x: int) -> int:
    return x + 1

@RecordedTask
def double(x: int) -> int:
    return 2 * base(x=x).run()
"""


def test_the_default_session_follows_the_settings_and_the_folder(project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = hooks.current()
    assert hooks.current() is first  # made once, while nothing changes
    assert first.root == project.root
    assert first.data_roots == (project.root / "data", project.root / "data" / "run_dump")
    assert first.recorder is not hooks.NO_RECORDER
    config.settings.record = False
    assert hooks.current().recorder is hooks.NO_RECORDER
    config.settings.record = True
    config.settings.output_dir = Path("/scratch/elsewhere")
    assert hooks.current().data_roots[1] == Path("/scratch/elsewhere")


def test_using_a_session_for_a_block(project) -> None:  # type: ignore[no-untyped-def]
    mod = project.write_module("stasks", TASKS)
    quiet = open_session(settings=dataclasses.replace(config.settings, record=False))
    assert quiet.settings is not config.settings
    with hooks.using(quiet):
        assert hooks.current() is quiet
        assert mod.double(x=1).run() == 4
    assert hooks.current() is not quiet
    assert config.settings.record  # untouched


def test_run_does_not_change_the_global_settings(smt_project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module("stasks", TASKS)
    path = mod.double(x=3).save(tmp_path)
    before = dataclasses.asdict(config.settings)
    result = CliRunner().invoke(cli, ["run", "--no-record", str(path)])
    assert result.exit_code == 0, result.output
    assert dataclasses.asdict(config.settings) == before


def test_one_code_check_and_one_project_look_up_per_recorded_run(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module("stasks", TASKS)
    checks: list[str] = []
    lookups: list[Path] = []
    real_check = recorder.ProjectRecorder.check
    real_find = recorder.find_project

    def check(self, task, settings):  # type: ignore[no-untyped-def]
        checks.append(task.name)
        return real_check(self, task, settings)

    def find(root):  # type: ignore[no-untyped-def]
        lookups.append(root)
        return real_find(root)

    monkeypatch.setattr(recorder.ProjectRecorder, "check", check)
    monkeypatch.setattr(recorder, "find_project", find)
    assert mod.double(x=5).run() == 12
    # The memoized task inside checks the code too (it gets no record): one check each.
    assert sorted(checks) == ["base", "double"]
    assert len(lookups) == 2
    checks.clear()
    lookups.clear()
    assert mod.double(x=5).run() == 12  # loaded: no check, no look-up
    assert checks == [] and lookups == []


def test_the_first_hit_reads_only_the_project_file(project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (project.root / ".smt").mkdir()
    (project.root / ".smt" / "project").write_text(
        '{"name": "p", "input_datastore": {"root": "in"}, "data_store": {"root": "out"}}'
    )
    config.forget_project_root()
    assert hooks.current().data_roots == (project.root / "in", project.root / "out")
    assert projectfile.data_roots(project.root) == (project.root / "in", project.root / "out")


EARLY = """
import json, os, sys, time
from pathlib import Path
from smttask import config, hooks
from smttask.recording import projectfile
import stasks  # defining the task types reads the data stores ahead
assert "settings" not in vars(config), "the settings were made before the first session"
root = Path(os.environ["SMTTASK_PROJECT_ROOT"]).resolve()
assert projectfile._roots_cache, "the project file was not read ahead"
os.environ["SMTTASK_RECORD"] = "0"  # seen: the settings are made at the first session
if sys.argv[1] == "moved":  # the project names other stores meanwhile: they are used
    time.sleep(0.01)
    data = json.loads((root / ".smt" / "project").read_text())
    data["input_datastore"]["root"], data["data_store"]["root"] = "in2", "out2"
    (root / ".smt" / "project").write_text(json.dumps(data))
assert stasks.double(x=1).run() == 4
assert config.settings.record is False
print(json.dumps([str(p.relative_to(root)) for p in hooks.current().data_roots]))
"""


def test_a_task_type_reads_the_data_stores_ahead_not_the_settings(smt_project) -> None:  # type: ignore[no-untyped-def]
    import json
    import os
    import subprocess
    import sys

    smt_project.write("stasks.py", TASKS)
    env = {**os.environ, "PYTHONPATH": str(smt_project.root)}
    env.pop("SMTTASK_RECORD", None)
    for case, roots in (("same", ["data", "data/run_dump"]), ("moved", ["in2", "out2"])):
        done = subprocess.run(
            [sys.executable, "-c", EARLY, case],
            cwd=smt_project.root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.splitlines()[-1]) == roots
