"""Sumatra's record store loads without SciPy (``smttask.recording.sumatraload``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from smttask.recording.store import open_store

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("scipy") is None, reason="SciPy is not installed"
)


TASKS = """
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    return x * x
"""


def _python(code: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_scipy_is_kept_out_of_the_importing_thread_only_and_only_in_the_block() -> None:
    code = """
import sys, threading
from smttask.recording.sumatraload import without_scipy
seen = {}
def other_thread():
    import scipy.stats  # another thread imports SciPy as usual meanwhile
    seen["other"] = "scipy.stats" in sys.modules
with without_scipy():
    import parameters.random  # what Sumatra's record store imports
    kept_out = "scipy" not in sys.modules
    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
print(sys.modules["parameters.random"].have_scipy, kept_out, seen["other"], len(sys.meta_path))
"""
    before = _python("import sys; print(len(sys.meta_path))")
    have_scipy, kept_out, other, finders = _python(code).split()
    assert (have_scipy, kept_out, other) == ("False", "True", "True")
    assert finders == before, "the finder keeping SciPy out was left installed"


def test_after_the_block_scipy_imports_as_usual() -> None:
    code = """
import sys
from smttask.recording.sumatraload import without_scipy
with without_scipy():
    import parameters.random
import scipy.stats
print(sys.modules["parameters.random"].have_scipy, callable(scipy.stats.norm.pdf))
"""
    assert _python(code).split() == ["False", "True"]


def test_a_recorded_run_stores_its_record_without_importing_scipy(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module("stasks", TASKS)
    code = (
        "import sys, stasks\n"
        "from smttask import recording\n"
        "stasks.square(x=3).run()\n"
        "report = recording.flush()\n"
        "print(report.records, 'scipy' in sys.modules)\n"
    )
    assert _python(code, cwd=smt_project.root).split() == ["1", "False"]
    assert len(open_store().labels()) == 1
