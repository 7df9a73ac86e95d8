"""Notebooks run in a real Jupyter kernel (ipykernel, driven by nbclient): tasks run and
record there, the records reach the store, and RSView reads them; the tutorial notebook
(docs/tutorial.ipynb) runs from its first cell to its last in a fresh project folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_docs import blocks

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

DOCS = Path(__file__).resolve().parent.parent / "docs"
SMTTASK = str(Path(sys.executable).with_name("smttask"))
KERNEL = "smttask-tests"


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec running this interpreter (whatever `python3` kernels are installed)."""
    from ipykernel.kernelspec import write_kernel_spec

    write_kernel_spec(tmp_path / "jupyter" / "kernels" / KERNEL)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def execute(nb: Any, folder: Path, kernel: str, timeout: int = 120) -> Any:
    """Run every cell of `nb` in a fresh kernel started in `folder`; raise on any error."""
    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name=kernel, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    return nb


def outputs(cell: Any, key: str) -> list[Any]:
    return [o for o in cell.outputs if key in o.get("data", {}) or o.get("name") == key]


def test_a_kernel_runs_records_and_views(smt_project, kernel) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module(
        "ktasks",
        """
        from smttask import RecordedTask

        @RecordedTask
        def square(x: int) -> int:
            return x * x
        """,
    )
    cells = [
        # The condition Django refuses: an event loop running in the thread of the cells.
        "import asyncio\nasyncio.get_running_loop()",
        "import ktasks\nassert [ktasks.square(x=x).run() for x in range(3)] == [0, 1, 4]",
        "from smttask import recording\nassert recording.flush().records == 3",
        "from smttask.view import RSView\nrs = RSView()\nassert len(rs) == 3\nrs",
        "assert rs.filter.task('square').latest.task.run() == 4\nrs.dframe().shape",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    execute(nb, smt_project.root, kernel)
    assert "RSView" in outputs(nb.cells[3], "text/html")[0]["data"]["text/html"]
    assert outputs(nb.cells[4], "text/plain")[0]["data"]["text/plain"] == "(3, 11)"
    # The kernel has ended; its records are in the store, none waits in a journal.
    from smttask.recording.flush import pending_journals
    from smttask.recording.store import open_store

    assert len(open_store(flush_first=False).labels()) == 3
    assert pending_journals() == []


@pytest.mark.parametrize("page", ["howto/jupyter.md", "howto/browse.md", "howto/reproduce.md"])
def test_a_howto_page_runs_in_a_kernel(page: str, smt_project, kernel) -> None:  # type: ignore[no-untyped-def]
    """The page's examples, one cell each, as a reader would paste them into a notebook."""
    cells = []
    for filename, code in blocks(page):
        if filename:
            smt_project.write_module(filename.removesuffix(".py"), code)
        else:
            cells.append(nbformat.v4.new_code_cell(code))
    nb = nbformat.v4.new_notebook(cells=cells)
    execute(nb, smt_project.root, kernel)
    from smttask.recording.store import open_store

    assert open_store().labels(), f"{page}: the kernel's runs left no record in the store"


def tutorial_project(project) -> Path:  # type: ignore[no-untyped-def]
    """A folder set up as the tutorial says: its module committed, a Sumatra project."""
    root: Path = project.root
    shutil.copy(DOCS / "relax.py", root / "relax.py")
    shutil.copy(DOCS / "tutorial.ipynb", root / "tutorial.ipynb")
    project.commit("relax.py", message="Relaxation tasks")
    subprocess.run([SMTTASK, "project", "init", "--yes"], cwd=root, check=True, capture_output=True)
    project.commit(".gitignore", message="Ignore smttask's folders")  # as the tutorial says
    return root


def test_the_tutorial_runs_in_a_fresh_project(project, kernel) -> None:  # type: ignore[no-untyped-def]
    root = tutorial_project(project)
    nb = nbformat.read(root / "tutorial.ipynb", as_version=4)
    start = time.perf_counter()
    execute(nb, root, kernel)
    print(f"tutorial: {time.perf_counter() - start:.1f} s")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code), "every code cell of the tutorial shows something"
    shown = {key for c in code for o in c.outputs for key in o.get("data", {})}
    assert {"text/html", "image/png"} <= shown  # the view, the DataFrame, the figure
    from smttask.recording.store import open_store

    rows = list(open_store().query())
    assert len(rows) == 2 * 18  # one record per measure and per fit, made in the kernel
    head = project.git("rev-parse", "HEAD").strip()
    assert {(r.main_file, r.version) for r in rows} == {("relax.py", head)}
