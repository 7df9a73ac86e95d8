"""Export and Snakemake costs of compiled workflows, against baselines measured in the same run.

    python bench/bench_compile.py [--tasks N] [--tiny N] [--batch N] [--skip-dry-run] [--repeat N]

1. Export of an N-task DAG (default 20,000: N/2 `simulate` tasks, each analysed by one
   `analyze` task): time of `smttask.export_snakemake` (trace, check every task file loads
   back, render, write). Target: ≤ 10 s.
2. `snakemake -n` on the exported workflow (auto layout, here: wildcard) against a
   hand-written Snakefile with one wildcard rule per task type and a dict lookup for the
   same DAG. Target: ratio ≤ 1.2.
3. `--tiny` (default 1,000) tiny recorded tasks through `snakemake --cores 2`, batched
   (`--batch`, default 100 per job), each task recorded in the project's Sumatra store,
   against the same number of bare `touch` jobs in one wildcard rule. Target: ratio ≤ 2.

Needs smttask and snakemake on PATH (run it in the project's environment).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

BIN = Path(sys.executable).parent

TASKS = """
from smttask import RecordedTask


@RecordedTask
def simulate(seed: int) -> float:
    return float(seed) * 0.5


@RecordedTask
def analyze(value: float) -> float:
    return value + 1


@RecordedTask
def tiny(i: int) -> int:
    return i
"""

BASELINE = """
# Hand-written: one wildcard rule per task type, upstream files from a dict.
N = {n}
SIM = "data/run_dump/simulate/{{key}}.json"
UPSTREAM = {{a: f"data/run_dump/simulate/{{s}}.json" for a, s in {pairs!r}}}


rule all:
    input:
        expand("data/run_dump/analyze/{{key}}.json", key=list(UPSTREAM)),


rule simulate:
    input: "build/tasks/simulate/{{key}}.json"
    output: SIM
    shell: "smttask run {{input}}"


rule analyze:
    input:
        task="build/tasks/analyze/{{key}}.json",
        upstream=lambda wc: UPSTREAM[wc.key],
    output: "data/run_dump/analyze/{{key}}.json"
    shell: "smttask run {{input.task}}"
"""

TOUCH = """
rule all:
    input: expand("out/{{i}}.txt", i=range({n}))


rule touch:
    output: "out/{{i}}.txt"
    shell: "touch {{output}}"
"""


def env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return seconds


def make_project(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "bench_tasks.py").write_text(textwrap.dedent(TASKS))
    (root / ".gitignore").write_text("data/\nbuild*/\n.snakemake/\nout/\n*.smk\n")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "bench"], cwd=root, check=True)
    timed([str(BIN / "smttask"), "project", "init", "--yes"], root)
    os.chdir(root)
    os.environ["SMTTASK_PROJECT_ROOT"] = str(root)
    sys.path.insert(0, str(root))


def render_only(tasks: list[object], outdir: Path) -> int:
    """Everything the export does but writing; return the number of files."""
    from smttask.compile.snakemake import compile_snakemake
    from smttask.export import check_modules, check_plan, plan_export
    from smttask.graph import trace

    graph = trace(tasks)  # type: ignore[arg-type]
    check_modules(graph)
    plan = plan_export(graph, outdir)
    check_plan(plan, graph)
    return len(compile_snakemake(plan))


def bench_export(root: Path, n: int, dry_run: bool, repeat: int) -> None:
    from bench_tasks import analyze, simulate

    import smttask

    half = n // 2
    start = time.perf_counter()
    tasks = [analyze(value=simulate(seed=i)) for i in range(half)]
    built = time.perf_counter() - start
    start = time.perf_counter()
    result = smttask.export_snakemake(tasks, root / "build")
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    files = render_only(tasks, root / "build")
    in_memory = time.perf_counter() - start
    print(
        f"export of {result.jobs:,} tasks ({result.layout} layout, {result.rules} rules): "
        f"{seconds:.2f} s (target ≤ 10 s); the same without writing the {files:,} files: "
        f"{in_memory:.2f} s (building the tasks took {built:.2f} s)"
    )
    start = time.perf_counter()
    smttask.export_snakemake(tasks, root / "build")
    print(f"re-export, nothing changed: {time.perf_counter() - start:.2f} s")
    if not dry_run:
        return
    pairs = [(t.key, t.inputs["value"].key) for t in tasks]
    (root / "baseline.smk").write_text(BASELINE.format(n=n, pairs=pairs))
    snakemake = str(BIN / "snakemake")
    ours, base = [], []
    for _ in range(repeat):  # alternate, keep the best of each: load on the machine varies
        ours.append(timed([snakemake, "-s", "build/Snakefile", "-n", "--quiet"], root))
        base.append(timed([snakemake, "-s", "baseline.smk", "-n", "--quiet"], root))
    print(
        f"snakemake -n (best of {repeat}): exported {min(ours):.1f} s, hand-written wildcard "
        f"Snakefile {min(base):.1f} s, ratio {min(ours) / min(base):.2f} (target ≤ 1.2)"
    )


def bench_tiny(root: Path, n: int, batch: int) -> None:
    from bench_tasks import tiny

    import smttask

    smttask.export_snakemake([tiny(i=i) for i in range(n)], root / "build_tiny", batch=batch)
    (root / "touch.smk").write_text(TOUCH.format(n=n))
    snakemake = str(BIN / "snakemake")
    ours = timed([snakemake, "-s", "build_tiny/Snakefile", "--cores", "2", "--quiet"], root)
    base = timed([snakemake, "-s", "touch.smk", "--cores", "2", "--quiet"], root)
    print(
        f"{n:,} tiny recorded tasks, {batch} per job: {ours:.1f} s; {n:,} bare touch jobs: "
        f"{base:.1f} s; ratio {ours / base:.2f} (target ≤ 2)"
    )
    redo = timed([snakemake, "-s", "build_tiny/Snakefile", "--cores", "2", "--quiet"], root)
    print(f"second run (nothing to do): {redo:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--tiny", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--skip-dry-run", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="dry runs of each Snakefile")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="smttask-bench-compile-"))
    try:
        make_project(folder / "project")
        bench_export(folder / "project", args.tasks, not args.skip_dry_run, args.repeat)
        if args.tiny:
            bench_tiny(folder / "project", args.tiny, args.batch)
    finally:
        os.chdir("/")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
