"""The seed example, end to end, the way the README's main job runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_seed_example_computes_then_loads_in_a_fresh_project(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    proc = subprocess.run(
        [sys.executable, str(REPO / "workflows/demo.py"), "--seed-only", str(folder)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "computed: True" in proc.stdout
    assert "second run computed: False" in proc.stdout
    assert "0 ran, 1 loaded, 0 failed" in proc.stderr  # smttask run in a new process loads it
    archives = list((folder / "data/run_dump/analyze").iterdir())
    assert [p.suffix for p in archives] == [".json"]
    listed = proc.stdout[proc.stdout.index("smttask smt list") :].split()
    assert len([w for w in listed if "_analyze_" in w]) == 1  # one execution, one record
