"""Recovery after the controlling Snakemake dies, on the SLURM test cluster, as
docs/snakemake.md says: SIGKILL Snakemake while its SLURM jobs run or wait in the queue (they
go on without it), then at once `snakemake --unlock` and the same command again. Every task
is computed exactly once (the second job of a task waits on its lease and loads the result)
and has exactly one `_finished_` record.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_snakemake_e2e import BIN, ok, run

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

TASKS = """
import os
import time

from smttask import RecordedTask


@RecordedTask
def step(i: int) -> int:
    with open("computed.txt", "a") as f:  # one line per execution of the function
        f.write(f"step {i} {os.environ.get('SLURM_JOB_ID', '-')}\\n")
    time.sleep(6)
    return i * i


@RecordedTask
def total(values: list) -> int:
    with open("computed.txt", "a") as f:
        f.write(f"total {os.environ.get('SLURM_JOB_ID', '-')}\\n")
    return sum(values)
"""

PIPELINE = """
from kill_tasks import step, total

tasks = [total(values=[step(i=i) for i in range(4)])]
"""

ROWS = """
import json, sys
from pathlib import Path
from smttask.recording.store import open_store
for r in open_store(Path(sys.argv[1])).query():
    print(json.dumps([r.script_arguments, json.loads(r.parameters)["inputs"], sorted(r.tags)]))
"""


def jobs_of(label: str, env: dict[str, str]) -> list[tuple[str, str]]:
    """(job id, state) of the queued or running jobs of the workflow `label`."""
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i %T %j"], env=env, capture_output=True, text=True
    ).stdout
    return [(i, s) for i, s, *rest in (line.split() for line in out.splitlines()) if label in rest]


def test_killed_snakemake_rerun_at_once_computes_each_task_once(slurm_cluster, project):
    project.write(".gitignore", "data/\n__pycache__/\nbuild/\n.snakemake/\ncomputed.txt\n")
    project.commit(".gitignore")
    project.write_module("kill_tasks", TASKS)
    project.write("pipeline.py", PIPELINE)
    project.commit("pipeline.py")
    root = project.root
    ok(run(BIN / "smttask", "project", "init", "--yes", cwd=root))
    export = [BIN / "smttask", "export-snakemake", "pipeline.py:tasks", "-o", "build"]
    ok(run(*export, "--slurm-status", "squeue", cwd=root))
    env = {**slurm_cluster.env, "PATH": f"{BIN}{os.pathsep}{slurm_cluster.env['PATH']}"}
    cmd = [str(BIN / "snakemake"), "-s", "build/Snakefile", "--profile", "build/profiles/slurm"]
    cmd += ["--slurm-init-seconds-before-status-checks", "2"]

    first = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    computed = root / "computed.txt"
    deadline = time.monotonic() + 300
    # 4 jobs on 2 CPUs: kill once two steps compute and the other two are queued
    while not (computed.exists() and computed.read_text().count("step") >= 2):
        assert first.poll() is None, first.communicate()[0]
        assert time.monotonic() < deadline, "no step started within 300 s"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    log = first.communicate()[0]
    submitted = log.count("has been submitted with SLURM jobid")
    assert submitted == 4, log  # the four steps; `total` waits for them
    run_label = log.split("SLURM run ID: ", 1)[1].split()[0]
    left = jobs_of(run_label, env)
    assert left, "the killed Snakemake's jobs should still be in the queue"

    unlock = subprocess.run([*cmd, "--unlock"], cwd=root, env=env, capture_output=True, text=True)
    ok(unlock)
    again = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    ok(again)
    deadline = time.monotonic() + 120  # the orphans end too (they load, or wait then load)
    while jobs_of(run_label, env):
        assert time.monotonic() < deadline, jobs_of(run_label, env)
        time.sleep(0.5)

    lines = computed.read_text().splitlines()
    per_task = collections.Counter(line.rsplit(" ", 1)[0] for line in lines)
    assert per_task == {"step 0": 1, "step 1": 1, "step 2": 1, "step 3": 1, "total": 1}, lines
    # the steps queued when Snakemake died were submitted again (and `total`): two jobs for
    # one task, the later one loaded the result of the first
    resubmitted = again.stderr.count("has been submitted with SLURM jobid")
    assert resubmitted >= 3, again.stderr
    out = ok(run(BIN / "smttask", "store", "flush", cwd=root))
    rows = [
        json.loads(x)
        for x in ok(run(sys.executable, "-c", ROWS, str(root), cwd=root)).stdout.splitlines()
    ]
    finished = collections.Counter(
        (name, json.dumps(inputs, sort_keys=True))
        for name, inputs, tags in rows
        if "_finished_" in tags
    )
    assert len(finished) == 5 and set(finished.values()) == {1}, (rows, out.stdout)
    assert all("_finished_" in tags for _, _, tags in rows), rows  # no killed or crashed record
