"""`smttask reproduce` and `record.reproduce()`: a record's task re-run from its commit, in a
temporary git worktree and a new process, its outputs compared with the recorded ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smttask import RSView
from smttask.recording.store import open_store
from smttask.reproduce import Tolerance, reproduce

SMTTASK = str(Path(sys.executable).with_name("smttask"))

TASKS = """
import os
import time
from pathlib import Path

import numpy as np
from scityping.numpy import Array

from smttask import MemoizedTask, RecordedTask


@RecordedTask
def base(x: int) -> int:
    return x + 1


@MemoizedTask
def twice(v: int) -> int:
    return 2 * v


@RecordedTask
def scaled(v: int) -> float:
    return v / 4


@RecordedTask
def combined(v: float, w: int) -> float:
    return v * w


def _offset() -> float:
    # Read from a file outside the task's inputs: not reproducible on purpose.
    return float(Path(os.environ["OFFSET_FILE"]).read_text())


@RecordedTask
def shifted(n: int) -> Array[float]:
    return np.arange(n) + _offset()


@RecordedTask
def shifted_sum(n: int) -> float:
    return n + _offset()


@RecordedTask
def slow(x: int) -> int:
    time.sleep(float(os.environ.get("SLOW", "0")))
    return x
"""


@pytest.fixture
def tasks(smt_project, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    offset = tmp_path / "offset.txt"
    offset.write_text("0.5")
    monkeypatch.setenv("OFFSET_FILE", str(offset))
    scratch = tmp_path / "scratch"  # the temporary folders of the re-runs
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    return smt_project.write_module("repro_tasks", TASKS)


def _chain(tasks):  # type: ignore[no-untyped-def]
    last = tasks.combined(v=tasks.scaled(v=tasks.twice(v=tasks.base(x=2))), w=3)
    assert last.run() == 4.5
    return last


def _labels() -> dict[str, str]:
    """Task name → label of its (newest) record."""
    found: dict[str, str] = {}
    for row in open_store().query(newest_first=False):
        found[row.script_arguments.rsplit(".", 1)[-1]] = row.label
    return found


def _left_behind(smt_project) -> tuple[str, list[Path]]:  # type: ignore[no-untyped-def]
    trees = smt_project.git("worktree", "list", "--porcelain")
    scratch = Path(os.environ["TMPDIR"])
    return trees, sorted(scratch.glob("smttask-reproduce-*"))


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SMTTASK, *args], capture_output=True, text=True, env=env or dict(os.environ)
    )


def test_a_recorded_chain_reproduces_identically_and_later_commits_do_not_matter(
    smt_project, tasks
) -> None:  # type: ignore[no-untyped-def]
    _chain(tasks)
    labels = _labels()
    # The code changes after the records, committed and not: the recorded code still runs.
    smt_project.write_module("repro_tasks", TASKS.replace("return x + 1", "return x + 2"))
    smt_project.write("repro_tasks.py", TASKS.replace("return v / 4", "return v / 5"))
    chain = [labels["combined"], labels["scaled"], labels["base"]]
    # A fresh process, even with the working tree on the import path.
    done = _cli("reproduce", *chain, env={**os.environ, "PYTHONPATH": str(smt_project.root)})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for label, task in zip(chain, ["combined", "scaled", "base"]):
        [line] = [x for x in lines if x.startswith(label)]
        assert f"repro_tasks.{task}" in line and ": identical (" in line
    assert lines[-1] == "3 identical."
    trees, folders = _left_behind(smt_project)
    assert trees.count("worktree ") == 1 and folders == []  # the worktrees are gone


def test_upstream_results_are_computed_again_in_the_worktree_by_default(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    _chain(tasks)
    labels = _labels()
    [result] = reproduce([labels["combined"]])
    assert result.status == "identical" and result.ok, result.lines()
    [read] = result.inputs
    assert read.path.startswith("scaled/") and read.how == "recomputed"
    assert read.status == "identical"
    assert result.task_seconds is not None and result.seconds >= result.task_seconds
    assert [o.status for o in result.outputs] == ["identical"]


def test_recorded_inputs_are_used_once_their_hash_is_checked(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    last = _chain(tasks)
    labels = _labels()
    [result] = reproduce([labels["combined"]], use_recorded_inputs=True)
    assert result.status == "identical", result.lines()
    assert [(i.how, i.status) for i in result.inputs] == [("recorded file", "identical")]

    [upstream] = last.upstream()
    archive = Path(os.path.realpath(upstream.output_paths[""]))
    archive.write_text("7.0")  # no longer what the record read
    [result] = reproduce([labels["combined"]], use_recorded_inputs=True)
    assert result.status == "could not run"
    assert "no longer on disk with that content" in result.reason
    assert "without --use-recorded-inputs" in result.reason
    [result] = reproduce([labels["combined"]])  # computed again: still identical
    assert result.status == "identical"


def test_a_nondeterministic_task_differs_with_the_figures(smt_project, tasks, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tasks.shifted(n=3).run()  # [0.5, 1.5, 2.5]
    tasks.shifted_sum(n=2).run()  # 2.5
    labels = _labels()
    (tmp_path / "offset.txt").write_text("0.75")  # the input the records do not see

    array, number = reproduce([labels["shifted"], labels["shifted_sum"]])
    assert (array.status, number.status) == ("differs", "differs")
    [out] = array.outputs
    assert out.status == "differs" and out.reproduced_sha1 != out.recorded_sha1
    assert out.max_abs == pytest.approx(0.25) and out.max_rel == pytest.approx(0.5)
    [out] = number.outputs
    assert out.max_abs == pytest.approx(0.25) and out.max_rel == pytest.approx(0.1)
    assert "max abs difference 0.25, max rel difference 0.1" in "\n".join(number.lines())

    [loose] = reproduce([labels["shifted"]], tolerance=Tolerance(rel=0.6))
    assert loose.status == "within tolerance" and loose.ok
    [tight] = reproduce([labels["shifted"]], tolerance=Tolerance(rel=0.1, abs=0.1))
    assert tight.status == "differs" and not tight.ok  # 0.25 > 0.1 + 0.1 * 0.5

    done = _cli("reproduce", labels["shifted_sum"])
    assert done.returncode == 1 and "differs" in done.stdout
    done = _cli("reproduce", "--tolerance", "0.2", labels["shifted_sum"])
    assert done.returncode == 0 and "within tolerance" in done.stdout, done.stdout
    done = _cli("reproduce", "--tolerance", "fast", labels["shifted_sum"])
    assert done.returncode == 1 and "REL or REL,ABS" in done.stderr


def test_a_failing_task_or_a_missing_module_could_not_run(smt_project, tasks, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tasks.shifted_sum(n=1).run()
    (tmp_path / "offset.txt").unlink()
    [failed] = reproduce([_labels()["shifted_sum"]])
    assert failed.status == "could not run" and not failed.ok
    assert "the task failed" in failed.reason and "FileNotFoundError" in failed.reason

    # A module importing a file that was never committed (untracked files do not block a
    # recorded run): the commit cannot run it.
    smt_project.write("helper.py", "FACTOR = 3\n")
    mod = smt_project.write_module(
        "uses_helper",
        "from smttask import RecordedTask\nimport helper\n\n"
        "@RecordedTask\ndef tripled(x: int) -> int:\n    return helper.FACTOR * x\n",
    )
    mod.tripled(x=2).run()
    [missing] = reproduce([_labels()["tripled"]])
    assert missing.status == "could not run"
    assert "uses_helper" in missing.reason and "helper" in missing.reason


def test_task_code_from_outside_the_commit_is_never_run(
    smt_project, tasks, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "ext_tasks.py").write_text(
        "from smttask import RecordedTask\n\n@RecordedTask\ndef g(x: int) -> int:\n    return x\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(lib))
    monkeypatch.setenv("SMTTASK_TRUSTED_PACKAGES", "ext_tasks")
    monkeypatch.setattr(sys, "path", [str(lib), *sys.path])
    from smttask import config

    config.settings.trusted_packages = ("ext_tasks",)
    import ext_tasks

    ext_tasks.g(x=1).run()
    [result] = reproduce([_labels()["g"]])
    assert result.status == "could not run"
    assert "ext_tasks" in result.reason and "not from the checked-out commit" in result.reason
    sys.modules.pop("ext_tasks", None)


def test_a_record_whose_commit_is_gone_could_not_run(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    smt_project.git("checkout", "-q", "-b", "experiment")
    mod = smt_project.write_module(
        "gone_tasks",
        "from smttask import RecordedTask\n\n@RecordedTask\ndef f(x: int) -> int:\n    return x\n",
    )
    mod.f(x=1).run()
    label = _labels()["f"]
    commit = smt_project.git("rev-parse", "HEAD").strip()
    smt_project.git("checkout", "-q", "-")
    smt_project.git("branch", "-q", "-D", "experiment")
    smt_project.git("reflog", "expire", "--expire=now", "--all")
    smt_project.git("gc", "-q", "--prune=now")
    [result] = reproduce([label])
    assert result.status == "could not run" and result.commit == commit
    assert f"The commit {commit}" in result.reason and "not in the repository" in result.reason
    done = _cli("reproduce", label)
    assert done.returncode == 1 and "could not run" in done.stdout


def test_records_that_cannot_be_reproduced_say_why(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    [unknown] = reproduce(["20260101-000000_nothing_00000000"])
    assert unknown.status == "could not run" and "No record labelled" in unknown.reason
    assert _left_behind(smt_project)[1] == []  # the re-run process started ahead is gone
    done = _cli("reproduce", "20260101-000000_nothing_00000000")
    assert done.returncode == 1 and "nor the label of a record" in done.stderr, done.stderr
    assert _left_behind(smt_project)[1] == []  # here too, though the command failed
    from smttask import TaskExecutionError

    mod = smt_project.write_module(
        "crash_tasks",
        "from smttask import RecordedTask\n\n@RecordedTask\ndef boom(x: int) -> int:\n"
        "    raise ValueError(x)\n",
    )
    with pytest.raises(TaskExecutionError):
        mod.boom(x=1).run()
    [crashed] = reproduce([_labels()["boom"]])
    assert crashed.status == "could not run" and "did not finish" in crashed.reason


WHERE = """
import os
import sys

from smttask import RecordedTask


@RecordedTask
def where(x: int) -> int:
    root = os.environ.get("SMTTASK_PROJECT_ROOT")
    if root is not None:  # the re-run: as if started in the worktree's project folder
        here = os.getcwd()
        assert os.path.samefile(root, here) and sys.path[0] == here, (root, here, sys.path)
    return x
"""


def test_the_re_run_process_started_ahead_runs_in_the_project_folder(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module("where_tasks", WHERE)
    assert mod.where(x=3).run() == 3
    label = _labels()["where"]
    [api] = reproduce([label])
    assert api.status == "identical", api.lines()
    done = _cli("reproduce", label)
    assert done.returncode == 0 and ": identical (" in done.stdout, done.stdout + done.stderr
    assert _left_behind(smt_project)[1] == []


def test_the_re_run_process_reads_no_setting_before_its_request() -> None:
    code = (
        "import smttask.reproduce.child as c, smttask.config as cfg, smttask.hooks as h; "
        "print(vars(cfg).get('settings') is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"  # else the child refuses: it could name another project


def test_iterative_tasks_reproduce_from_the_iteration_they_resumed(smt_project) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module(
        "walk_tasks",
        """
        from smttask import RecordedIterativeTask, TaskOutput

        class State(TaskOutput):
            n: int
            x: float

        @RecordedIterativeTask("n", map={"n": "start_n", "x": "x0"})
        def walk(n: int, x0: float = 0.0, start_n: int = 0) -> State:
            x = x0
            for i in range(start_n, n):
                x = x * 1.5 + i
            return n, x
        """,
    )
    mod.walk(n=2).run()
    mod.walk(n=4).run()  # resumes from n=2
    mod.walk(n=5).run()  # resumes from n=4
    last = open_store().query()
    label = next(last).label
    for use_recorded in (False, True):
        [result] = reproduce([label], use_recorded_inputs=use_recorded)
        assert result.status == "identical", result.lines()
        assert {i.role for i in result.inputs} == {"resumed"} and len(result.inputs) == 2
        assert all(i.status == "identical" for i in result.inputs)


def test_record_reproduce_in_a_view(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    _chain(tasks)
    record = RSView().filter.task("combined").latest
    result = record.reproduce()
    assert result.status == "identical" and result.label == record.label
    assert json.loads(json.dumps(result.to_json()))["status"] == "identical"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_reproduction_removes_its_worktree(smt_project, tasks, sig) -> None:  # type: ignore[no-untyped-def]
    tasks.slow(x=1).run()
    label = _labels()["slow"]
    proc = subprocess.Popen(
        [SMTTASK, "reproduce", label],
        env={**os.environ, "SLOW": "60"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _left_behind(smt_project)[0].count("worktree ") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        time.sleep(0.5)  # the re-run has started
        proc.send_signal(sig)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    trees, folders = _left_behind(smt_project)
    assert trees.count("worktree ") == 1 and folders == []


def test_environment_notes_name_packages_by_import_name_and_only_real_changes() -> None:
    import importlib.metadata

    from smttask.reproduce.plan import _environment_notes

    yaml_now = importlib.metadata.version("PyYAML")  # imported as `yaml`
    git_now = importlib.metadata.version("GitPython")  # imported as `git`
    same = [{"name": "yaml", "version": yaml_now}, {"name": "git", "version": git_now}]
    assert _environment_notes({"dependencies": same}) == []
    changed = [
        {"name": "yaml", "version": "0.0.1"},
        {"name": "smttask_no_such_package", "version": "1.0"},
    ]
    [note] = _environment_notes({"dependencies": changed})
    assert f"yaml 0.0.1 → {yaml_now}" in note
    assert "smttask_no_such_package 1.0 → not installed" in note
