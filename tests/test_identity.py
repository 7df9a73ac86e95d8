"""Code-aware identity, end to end in a git project: a committed change to what a task
function computes gives new digests, so `task.run()` and `smttask run` compute again into
new files (nothing is overwritten); `version=` pins identity, `uses=` adds code; explain
says why, and dry runs change nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import smttask
from smttask import DirtyRepositoryError, Task
from smttask.errors import TaskDefinitionError, TaskFileError
from smttask.stalecode import StaleCodeWarning

SMTTASK = str(Path(sys.executable).with_name("smttask"))

HELPERS = """
def bump(x: float) -> float:
    return x + 1
"""

TASKS = """
from helpers_mod import bump
import helpers_mod

from smttask import MemoizedTask, RecordedTask


@RecordedTask
def f(x: float) -> float:
    return x + 1


@RecordedTask
def g(v: float, k: int = 2) -> float:
    return v * k


@RecordedTask
def h(x: float) -> float:
    return bump(x)


@RecordedTask(version="1")
def pinned(x: float) -> float:
    return x + 1


@RecordedTask
def by_name(x: float, op: str) -> float:
    return getattr(helpers_mod, op)(x)


@RecordedTask(uses=[helpers_mod.bump])
def declared(x: float, op: str) -> float:
    return getattr(helpers_mod, op)(x)


@MemoizedTask
def m(x: float) -> float:
    return x * 10
"""


@pytest.fixture
def mods(smt_project):  # type: ignore[no-untyped-def]
    smt_project.write_module("helpers_mod", HELPERS)
    return smt_project.write_module("id_tasks", TASKS)


def edit(project, name: str, old: str, new: str, text: str):  # type: ignore[no-untyped-def]
    """Change module `name` (its text `text`), commit, import it again."""
    assert old in text
    smttask.clear_memory_cache()
    changed = text.replace(old, new)
    if name == "helpers_mod":
        project.write_module("helpers_mod", changed)
        return project.write_module("id_tasks", TASKS, commit=False)  # unchanged: imported again
    return project.write_module(name, changed)


def test_a_committed_change_of_the_body_recomputes_into_a_new_file(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    first = mods.f(x=1.0)
    assert first.run() == 2.0 and first.computed
    old_file = Path(os.path.realpath(first.output_paths[""]))
    changed = edit(smt_project, "id_tasks", "return x + 1\n", "return x + 100\n", TASKS)
    again = changed.f(x=1.0)
    assert again.key != first.key
    assert again.run() == 101.0 and again.computed
    assert json.loads(old_file.read_text()) == 2.0  # the earlier result is untouched
    assert Path(os.path.realpath(again.output_paths[""])) != old_file
    assert changed.g(v=changed.f(x=1.0)).key != mods.g(v=mods.f(x=1.0)).key  # downstream too


def test_formatting_comments_and_docstrings_do_not_count(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    key = mods.f(x=1.0).key
    reformatted = TASKS.replace(
        "def f(x: float) -> float:\n    return x + 1\n",
        'def f(x: float) -> float:\n    """Add one."""\n    # one more\n    return (x +\n            1)\n',
    )
    assert reformatted != TASKS
    assert smt_project.write_module("id_tasks", reformatted).f(x=1.0).key == key


def test_code_a_task_calls_counts(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    key, unrelated = mods.h(x=1.0).key, mods.f(x=1.0).key
    changed = edit(smt_project, "helpers_mod", "x + 1", "x + 2", HELPERS)
    assert changed.h(x=1.0).key != key
    assert changed.f(x=1.0).key == unrelated


def test_uses_adds_code_the_function_reaches_by_name(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    plain, declared = mods.by_name(x=1.0, op="bump").key, mods.declared(x=1.0, op="bump").key
    changed = edit(smt_project, "helpers_mod", "x + 1", "x + 2", HELPERS)
    assert changed.declared(x=1.0, op="bump").key != declared
    # without uses=, code reached through getattr does not count (documented)
    assert changed.by_name(x=1.0, op="bump").key == plain


def test_version_pins_identity_to_the_version_string(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    key = mods.pinned(x=1.0).key
    text = TASKS.replace('version="1")\ndef pinned(x: float) -> float:\n    return x + 1',
                         'version="1")\ndef pinned(x: float) -> float:\n    return x + 2')  # fmt: skip
    assert smt_project.write_module("id_tasks", text).pinned(x=1.0).key == key
    bumped = text.replace('version="1"', 'version="2"')
    assert smt_project.write_module("id_tasks", bumped).pinned(x=1.0).key != key
    with pytest.warns(StaleCodeWarning, match="pinned runs the code imported before"):
        desc = mods.pinned(x=1.0).desc  # its file was edited since `mods` imported it
    assert desc["version"] == "1"


def test_pinned_digest_with_a_version_does_not_depend_on_the_code(smt_project) -> None:  # type: ignore[no-untyped-def]
    module = smt_project.write_module(
        "pin_mod",
        "from smttask import RecordedTask\n\n\n@RecordedTask(version='7')\n"
        "def p(x: int) -> int:\n    return x * 3\n",
    )
    assert module.p(x=2).digest == "ee1187881a73d5d901e7"  # pinned: an on-disk format
    other = smt_project.write_module(
        "pin_mod",
        "from smttask import RecordedTask\n\n\n@RecordedTask(version='7')\n"
        "def p(x: int) -> int:\n    return x * 4\n",
    )
    assert other.p(x=2).digest == "ee1187881a73d5d901e7"


def test_uses_and_version_are_checked(smt_project) -> None:  # type: ignore[no-untyped-def]
    from smttask import RecordedTask

    def helper(x: float) -> float:
        return x

    with pytest.raises(TaskDefinitionError, match=r"uses= lists functions and classes.*'helper'"):
        RecordedTask(uses=["helper"])(helper)
    with pytest.raises(TaskDefinitionError, match=r"not Python source.*built-in"):
        RecordedTask(uses=[len])(helper)
    with pytest.raises(TaskDefinitionError, match=r"version= and uses= cannot go together"):

        @RecordedTask(version="1", uses=[helper])
        def both(x: float) -> float:
            return helper(x)


def test_the_kind_is_part_of_the_identity(smt_project) -> None:  # type: ignore[no-untyped-def]
    from smttask import MemoizedTask, RecordedTask

    def same(x: int) -> int:
        return x

    assert RecordedTask(same)(x=1).digest != MemoizedTask(same)(x=1).digest


def test_explain_shows_an_upstream_task_input_alike_on_both_sides(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    mods.g(v=mods.f(x=1.0)).run()
    len(smttask.RSView())
    shown = {}
    for now, text in [(mods.h(x=1.0), "<h>"), (mods.m(x=2.0), "m(x=2.0)"), (3.0, "3.0")]:
        task = mods.g(v=now)
        [reason] = [r for r in task.explain().by_key(task.key).reasons if r.kind == "input"]
        shown[text] = (reason.old, reason.new)
    assert shown == {"<h>": ("<f>", "<h>"), "m(x=2.0)": ("<f>", "m(x=2.0)"), "3.0": ("<f>", "3.0")}


def test_explain_says_what_changed(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    mods.g(v=mods.f(x=1.0)).run()
    len(smttask.RSView())  # moves the journaled records into the store
    text = str(mods.g(v=mods.f(x=1.0)).explain())
    assert "2 tasks: 0 compute, 2 load." in text
    assert (
        mods.g(v=mods.f(x=1.0), k=3)
        .explain()
        .by_key(mods.g(v=mods.f(x=1.0), k=3).key)
        .reasons[1]
        .text.startswith("input k changed: 2 in record ")
    )
    changed = edit(smt_project, "id_tasks", "return x + 1\n", "return x + 100\n", TASKS)
    found = changed.g(v=changed.f(x=1.0)).explain()
    f_entry, g_entry = found.tasks
    assert (f_entry.name, f_entry.action, g_entry.action) == ("f", "compute", "compute")
    [missing, code] = f_entry.reasons
    assert missing.kind == "output-missing" and code.kind == "code" and code.name == "id_tasks.f"
    assert code.diff is not None
    assert "-    return x + 1" in code.diff and "+    return x + 100" in code.diff
    [_, upstream] = g_entry.reasons
    assert upstream.kind == "upstream" and "upstream task f (input v) reruns" in upstream.text
    data = found.as_dict()
    assert json.loads(found.json()) == data  # what `smttask explain --json` prints
    empty = {"tasks": [], "counts": {"compute": 0, "load": 0, "skip": 0}, "notes": []}
    assert json.loads(type(found)(()).json()) == empty
    assert data["counts"] == {"compute": 2, "load": 0, "skip": 0}
    fresh = changed.f(x=5.0).explain()[0]
    assert [r.kind for r in fresh.reasons] == ["output-missing", "input", "code"] or [
        r.kind for r in fresh.reasons
    ] == ["output-missing", "code", "input"]


def test_explain_reads_the_records_once_per_task_type_whatever_the_number_of_tasks(
    smt_project, mods
) -> None:  # type: ignore[no-untyped-def]
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from smttask.explain import explain

    for x in (1.0, 2.0):
        mods.g(v=mods.f(x=x)).run()
    len(smttask.RSView())  # moves the journaled records into the store
    changed = edit(smt_project, "id_tasks", "return x + 1\n", "return x + 100\n", TASKS)

    def queries(n: int) -> int:
        tasks = [changed.g(v=changed.f(x=float(x))) for x in range(n)]
        with CaptureQueriesContext(connections["default"]) as ctx:
            found = explain(tasks, flush=False)
        assert found.counts()["compute"] == 2 * n
        assert sum(any(r.kind == "code" for r in t.reasons) for t in found) == n  # each f
        return len(ctx.captured_queries)

    queries(1)  # opens the store
    few, many = queries(2), queries(60)
    assert few == many <= 4, (few, many)  # a query or two per task type (f and g), not per task


def test_explain_hashes_plain_values_as_they_encode() -> None:
    from smttask import serialization
    from smttask.explain import matching

    for value in (None, True, 0, -3, 2**70, 2.5, float("nan"), float("inf"), "", "ü"):
        assert type(value) in matching._SCALARS  # hashed without `encode`: must be the same
        encoded = serialization.encode(value, hook=lambda v: None)
        assert type(encoded) is type(value)
        assert matching._dumps(encoded) == matching._dumps(value)


def test_explain_of_memoized_and_version_changes(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    mods.pinned(x=1.0).run()
    len(smttask.RSView())  # moves the journaled records into the store
    bumped = smt_project.write_module("id_tasks", TASKS.replace('version="1"', 'version="2"'))
    [entry] = bumped.pinned(x=1.0).explain().tasks
    assert entry.reasons[1].kind == "version"
    assert (
        "version '1' in record" in entry.reasons[1].text
        and "version '2' now" in entry.reasons[1].text
    )
    both = bumped.g(v=bumped.m(x=1.0)).explain()
    assert [t.action for t in both.tasks] == ["compute", "compute"]
    mem = both.tasks[0]
    assert mem.kind == "MemoizedTask" and mem.reasons[0].kind == "memoized"
    assert "no earlier result of id_tasks.g" in both.tasks[1].reasons[1].text


def test_smttask_run_recomputes_after_a_change_and_refuses_old_files(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    root = smt_project.root
    old_file = mods.f(x=1.0).save(root / "taskdir")
    done = subprocess.run([SMTTASK, "run", str(old_file)], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0 and "1 ran" in done.stderr, done.stderr
    # A reader (a process of its own, as the run was): the record in the store, whose files
    # are then still (a detached process may still be storing it).
    subprocess.run([SMTTASK, "store", "flush"], cwd=root, check=True, capture_output=True)
    first_result = Path(os.path.realpath(mods.f(x=1.0).output_paths[""]))
    changed = edit(smt_project, "id_tasks", "return x + 1\n", "return x + 100\n", TASKS)
    done = subprocess.run([SMTTASK, "run", str(old_file)], cwd=root, capture_output=True, text=True)
    assert done.returncode == 1
    assert "written for other code of id_tasks.f: id_tasks.f changed" in done.stderr
    new_file = changed.f(x=1.0).save(root / "taskdir2")
    before = snapshot(root)
    dry = subprocess.run(
        [SMTTASK, "run", "--dry-run", str(new_file), str(old_file)],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    assert dry.returncode == 1, dry.stdout + dry.stderr  # the old file would fail
    assert f"would run {new_file} (f)" in dry.stdout
    assert "code changed: id_tasks.f changed since record" in dry.stdout
    assert f"would fail {old_file}" in dry.stdout
    assert "1 would run, 0 would load, 1 would fail" in dry.stdout
    assert snapshot(root) == before  # nothing changed on disk
    done = subprocess.run([SMTTASK, "run", str(new_file)], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0 and "1 ran" in done.stderr, done.stderr
    assert json.loads(first_result.read_text()) == 2.0
    assert changed.f(x=1.0).run() == 101.0 and not changed.f(x=1.0).computed
    dry = subprocess.run([SMTTASK, "run", "--dry-run", str(new_file)], cwd=root,
                         capture_output=True, text=True)  # fmt: skip
    assert dry.returncode == 0 and f"would load {new_file} (f)" in dry.stdout


def test_smttask_explain_of_task_files_and_a_file_target(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    root = smt_project.root
    mods.f(x=1.0).run()
    assert len(smttask.RSView()) == 1  # moves this process's record into the store
    old_file = mods.f(x=1.0).save(root / "taskdir")
    edit(smt_project, "id_tasks", "return x + 1\n", "return x + 100\n", TASKS)
    (root / "pipe.py").write_text("from id_tasks import f, g\ntasks = [g(v=f(x=1.0))]\n")
    smt_project.commit("pipe.py")
    done = subprocess.run(
        [SMTTASK, "explain", str(old_file)], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "smttask run refuses this task file" in done.stdout
    assert "code changed: id_tasks.f changed since task file" in done.stdout
    done = subprocess.run([SMTTASK, "explain", "--json", "pipe.py:tasks"], cwd=root,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [t["task"] for t in data["tasks"]] == ["f", "g"]
    assert [r["kind"] for r in data["tasks"][0]["reasons"]] == ["output-missing", "code"]
    assert "+    return x + 100" in data["tasks"][0]["reasons"][1]["diff"]


def test_export_refuses_dirty_code_with_the_message_of_run(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    from smttask.export import export_snakemake

    root = smt_project.root
    (root / "helpers_mod.py").write_text(HELPERS + "\n# edited\n")
    path = mods.f(x=1.0).save(root / "taskdir")
    run = subprocess.run([SMTTASK, "run", str(path)], cwd=root, capture_output=True, text=True)
    assert run.returncode == 1
    with pytest.raises(DirtyRepositoryError) as refused:
        export_snakemake([mods.f(x=1.0)], "build")
    message = str(refused.value)
    assert "Uncommitted changes in tracked files" in message and "helpers_mod.py" in message
    assert message in run.stdout + run.stderr
    assert not (root / "build").exists()
    done = subprocess.run(
        [SMTTASK, "export-snakemake", "pipe_missing.py:tasks", "-o", "build"],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    smttask.config.settings.record = False
    try:
        assert export_snakemake([mods.f(x=1.0)], "build").jobs == 1  # no records: no check
    finally:
        smttask.config.settings.record = True


def test_export_dry_run_writes_nothing(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    from smttask.export import export_snakemake

    root = smt_project.root
    before = snapshot(root)
    result = export_snakemake([mods.g(v=mods.f(x=1.0))], "build", dry_run=True)
    assert result.dry_run and result.jobs == 2 and "Snakefile" in result.written
    assert "Dry run: would export 2 jobs" in result.summary()
    assert "would write Snakefile" in result.summary()
    assert snapshot(root) == before and not (root / "build").exists()
    real = export_snakemake([mods.g(v=mods.f(x=1.0))], "build")
    assert sorted(real.written) == sorted(result.written)
    (root / "pipe.py").write_text("from id_tasks import f\ntasks = [f(x=1.0)]\n")
    smt_project.commit("pipe.py")
    before = snapshot(root)
    done = subprocess.run(
        [SMTTASK, "export-snakemake", "pipe.py:tasks", "-o", "build", "--dry-run"],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Dry run: would export 1 job" in done.stdout and "would remove tasks/g/" in done.stdout
    assert snapshot(root) == before


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under `root` (caches of Python and of code identity aside), with its mtime
    and content."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("__pycache__", ".git")]
        for name in filenames:
            path = Path(dirpath) / name
            found[str(path.relative_to(root))] = (path.stat().st_mtime_ns, path.read_bytes())
    return found


def test_a_task_file_of_format_1_is_refused_by_smttask_run(smt_project, mods) -> None:  # type: ignore[no-untyped-def]
    desc = mods.f(x=1.0).desc
    desc.pop("code")
    desc["smttask_format"] = 1
    path = smt_project.root / "old.json"
    path.write_text(json.dumps(desc))
    with pytest.raises(TaskFileError, match=r"format version 1"):
        Task.from_desc(path)
    done = subprocess.run([SMTTASK, "run", str(path)], cwd=smt_project.root,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1 and "format version 1" in done.stderr


@pytest.mark.slow
def test_an_exported_workflow_reruns_exactly_the_changed_jobs_and_their_downstream(project) -> None:  # type: ignore[no-untyped-def]
    import re

    from test_snakemake_e2e import EXPECTED_RUNS, export, make_project, ok, runs, snakemake
    from test_snakemake_e2e import TASKS as E2E

    root = make_project(project)
    export(root)
    mtime = ("--rerun-triggers", "mtime")
    ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2", *mtime))
    assert runs(root) == EXPECTED_RUNS
    before = {p: p.read_bytes() for p in (root / "data/run_dump").rglob("*") if p.is_file()}
    project.write_module(
        "e2e_tasks",
        E2E.replace(
            "return float(np.abs(data).mean() * scale)",
            "return float(np.abs(data).mean() * scale + 1.0)",
        ),
    )
    assert "4 stale removed" in export(root)  # 3 analyze + summary, exported again
    dry = ok(snakemake(root, "-s", "build/Snakefile", "-n", *mtime)).stdout
    # Snakemake's job stats: one line per rule (named by the task's label and digest start).
    stats = re.findall(r"^(\w+)\s+(\d+)$", dry.split("Job stats:")[1], re.M)
    jobs = sorted(
        rule.split("_")[0] for rule, count in stats if rule != "total" for _ in range(int(count))
    )
    assert jobs == ["all", "analyze", "analyze", "analyze", "summary"], dry
    ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2", *mtime))
    assert runs(root) == sorted([*EXPECTED_RUNS, "analyze 3.0", "analyze 3.0", "analyze 3.0",
                                 "factor 1.5", "factor 1.5", "factor 1.5", "summary"])  # fmt: skip
    for path, data in before.items():  # nothing overwritten: the earlier results are intact
        assert path.read_bytes() == data
    after = [p for p in (root / "data/run_dump").rglob("*") if p.is_file()]
    assert len(after) == len(before) + 4  # 3 analyze + 1 summary, under new names
