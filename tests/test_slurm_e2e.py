"""The exported workflow through a real one-node SLURM (`--profile build/profiles/slurm`).

The cluster comes from `scripts/services/slurm` (fixture `slurm_cluster`); where it cannot
start, the test is skipped with the reason (or fails, with SMTTASK_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from test_snakemake_e2e import BIN, export, make_project, ok, recording_available, records, runs

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

PIPELINE = """
from e2e_tasks import analyze, factor, simulate, summary

runs = [simulate(seed=s, n=50) for s in (1, 2)]
result = summary(values=[analyze(data=r, scale=factor(k=0.5)) for r in runs])
tasks = [result]
"""


def test_pipeline_runs_through_slurm(slurm_cluster, project):
    root = make_project(project, PIPELINE)
    out = export(root, "--slurm-status", "squeue", "--slurm-partition", slurm_cluster.partition)
    assert "Exported 5 jobs" in out
    profile = (root / "build/profiles/slurm/config.yaml").read_text()
    assert "executor: slurm" in profile and "slurm-status-command: squeue" in profile
    env = {**slurm_cluster.env, "PATH": f"{BIN}{os.pathsep}{slurm_cluster.env['PATH']}"}

    def snakemake() -> subprocess.CompletedProcess[str]:
        cmd = [str(BIN / "snakemake"), "-s", "build/Snakefile", "--profile", "build/profiles/slurm"]
        return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=900)

    first = ok(snakemake())
    submitted = re.findall(r"submitted with SLURM jobid (\d+)", first.stderr + first.stdout)
    assert len(submitted) == 5, first.stderr
    states = ok(
        subprocess.run(
            ["squeue", "-h", "-t", "all", "-j", ",".join(submitted), "-o", "%T"],
            env=env,
            capture_output=True,
            text=True,
        )
    ).stdout.split()
    assert states == ["COMPLETED"] * 5
    assert runs(root) == sorted(
        [
            "simulate 1",
            "simulate 2",
            "factor 0.5",
            "factor 0.5",
            "analyze 1.0",
            "analyze 1.0",
            "summary",
        ]
    )
    assert "Nothing to be done" in ok(snakemake()).stderr
    if recording_available():
        assert len(records(root)) == 5
