"""`smttask export-snakemake`, `smttask graph` and `smttask.export_snakemake`, as users call them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import smttask
from smttask.cli import cli
from smttask.errors import CompileError

TASKS = """
from typing import List
from smttask import MemoizedTask, RecordedTask

@MemoizedTask
def offset(x: float) -> float:
    return x + 1

@RecordedTask
def square(x: float) -> float:
    return x * x

@RecordedTask
def total(xs: List[float]) -> float:
    return sum(xs)
"""

PIPELINE = """
from export_tasks import offset, square, total

squares = [square(x=offset(x=float(i))) for i in range(3)]
tasks = {"sum": total(xs=squares)}
"""


@pytest.fixture
def proj(project):
    project.write_module("export_tasks", TASKS)
    project.write("pipeline.py", PIPELINE)
    project.commit("pipeline.py")
    sys.modules.pop("pipeline", None)  # the command imports it: fresh for every project
    yield project
    sys.modules.pop("pipeline", None)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_export_cli_writes_the_workflow(proj):
    result = invoke("export-snakemake", "pipeline.py:tasks", "-o", "build")
    assert result.exit_code == 0, result.output
    assert "Exported 4 jobs (7 tasks, named layout, 4 rules) to build" in result.output
    build = proj.root / "build"
    assert (build / "Snakefile").is_file() and (build / "README.md").is_file()
    assert (build / "profiles/local/config.yaml").is_file()
    assert (build / "profiles/slurm/config.yaml").is_file()
    assert len(list((build / "tasks").rglob("*.json"))) == 4
    assert "snakemake -s build/Snakefile" in (build / "README.md").read_text()


def test_reexport_touches_nothing(proj):
    invoke("export-snakemake", "pipeline.py:tasks", "-o", "build")
    files = sorted(p for p in (proj.root / "build").rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    result = invoke("export-snakemake", "pipeline.py:tasks", "-o", "build")
    assert "0 written, 9 unchanged" in result.output
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before


def test_reexport_of_a_changed_graph_removes_stale_task_files(proj):
    invoke("export-snakemake", "pipeline.py:tasks", "-o", "build")
    proj.write("pipeline.py", PIPELINE.replace("range(3)", "range(2)"))
    sys.modules.pop("pipeline", None)
    result = invoke("export-snakemake", "pipeline.py:tasks", "-o", "build")
    assert "stale removed" in result.output
    assert len(list((proj.root / "build/tasks").rglob("*.json"))) == 3


def test_export_refuses_to_overwrite_foreign_files(proj):
    (proj.root / "build").mkdir()
    (proj.root / "build/README.md").write_text("my notes\n")
    result = CliRunner().invoke(cli, ["export-snakemake", "pipeline.py:tasks", "-o", "build"])
    assert result.exit_code != 0
    assert "already holds files that smttask did not write" in str(result.exception)
    assert (proj.root / "build/README.md").read_text() == "my notes\n"
    assert invoke("export-snakemake", "pipeline.py:tasks", "-o", "build", "--force").exit_code == 0


def test_targets_task_files_and_folders(proj):
    import export_tasks

    export_tasks.square(x=2.0).save(proj.root / "taskdir")
    export_tasks.square(x=3.0).save(proj.root / "taskdir/more")
    one = proj.root / "one.json"
    export_tasks.total(xs=[export_tasks.square(x=4.0)]).save(one)
    result = invoke("export-snakemake", "taskdir", str(one), "-o", "out")
    assert "Exported 4 jobs" in result.output
    result = CliRunner().invoke(cli, ["export-snakemake", "export_tasks:square"])
    assert "is the task type square, not a task" in str(result.exception)


def test_target_errors(proj):
    runner = CliRunner()
    result = runner.invoke(cli, ["export-snakemake", "pipeline.py:nothing"])
    assert "has no attribute 'nothing'" in str(result.exception)
    result = runner.invoke(cli, ["export-snakemake", "pipeline.py"])
    assert "name the variable holding the tasks" in str(result.exception)
    result = runner.invoke(cli, ["export-snakemake", "pipeline.py:PIPELINE_X"])
    assert result.exit_code != 0
    result = runner.invoke(cli, ["export-snakemake", "pipeline.py:tasks", "--batch", "x=0"])
    assert result.exit_code == 2 and "positive number" in result.output


def test_errors_are_one_paragraph_without_traceback(proj):
    out = subprocess.run(
        [sys.executable, "-m", "smttask.cli", "export-snakemake", "pipeline.py:nothing"],
        capture_output=True,
        text=True,
        cwd=proj.root,
    )
    if "No module named smttask.cli.__main__" in out.stderr:
        out = subprocess.run(
            [
                str(Path(sys.executable).with_name("smttask")),
                "export-snakemake",
                "pipeline.py:nothing",
            ],
            capture_output=True,
            text=True,
            cwd=proj.root,
        )
    assert out.returncode == 1
    assert (
        out.stderr.startswith("Error: Target pipeline.py:nothing") and "Traceback" not in out.stderr
    )


def test_python_api(proj):
    import pipeline

    result = smttask.export_snakemake(pipeline.tasks["sum"], proj.root / "api", layout="wildcard")
    assert result.layout == "wildcard" and result.jobs == 4 and result.rules == 2
    table = json.loads((proj.root / "api/jobs.json").read_text())
    assert sorted(table) == ["square", "total"] and len(table["square"]["keys"]) == 3


def test_importing_smttask_does_not_import_networkx_or_jinja2():
    code = (
        "import sys, smttask; "
        "assert 'networkx' not in sys.modules and 'jinja2' not in sys.modules; "
        "smttask.export_snakemake; assert 'networkx' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_task_from_main_fails_before_anything_is_written(proj):
    import export_tasks

    def helper(x: float) -> float:
        return x

    helper.__module__, helper.__qualname__ = "__main__", "helper"
    main_task = smttask.RecordedTask(helper)(x=1.0)
    with pytest.raises(CompileError, match="defined in a script run as __main__"):
        smttask.export_snakemake([export_tasks.square(x=1.0), main_task], proj.root / "b")
    assert not (proj.root / "b").exists()


def test_module_imported_under_another_name_is_refused(proj):
    sub = proj.root / "lib"
    sub.mkdir()
    (sub / "shapes.py").write_text(TASKS)
    sys.path.insert(0, str(sub))
    try:
        import shapes  # the jobs would need `lib.shapes`

        with pytest.raises(CompileError, match=r"would import as 'lib\.shapes'"):
            smttask.export_snakemake(shapes.square(x=1.0), proj.root / "b")
    finally:
        sys.path.remove(str(sub))
        sys.modules.pop("shapes", None)
    assert not (proj.root / "b").exists()


def test_graph_dot(proj):
    import pipeline

    pipeline.tasks["sum"].run()
    result = invoke("graph", "pipeline.py:tasks", "-o", "dag.dot")
    assert "Wrote dag.dot (7 tasks, 4 done)" in result.output
    text = (proj.root / "dag.dot").read_text()
    assert text.startswith("digraph tasks {") and text.count(" -> ") == 6
    assert text.count("shape=box") == 4 and text.count("memoized") == 3
    assert '"square\\n' in text


def test_graph_svg(proj):
    if not any(Path(p, "dot").exists() for p in os.environ["PATH"].split(os.pathsep)):
        pytest.skip("Graphviz `dot` is not installed (apt-get install graphviz)")
    result = invoke("graph", "pipeline.py:tasks", "-o", "dag.svg")
    assert result.exit_code == 0
    svg = (proj.root / "dag.svg").read_text()
    assert "<svg" in svg and "square" in svg and "to do" in svg


def test_graph_without_dot_says_how_to_get_it(proj, monkeypatch):
    monkeypatch.setenv("PATH", str(proj.root / "nothing-here"))
    result = CliRunner().invoke(cli, ["graph", "pipeline.py:tasks", "-o", "dag.png"])
    assert result.exit_code == 1
    assert "needs Graphviz's `dot` program" in result.output and "-o dag.dot" in result.output
    assert not (proj.root / "dag.png").exists()
