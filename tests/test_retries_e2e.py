"""Retries of exported workflows, exactly as declared: `retries=N` gives at most N + 1
attempts, each with one record naming its attempt (tag `attempt:<n>`), on this machine
(`--cores 2`) and through the SLURM test cluster (where the Snakemake inside each SLURM job
must not retry the rule once more).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_snakemake_e2e import BIN, ok, run, snakemake

pytestmark = pytest.mark.slow

TASKS = """
from pathlib import Path

from smttask import RecordedTask


def log(line: str) -> None:
    with open("runs.txt", "a") as f:
        f.write(line + "\\n")


@RecordedTask(retries=2)
def always(x: int) -> int:
    log(f"always {x}")
    raise RuntimeError(f"always fails ({x})")


@RecordedTask(retries=1)
def flaky(x: int) -> int:
    log(f"flaky {x}")
    marker = Path(f"flaky-{x}.failed")
    if not marker.exists():  # the first attempt fails, the next one succeeds
        marker.touch()
        raise RuntimeError("fails on its first attempt")
    return 10 * x
"""

PIPELINE = """
from retry_tasks import always, flaky

tasks = [always(x=1), flaky(x=2)]
"""

#: Reads the records through the record-store seam, in a fresh process.
ROWS = """
import json, sys
from pathlib import Path
from smttask.recording.store import open_store
for r in open_store(Path(sys.argv[1])).query():
    print(json.dumps([r.script_arguments, sorted(r.tags), r.outcome]))
"""


def make_project(project, *export_options: str) -> Path:  # type: ignore[no-untyped-def]
    project.write(".gitignore", "data/\n__pycache__/\nbuild/\n.snakemake/\nruns.txt\nflaky-*\n")
    project.commit(".gitignore")
    project.write_module("retry_tasks", TASKS)
    project.write("pipeline.py", PIPELINE)
    project.commit("pipeline.py")
    sys.modules.pop("pipeline", None)
    ok(run(BIN / "smttask", "project", "init", "--yes", cwd=project.root))
    export = [BIN / "smttask", "export-snakemake", "pipeline.py:tasks", "-o", "build"]
    ok(run(*export, *export_options, cwd=project.root))
    return project.root


def rows(root: Path) -> list[tuple[str, tuple[str, ...], str]]:
    out = ok(run(sys.executable, "-c", ROWS, str(root), cwd=root)).stdout
    found = [json.loads(line) for line in out.splitlines()]
    return sorted((name, tuple(tags), outcome) for name, tags, outcome in found)


def check_attempts(root: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0  # `always` never succeeds
    assert sorted((root / "runs.txt").read_text().splitlines()) == [
        "always 1",
        "always 1",
        "always 1",  # retries=2: exactly 3 attempts
        "flaky 2",
        "flaky 2",  # failed once, then succeeded
    ]
    failed = ("RuntimeError: always fails (1)", "RuntimeError: fails on its first attempt")
    assert rows(root) == [
        ("retry_tasks.always", ("_crashed_", "attempt:1"), failed[0]),
        ("retry_tasks.always", ("_crashed_", "attempt:2"), failed[0]),
        ("retry_tasks.always", ("_crashed_", "attempt:3"), failed[0]),
        ("retry_tasks.flaky", ("_crashed_", "attempt:1"), failed[1]),
        ("retry_tasks.flaky", ("_finished_", "attempt:2"), ""),
    ]
    stored = sorted(p.name for p in (root / "data/run_dump/flaky").iterdir())
    assert len(stored) == 1 and stored[0].endswith(".json")  # stored once, not renumbered
    assert not (root / "data/run_dump/always").exists() or not any(
        (root / "data/run_dump/always").iterdir()
    )
    listing = ok(run(BIN / "smttask", "smt", "list", "--long", cwd=root)).stdout
    assert "attempt:3" in listing and "attempt:2" in listing  # Sumatra's own listing shows it


def test_retries_on_this_machine(project):
    root = make_project(project)
    result = snakemake(root, "-s", "build/Snakefile", "--profile", "build/profiles/local", "-c2")
    check_attempts(root, result)
    assert "Error in rule always_" in result.stderr


def test_retries_through_slurm(slurm_cluster, project):
    root = make_project(project, "--slurm-status", "squeue")
    env = {**slurm_cluster.env, "PATH": f"{BIN}{os.pathsep}{slurm_cluster.env['PATH']}"}
    cmd = [str(BIN / "snakemake"), "-s", "build/Snakefile", "--profile", "build/profiles/slurm"]
    cmd += ["--slurm-init-seconds-before-status-checks", "2"]
    result = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    check_attempts(root, result)
    submitted = result.stderr.count("has been submitted with SLURM jobid")
    assert submitted == 5  # 3 attempts of `always`, 2 of `flaky`: one SLURM job each
    logs = list((root / "build/profiles/slurm/logs").glob("rule_always_*/*.log"))
    assert len(logs) == 3  # the SLURM logs of the failed jobs, under the build folder
