"""Exported workflows on the SLURM test cluster (`scripts/services/slurm`), against bare jobs
submitted the same way in the same run.

    python bench/bench_cluster.py [--quick] [--n N] [--rounds R] [--json FILE]

1. The pipeline of N (default 100) `simulate` tasks, each analysed by one `analyze` task,
   and one `summary` of them all (2N + 1 recorded tasks), exported with
   `--slurm-status squeue` and run with `snakemake --profile build/profiles/slurm`:
   unbatched (one SLURM job per task), then, in the same project with other seeds, exported
   with `--batch auto` (sizes chosen from the records of the first run; shown). Baseline:
   2N + 1 bare jobs (`true`, then touching the output) in one wildcard rule, through the same
   profile.
2. Kill and rerun: a workflow of K (default 6) tasks of 5 s on the 2-CPU node; Snakemake is
   killed (SIGKILL) while two compute and the others wait in the queue, then
   `snakemake --unlock` and the same command at once, as docs/snakemake.md says. Counted:
   computations per task (a line per execution of the function), `_finished_` records per
   task, SLURM jobs submitted.
3. Retries: an always-failing task with `retries=2` and a task with `retries=1` that fails
   once: attempts (executions of the function) and records with their attempt tags.

Every command gets `--slurm-init-seconds-before-status-checks 2`. The cluster is shared:
the load average is reported at the start and the end; the figures of a busy run are
indicative only. Needs a running cluster (`scripts/services/slurm start`, as root).
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib as bl

ROOT = Path(__file__).resolve().parent.parent
SLURM = ROOT / "scripts" / "services" / "slurm"

PIPELINE_TASKS = """
from smttask import RecordedTask


@RecordedTask
def simulate(seed: int) -> float:
    return seed * 0.5


@RecordedTask
def analyze(value: float) -> float:
    return value + 1


@RecordedTask
def summary(values: list) -> float:
    return sum(values)
"""

PIPELINE = """
import os
from cluster_tasks import analyze, simulate, summary

first, n = int(os.environ["BENCH_FIRST_SEED"]), int(os.environ["BENCH_N"])
tasks = [summary(values=[analyze(value=simulate(seed=s)) for s in range(first, first + n)])]
"""

BARE = """
rule all:
    localrule: True
    input: expand("out/{i}.txt", i=range(@JOBS@))


rule bare:
    output: "out/{i}.txt"
    shell: "true && touch {output}"
"""

KILL_TASKS = """
import os, time
from smttask import RecordedTask


@RecordedTask
def step(i: int) -> int:
    with open("computed.txt", "a") as f:
        f.write(f"step {i}\\n")
    time.sleep(5)
    return i


@RecordedTask
def total(values: list) -> int:
    with open("computed.txt", "a") as f:
        f.write("total\\n")
    return sum(values)
"""

KILL_PIPELINE = """
import os
from kill_tasks import step, total

tasks = [total(values=[step(i=i) for i in range(int(os.environ["BENCH_K"]))])]
"""

RETRY_TASKS = """
from pathlib import Path
from smttask import RecordedTask


@RecordedTask(retries=2)
def always(x: int) -> int:
    with open("computed.txt", "a") as f:
        f.write("always\\n")
    raise RuntimeError("always fails")


@RecordedTask(retries=1)
def flaky(x: int) -> int:
    with open("computed.txt", "a") as f:
        f.write("flaky\\n")
    if not Path("flaky.failed").exists():
        Path("flaky.failed").touch()
        raise RuntimeError("fails once")
    return x
"""

RETRY_PIPELINE = """
from retry_tasks import always, flaky

tasks = [always(x=1), flaky(x=2)]
"""

#: Records (task name, inputs, tags) through the record-store seam, in a fresh process.
ROWS = """
import json, sys
from pathlib import Path
from smttask.recording.store import open_store
for r in open_store(Path(sys.argv[1])).query():
    print(json.dumps([r.script_arguments, json.loads(r.parameters)["inputs"], sorted(r.tags)]))
"""

GITIGNORE = "data/\nbuild*/\n.snakemake/\nout/\ncomputed.txt\nflaky.failed\n"
INIT = ("--slurm-init-seconds-before-status-checks", "2")


def cluster_env() -> dict[str, str]:
    env = {k: v for k, v in bl.base_env().items() if not k.startswith(("SLURM_", "SBATCH_"))}
    return {**env, "SLURM_CONF": "/etc/slurm/slurm.conf"}


def project(folder: Path, files: dict[str, str]) -> Path:
    root = bl.git_project(folder, {**files, ".gitignore": GITIGNORE})
    # `smttask project init` added its own lines to .gitignore
    commit = ["git", "commit", "-qam", "project"]
    subprocess.run(commit, cwd=root, env=bl.base_env(), check=True, capture_output=True)
    return root


def export(root: Path, out: str, *options: str, env: dict[str, str]) -> str:
    cmd = [bl.bin_path("smttask"), "export-snakemake", "pipeline.py:tasks", "-o", out]
    cmd += ["--slurm-status", "squeue", *options]
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"export failed in {root}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def snakemake(root: Path, out: str, *extra: str, env: dict[str, str]) -> list[str]:
    snakefile = f"{out}/Snakefile" if (root / out / "Snakefile").exists() else "Snakefile"
    cmd = [bl.bin_path("snakemake"), "-s", snakefile, "--profile", f"{out}/profiles/slurm"]
    return [*cmd, *INIT, *extra]


def records(root: Path, env: dict[str, str]) -> list[tuple[str, str, tuple[str, ...]]]:
    out = subprocess.run(
        [sys.executable, "-c", ROWS, str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return [(n, json.dumps(i, sort_keys=True), tuple(t)) for n, i, t in rows]


def sizes(readme: str) -> str:
    """'task: tasks per job' of each task type, from the export's README table."""
    found = re.findall(r"^\| `(\w+)` \| (\d+) \| (\d+) \| ([^|]+) \|", readme, re.MULTILINE)
    return ", ".join(f"{t}: {per.strip()} per job ({jobs} jobs)" for t, _, jobs, per in found)


# -- 1. the pipeline ---------------------------------------------------------------------------


def pipeline_round(base: Path, n: int, env: dict[str, str]) -> dict[str, Any]:
    jobs = 2 * n + 1
    root = project(base / "smttask", {"cluster_tasks.py": PIPELINE_TASKS, "pipeline.py": PIPELINE})
    bare = base / "bare"
    bare.mkdir()
    (bare / "Snakefile").write_text(BARE.replace("@JOBS@", str(jobs)))
    first = {**env, "BENCH_FIRST_SEED": "0", "BENCH_N": str(n)}
    export(root, "build", env=first)
    # the bare jobs go through the very same profile
    shutil.copytree(root / "build/profiles", bare / "build/profiles")
    shutil.rmtree(bare / "build/profiles/slurm/logs", ignore_errors=True)
    out: dict[str, Any] = {}
    bl.progress(f"cluster: {jobs} bare jobs")
    out["bare"] = bl.wall(snakemake(bare, "build", env=env), cwd=bare, env=env)
    bl.progress(f"cluster: {jobs} tasks, one job each")
    out["unbatched"] = bl.wall(snakemake(root, "build", env=first), cwd=root, env=first)
    found = records(root, env)
    out["records"] = sum("_finished_" in tags for _, _, tags in found)
    second = {**env, "BENCH_FIRST_SEED": str(10 * n), "BENCH_N": str(n)}
    export(root, "build-auto", "--batch", "auto", env=second)
    out["sizes"] = sizes((root / "build-auto/README.md").read_text())
    auto_jobs = sum(int(j) for j in re.findall(r"\((\d+) jobs\)", out["sizes"]))
    out["auto_jobs"] = auto_jobs
    bl.progress(f"cluster: {jobs} tasks, --batch auto ({out['sizes']})")
    out["auto"] = bl.wall(snakemake(root, "build-auto", env=second), cwd=root, env=second)
    out["auto_records"] = sum("_finished_" in t for _, _, t in records(root, env)) - out["records"]
    return out


# -- 2. kill and rerun -------------------------------------------------------------------------


def kill_and_rerun(base: Path, k: int, env: dict[str, str]) -> dict[str, Any]:
    root = project(base, {"kill_tasks.py": KILL_TASKS, "pipeline.py": KILL_PIPELINE})
    env = {**env, "BENCH_K": str(k)}
    export(root, "build", env=env)
    cmd = snakemake(root, "build", env=env)
    first = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    computed = root / "computed.txt"
    deadline = time.monotonic() + 600
    while not (computed.exists() and computed.read_text().count("step") >= 2):
        if first.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"kill-and-rerun: no two steps started:\n{first.communicate()[0]}")
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    log = first.communicate()[0]
    run_id = log.split("SLURM run ID: ", 1)[1].split()[0]
    queued = squeue(run_id, env)
    start = time.perf_counter()
    bl.wall([*cmd, "--unlock"], cwd=root, env=env)
    again = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if again.returncode != 0:
        raise SystemExit(f"kill-and-rerun: the rerun failed:\n{again.stderr}")
    rerun = time.perf_counter() - start
    while squeue(run_id, env):  # the killed Snakemake's jobs end too
        time.sleep(0.5)
    per_task = collections.Counter(computed.read_text().splitlines())
    finished = collections.Counter(
        (n, i) for n, i, tags in records(root, env) if "_finished_" in tags
    )
    return {
        "tasks": k + 1,
        "left_in_queue": len(queued),
        "submitted": log.count("submitted with SLURM jobid")
        + again.stderr.count("submitted with SLURM jobid"),
        "computations": sorted(set(per_task.values())),
        "computed_tasks": len(per_task),
        "finished": sorted(set(finished.values())),
        "finished_tasks": len(finished),
        "rerun": rerun,
    }


def squeue(run_id: str, env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i %j"], env=env, capture_output=True, text=True
    ).stdout
    return [line.split()[0] for line in out.splitlines() if run_id in line.split()[1:]]


# -- 3. retries --------------------------------------------------------------------------------


def retries(base: Path, env: dict[str, str]) -> dict[str, Any]:
    root = project(base, {"retry_tasks.py": RETRY_TASKS, "pipeline.py": RETRY_PIPELINE})
    export(root, "build", env=env)
    done = subprocess.run(
        snakemake(root, "build", env=env), cwd=root, env=env, capture_output=True, text=True
    )
    attempts = collections.Counter((root / "computed.txt").read_text().splitlines())
    found = records(root, env)
    return {
        "exit": done.returncode,
        "submitted": done.stderr.count("submitted with SLURM jobid"),
        "attempts": dict(attempts),
        "records": {
            name.rsplit(".", 1)[1]: sorted(" ".join(t) for n, _, t in found if n == name)
            for name in sorted({n for n, _, _ in found})
        },
    }


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--n", type=int, default=None, help="simulate tasks (default 100; quick: 20)")
    p.add_argument("--k", type=int, default=6, help="tasks of the kill-and-rerun case")
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args()
    n = args.n or (20 if args.quick else 100)
    status = subprocess.run([str(SLURM), "status"], capture_output=True, text=True)
    if status.returncode != 0:
        raise SystemExit(f"The SLURM test cluster is not ready:\n{status.stdout}{status.stderr}")
    limits = re.search(r"^limits:\s*(.*)$", status.stdout, re.MULTILINE)
    env = cluster_env()
    load_start = bl.load_average()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        for r in range(args.rounds):
            rounds.append(pipeline_round(Path(tmp) / f"pipeline{r}", n, env))
        killed = kill_and_rerun(Path(tmp) / "kill", args.k, env)
        retried = retries(Path(tmp) / "retries", env)
    load_end = bl.load_average()
    jobs = 2 * n + 1
    last = rounds[-1]
    result = {
        "name": "cluster",
        "title": "Exported workflows on the SLURM test cluster",
        "about": [
            f"{jobs} recorded tasks ({n} simulate → {n} analyze → 1 summary) through "
            f"`--profile build/profiles/slurm` on the one-node test cluster, against {jobs} bare "
            f"jobs through the same profile.",
            f"Load average at the start {load_start[0]:.2f} / {load_start[1]:.2f} / "
            f"{load_start[2]:.2f}, at the end {load_end[0]:.2f} / {load_end[1]:.2f} / "
            f"{load_end[2]:.2f} (1/5/15 min); cluster limits: "
            f"{limits.group(1) if limits else 'unknown'}.",
        ],
        "tables": [
            bl.pairs_table(
                "1. Wall time of the whole workflow",
                [
                    (
                        f"{jobs} tasks, one job each",
                        [r["unbatched"] for r in rounds],
                        f"{jobs} bare jobs",
                        [r["bare"] for r in rounds],
                    ),
                    (
                        f"{jobs} tasks, --batch auto ({last['auto_jobs']} jobs)",
                        [r["auto"] for r in rounds],
                        f"{jobs} bare jobs",
                        [r["bare"] for r in rounds],
                    ),
                ],
                note=f"--batch auto chose: {last['sizes']}. Finished records: "
                f"{last['records']} unbatched, {last['auto_records']} batched (of {jobs} each).",
            ),
        ],
        "notes": [
            f"Kill and rerun ({killed['tasks']} tasks, {killed['left_in_queue']} jobs of the killed "
            f"Snakemake still queued or running): computations per task {killed['computations']} "
            f"({killed['computed_tasks']} tasks), finished records per task {killed['finished']} "
            f"({killed['finished_tasks']} tasks), {killed['submitted']} SLURM jobs submitted in "
            f"all; unlock + rerun {bl.fmt_seconds(killed['rerun'])}.",
            f"Retries: exit code {retried['exit']}, {retried['submitted']} SLURM jobs, executions "
            f"{retried['attempts']}, records {retried['records']}.",
        ],
    }
    bl.emit(result, args.json)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
