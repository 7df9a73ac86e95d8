"""``.smt/project`` keeps the paths inside the project relative to it: a project folder can
be moved (or mounted at another path on each node), and older absolute files still work."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TASKS = """
from smttask import RecordedTask

@RecordedTask
def triple(x: int) -> int:
    with open("runs.txt", "a") as f:
        f.write(f"{x}\\n")
    return 3 * x
"""

CODE = (
    "import json, mv_tasks; from smttask.recording.store import open_store; "
    "t = mv_tasks.triple(x={x}); v = t.run(); "
    "print(json.dumps([v, t.computed, str(t.output_paths['']), len(open_store().labels())]))"
)


def run_in(root: Path, x: int) -> list:  # type: ignore[type-arg]
    done = subprocess.run(
        [sys.executable, "-c", CODE.format(x=x)],
        cwd=root,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SMTTASK_PROJECT_ROOT"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_a_moved_project_keeps_its_results_and_records(smt_project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    smt_project.write(".gitignore", "data/\nruns.txt\n")
    smt_project.commit(".gitignore")
    smt_project.write_module("mv_tasks", TASKS)
    data = json.loads((smt_project.root / ".smt" / "project").read_text())
    assert data["data_store"]["root"] == "data/run_dump"
    assert data["input_datastore"]["root"] == "data"
    assert data["record_store"]["db_file"] == ".smt/records"
    assert run_in(smt_project.root, 1)[:2] == [3, True]
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    os.chdir(tmp_path)
    shutil.move(str(smt_project.root), moved)
    value, computed, path, records = run_in(moved, 1)
    assert (value, computed, records) == (3, False, 1) and path.startswith(str(moved))
    value, computed, path, records = run_in(moved, 2)
    assert (value, computed, records) == (6, True, 2) and path.startswith(str(moved))


def test_absolute_paths_of_older_project_files_are_still_read(smt_project) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording import find_project

    path = smt_project.root / ".smt" / "project"
    data = json.loads(path.read_text())
    root = smt_project.root
    data["data_store"]["root"] = str(root / "data/run_dump")
    data["input_datastore"]["root"] = str(root / "data")
    data["record_store"]["db_file"] = str(root / ".smt/records")
    path.write_text(json.dumps(data))
    info = find_project(root)
    assert info is not None
    assert (info.output_root, info.input_root) == (root / "data/run_dump", root / "data")
    assert info.store == str(root / ".smt/records")
