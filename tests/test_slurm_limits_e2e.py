"""Memory limits on the SLURM test cluster: a task that needs more memory than its declared
``mem_mb`` is killed by SLURM (cgroup limits, or polling where cgroups are not usable; see
`scripts/services/slurm --help`), and smttask says so: the record, `smttask run`'s message
in the job's log and the Snakemake error name the limit to raise.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_snakemake_e2e import BIN, ok, run

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

TASKS = """
import time

from smttask import RecordedTask


@RecordedTask(resources={"mem_mb": 400})
def hog(mb: int) -> int:
    with open("runs.txt", "a") as f:
        f.write(f"hog {mb}\\n")
    block = bytearray(mb << 20)
    for i in range(0, len(block), 4096):  # touch every page: resident, not just reserved
        block[i] = 1
    time.sleep(3)  # long enough for a polling limit to see it
    return len(block)
"""

PIPELINE = """
from hog_tasks import hog

tasks = [hog(mb=1500)]
"""

ROWS = """
import json, sys
from pathlib import Path
from smttask.recording.store import open_store
for r in open_store(Path(sys.argv[1])).query():
    print(json.dumps([r.script_arguments, sorted(r.tags), r.outcome]))
"""


def make_project(project) -> Path:  # type: ignore[no-untyped-def]
    project.write(".gitignore", "data/\n__pycache__/\nbuild/\n.snakemake/\nruns.txt\n")
    project.commit(".gitignore")
    project.write_module("hog_tasks", TASKS)
    project.write("pipeline.py", PIPELINE)
    project.commit("pipeline.py")
    sys.modules.pop("pipeline", None)
    ok(run(BIN / "smttask", "project", "init", "--yes", cwd=project.root))
    export = [BIN / "smttask", "export-snakemake", "pipeline.py:tasks", "-o", "build"]
    ok(run(*export, "--slurm-status", "squeue", cwd=project.root))
    return project.root


def test_a_task_over_its_memory_limit_is_killed_and_said_so(slurm_cluster, project):
    root = make_project(project)
    env = {**slurm_cluster.env, "PATH": f"{BIN}{os.pathsep}{slurm_cluster.env['PATH']}"}
    cmd = [str(BIN / "snakemake"), "-s", "build/Snakefile", "--profile", "build/profiles/slurm"]
    cmd += ["--slurm-init-seconds-before-status-checks", "2"]
    result = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert (root / "runs.txt").read_text() == "hog 1500\n"  # it started, and ran once
    assert not (root / "data/run_dump/hog").exists() or not any(
        (root / "data/run_dump/hog").iterdir()
    )
    # Snakemake names the failed rule, the SLURM job and the logs to read
    job = re.search(r"SLURM-job '(\d+)' failed, SLURM status is: '(\w+)'", result.stderr)
    assert job, result.stderr
    assert "Error in rule hog_" in result.stderr
    logs = re.findall(r"log: (build/logs/hog/\S+\.log), (\S+\.log)", result.stderr)
    assert logs, result.stderr
    smttask_log, slurm_log = root / logs[0][0], Path(logs[0][1])
    state = ok(
        subprocess.run(
            ["squeue", "-h", "-t", "all", "-j", job.group(1), "-o", "%T"],
            env=env,
            capture_output=True,
            text=True,
        )
    ).stdout.strip()
    assert state in ("FAILED", "OUT_OF_MEMORY"), state
    rows = [
        json.loads(line)
        for line in ok(run(sys.executable, "-c", ROWS, str(root), cwd=root)).stdout.splitlines()
    ]
    assert len(rows) == 1
    name, tags, outcome = rows[0]
    assert name == "hog_tasks.hog" and tags == ["_killed_", "attempt:1"]
    if slurm_cluster.limits == "cgroup":
        # the kernel killed the task's process; smttask's supervising parent says why
        assert "oom-kill event" in slurm_log.read_text()
        said = smttask_log.read_text()
        assert said.startswith("smttask: Out of memory:"), said
        for text in (said, outcome):
            assert "Out of memory" in text and f"SLURM job {job.group(1)}" in text
            assert "memory limit of 400 MB" in text and "resources={'mem_mb': 800}" in text
        assert "records ended as _killed_: hog_tasks.hog" in said
    else:  # polling kills the whole job, supervisor included: SLURM's log says why
        assert "exceeded memory limit" in slurm_log.read_text()
        assert "out of memory" in outcome
