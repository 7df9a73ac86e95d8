"""Folder results (``OutputDir``): in-session, through ``smttask run``, and in Snakemake."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from smttask import OutputDir, OutputError, TaskDefinitionError, TaskExecutionError
from smttask.storage import MANIFEST

BIN = Path(sys.executable).parent

TASKS = """
from pathlib import Path
from smttask import MemoizedTask, OutputDir, RecordedTask

@MemoizedTask
def points(n: int) -> list:
    return [i * i for i in range(n)]

@RecordedTask
def draw(values: list, scale: float, out: OutputDir) -> OutputDir:
    with open("calls.txt", "a") as f:
        f.write(f"draw {scale}\\n")
    (out / "values.csv").write_text("\\n".join(str(v * scale) for v in values) + "\\n")
    (out / "parts").mkdir()
    (out / "parts" / "first.txt").write_text(str(values[0] * scale))
    return out

@RecordedTask
def broken(x: float, out: OutputDir) -> OutputDir:
    (out / "half.txt").write_text("half written")
    raise RuntimeError("the plot failed")

@RecordedTask
def count_files(folder: Path) -> int:
    return len(list(Path(folder).rglob("*.csv")))
"""

PIPELINE = """
from files_tasks import count_files, draw, points

plots = [draw(values=points(n=4), scale=s) for s in (1.0, 2.0)]
tasks = [count_files(folder=p) for p in plots]
"""


def calls(root: Path) -> list[str]:
    path = root / "calls.txt"
    return path.read_text().splitlines() if path.exists() else []


def check_folder(folder: Path, scale: float) -> None:
    assert (folder / "values.csv").read_text() == "\n".join(
        str(v * scale) for v in [0, 1, 4, 9]
    ) + "\n"
    assert (folder / "parts" / "first.txt").read_text() == str(0 * scale)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["parts/first.txt", "values.csv"]
    data = (folder / "values.csv").read_bytes()
    assert manifest["files"]["values.csv"] == {
        "size": len(data),
        "sha1": hashlib.sha1(data).hexdigest(),
    }


def test_a_folder_result_is_published_hashed_recorded_and_loaded(smt_project) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module("files_tasks", TASKS)
    task = mod.draw(values=[0, 1, 4, 9], scale=2.0)
    assert "out" not in task.inputs and "out" not in json.dumps(task.desc)
    folder = task.run()
    archive = smt_project.root / "data/run_dump/draw" / f"{task.key}.files"
    assert isinstance(folder, OutputDir) and folder == archive and task.computed
    check_folder(folder, 2.0)
    # The link in the input store leads to it; no scratch folder is left behind.
    assert (smt_project.root / "data/draw" / f"{task.key}.files").resolve() == archive
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]
    # The next run loads it without calling the function, in this process and in another.
    again = mod.draw(values=[0, 1, 4, 9], scale=2.0)
    assert again.run() == archive and not again.computed
    assert calls(smt_project.root) == ["draw 2.0"]
    code = "import files_tasks as m; t = m.draw(values=[0, 1, 4, 9], scale=2.0); print(t.run())"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=smt_project.root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(archive)
    # The record lists every file of the folder with its SHA-1.
    from smttask import RSView

    record = RSView().filter.task("draw").latest
    keys = {k.path: k.digest for k in record.output_data}
    data = (archive / "values.csv").read_bytes()
    assert keys[f"draw/{task.key}.files/values.csv"] == hashlib.sha1(data).hexdigest()
    assert f"draw/{task.key}.files/parts/first.txt" in keys
    assert record.get_output() == archive  # every file checked against its recorded SHA-1
    (archive / "values.csv").write_text("edited")
    with pytest.raises(OutputError, match="no longer holds what record"):
        record.get_output()
    (archive / "values.csv").write_bytes(data)
    # `smttask store rebuild` links the folder again.
    link = smt_project.root / "data/draw" / f"{task.key}.files"
    link.unlink()
    from smttask.recording.maintenance import rebuild
    from smttask.recording.store import open_store

    assert rebuild(open_store()).created == [link]
    assert link.resolve() == archive
    # A downstream task takes the folder as an input (by the upstream task's digest).
    assert mod.count_files(folder=task).run() == 1


def test_recompute_publishes_a_numbered_folder(project) -> None:  # type: ignore[no-untyped-def]
    mod = project.write_module("files_tasks", TASKS)
    task = mod.draw(values=[1], scale=1.0)
    first = task.run()
    second = mod.draw(values=[1], scale=1.0).run(recompute=True)
    assert first.name == f"{task.key}.files" and second.name == f"{task.key}.1.files"
    assert mod.draw(values=[1], scale=1.0).run() == second  # the link follows the newest


def test_a_crashed_run_leaves_nothing_that_loads(project) -> None:  # type: ignore[no-untyped-def]
    mod = project.write_module("files_tasks", TASKS)
    task = mod.broken(x=1.0)
    with pytest.raises(TaskExecutionError, match="the plot failed"):
        task.run()
    folder = project.root / "data/run_dump/broken"
    assert list(folder.iterdir()) == []  # the scratch folder is gone, nothing published
    # A scratch folder that a killed process left is never loaded.
    (folder / f".{task.key}.abc.tmp").mkdir()
    (folder / f".{task.key}.abc.tmp" / "half.txt").write_text("x")
    with pytest.raises(OutputError, match="has not been computed"):
        task.get_output()


def test_a_folder_without_manifest_or_outside_the_store_is_refused(project) -> None:  # type: ignore[no-untyped-def]
    mod = project.write_module("files_tasks", TASKS)
    task = mod.draw(values=[1], scale=3.0)
    archive = project.root / "data/run_dump/draw" / f"{task.key}.files"
    archive.mkdir(parents=True)
    (archive / "values.csv").write_text("planted")
    with pytest.raises(OutputError, match=f"has no {MANIFEST}"):
        task.run()
    archive.rename(project.root / "elsewhere")
    link = project.root / "data/draw" / f"{task.key}.files"
    link.parent.mkdir(parents=True)
    link.symlink_to(project.root / "elsewhere")
    with pytest.raises(OutputError, match="does not load it"):
        task.run()


def test_folder_declarations_are_checked_before_anything_runs(
    project, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from smttask import MemoizedTask, RecordedIterativeTask, RecordedTask

    with pytest.raises(TaskDefinitionError, match="no parameter annotated OutputDir"):

        @RecordedTask
        def no_param(x: float) -> OutputDir:
            raise AssertionError

    with pytest.raises(TaskDefinitionError, match="annotate the return type `-> OutputDir`"):

        @RecordedTask
        def no_return(x: float, out: OutputDir) -> float:
            raise AssertionError

    with pytest.raises(TaskDefinitionError, match=r"in memory only.*@RecordedTask"):

        @MemoizedTask
        def memo(x: float, out: OutputDir) -> OutputDir:
            raise AssertionError

    with pytest.raises(TaskDefinitionError, match="iterative task cannot write an OutputDir"):

        @RecordedIterativeTask("n", map={"": "start_n"})
        def it(n: int, start_n: int, out: OutputDir) -> OutputDir:
            raise AssertionError

    mod = project.write_module(
        "wrong_return",
        """
        from smttask import OutputDir, RecordedTask

        @RecordedTask
        def elsewhere(x: float, out: OutputDir) -> OutputDir:
            return out.parent
        """,
    )
    with pytest.raises(OutputError, match="returns the folder it was given"):
        mod.elsewhere(x=1.0).run()


def test_a_task_returning_a_figure_is_refused_at_decoration(project) -> None:  # type: ignore[no-untyped-def]
    # matplotlib is not a dependency; a class of a module named matplotlib.* is what counts.
    project.write("matplotlib/__init__.py", "")
    project.write("matplotlib/figure.py", "class Figure:\n    pass\n")
    sys.modules.pop("matplotlib", None)
    sys.modules.pop("matplotlib.figure", None)
    try:
        from matplotlib.figure import Figure  # type: ignore[import-not-found]

        from smttask import RecordedTask

        def plot(x: float) -> Figure:
            raise AssertionError("never called")

        plot.__annotations__["return"] = Figure
        with pytest.raises(
            TaskDefinitionError, match=r"(?s)matplotlib\.figure\.Figure.*out: OutputDir"
        ):
            RecordedTask(plot)
    finally:
        sys.modules.pop("matplotlib", None)
        sys.modules.pop("matplotlib.figure", None)


def _run(*cmd: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{result.args}:\n{result.stdout}\n{result.stderr}"
    return result


def test_smttask_run_publishes_and_then_loads_the_folder(smt_project) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module("files_tasks", TASKS)
    task = mod.draw(values=[0, 1, 4, 9], scale=1.0)
    path = task.save(smt_project.root / "taskfiles")
    first = _run(BIN / "smttask", "run", path, cwd=smt_project.root)
    assert "1 ran, 0 loaded" in first.stderr
    check_folder(smt_project.root / "data/run_dump/draw" / f"{task.key}.files", 1.0)
    second = _run(BIN / "smttask", "run", path, cwd=smt_project.root)
    assert "0 ran, 1 loaded" in second.stderr
    assert calls(smt_project.root) == ["draw 1.0"]


@pytest.mark.slow
def test_snakemake_lists_the_folder_as_a_directory_output(smt_project) -> None:  # type: ignore[no-untyped-def]
    root = smt_project.root
    smt_project.write(".gitignore", "data/\n__pycache__/\nbuild/\n.snakemake/\ncalls.txt\n")
    smt_project.commit(".gitignore")
    mod = smt_project.write_module("files_tasks", TASKS)
    smt_project.write("pipeline.py", PIPELINE)
    smt_project.commit("pipeline.py")
    _run(BIN / "smttask", "export-snakemake", "pipeline.py:tasks", "-o", "build", cwd=root)
    snakefile = (root / "build/Snakefile").read_text()
    plots = [mod.draw(values=mod.points(n=4), scale=s) for s in (1.0, 2.0)]
    for plot in plots:
        assert f'directory("data/run_dump/draw/{plot.key}.files")' in snakefile
    assert 'message:\n        "draw(scale=1.0)"' in snakefile
    _run(BIN / "snakemake", "-s", "build/Snakefile", "--cores", "2", cwd=root)
    for plot, scale in zip(plots, (1.0, 2.0)):
        check_folder(root / "data/run_dump/draw" / f"{plot.key}.files", scale)
    assert sorted(calls(root)) == ["draw 1.0", "draw 2.0"]
    again = _run(BIN / "snakemake", "-s", "build/Snakefile", "--cores", "2", cwd=root)
    assert "Nothing to be done" in again.stdout + again.stderr
    assert [mod.count_files(folder=p).run() for p in plots] == [1, 1]
    assert sorted(calls(root)) == ["draw 1.0", "draw 2.0"]


def test_a_folder_result_reproduces_file_by_file(smt_project, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    scratch = tmp_path / "scratch"  # the temporary folders of the re-run
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    mod = smt_project.write_module("files_tasks", TASKS)
    mod.draw(values=[0, 1, 4, 9], scale=2.0).run()
    from smttask import RSView

    label = RSView().filter.task("draw").latest.label
    done = _run(BIN / "smttask", "reproduce", label, cwd=smt_project.root)
    assert f"{label}" in done.stdout and ": identical (" in done.stdout, done.stdout
    assert done.stdout.splitlines()[-1] == "1 identical."
