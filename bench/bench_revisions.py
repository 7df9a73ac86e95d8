"""The same work timed on several git revisions of smttask, in one run.

    python bench/bench_revisions.py REV [REV ...] [--rounds R] [--cases first_hit,core,...]

Each revision is checked out into a temporary worktree and imported from there (PYTHONPATH
before the installed smttask), with the packages of this environment; each gets a git
project of its own (committed, `smttask project init --yes`, SQLite record store), since
digests and file layouts may differ between revisions. Every measurement runs in a new
process; each round runs every revision, in an order rotated each round. The figures are
medians over the rounds; ratios are against the first revision given (below 1: faster).

Cases (all by default), each timed inside its process after `import smttask` and the task
module, only the work named:
  first_hit  the first `run()` that loads an existing result: a 1e6-float64 array with two
             scalars (three floats out), and two scalars;
  core       creating 2000 tasks and taking their digests; 1000 cache hits on new task
             objects of one computed task;
  recording  100 recorded tasks computed for the first time (inputs new in every round),
             the records in the store when the process ends: the loop, and the whole
             process from spawn to exit;
  compile    exporting a 2000-task graph (1000 simulate -> 1000 analyze) as a Snakemake
             workflow into a new folder;
  view       reading every record of the project with RSView (the store grows by the same
             number of records per round for every revision).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib as bl

MODULE = """
from typing import Tuple

from scityping.numpy import Array

from smttask import RecordedTask


@RecordedTask
def analyze(arr: Array, dt: float, nbins: int) -> Tuple[float, float, float]:
    return float(arr.mean()), float(arr.std() * dt), float(nbins)


@RecordedTask
def scalars(a: float, b: int) -> float:
    return a * b


@RecordedTask
def simulate(seed: int, n: int) -> float:
    return float(seed * n)


@RecordedTask
def summarize(x: float, scale: float) -> float:
    return x * scale
"""

PREPARE = """
import numpy as np
import hits
hits.analyze(arr=np.random.default_rng(0).random(1_000_000), dt=0.5, nbins=2).run()
hits.scalars(a=1.5, b=3).run()
for i in range(200):
    hits.simulate(seed=-1 - i, n=3).run()
"""

CASES = {
    "first_hit": """
import numpy as np
arr = np.random.default_rng(0).random(1_000_000)
t0 = time.perf_counter()
hits.analyze(arr=arr, dt=0.5, nbins=2).run()
t1 = time.perf_counter()
hits.scalars(a=1.5, b=3).run()
t2 = time.perf_counter()
out = {"first hit, array": t1 - t0, "first hit, scalars": t2 - t1}
""",
    "core": """
t0 = time.perf_counter()
for i in range(2000):
    hits.scalars(a=float(i), b=i).digest
t1 = time.perf_counter()
hits.scalars(a=1.5, b=3).run()
t2 = time.perf_counter()
for _ in range(1000):
    hits.scalars(a=1.5, b=3).run()
t3 = time.perf_counter()
out = {"create 2000 tasks + digests": t1 - t0, "1000 hits, new task objects": t3 - t2}
""",
    "recording": """
base = int(os.environ["BENCH_ROUND"]) * 1000
t0 = time.perf_counter()
for i in range(100):
    hits.scalars(a=float(base + i), b=7).run()
out = {"100 recorded first runs (loop)": time.perf_counter() - t0}
""",
    "compile": """
from smttask import export_snakemake
sims = [hits.simulate(seed=i, n=3) for i in range(1000)]
tasks = [hits.summarize(x=s, scale=0.5) for s in sims]
t0 = time.perf_counter()
export_snakemake(tasks, os.environ["BENCH_OUT"])
out = {"export 2000 tasks": time.perf_counter() - t0}
""",
    "view": """
from smttask import RSView
t0 = time.perf_counter()
len(RSView().records())
out = {"RSView: read every record": time.perf_counter() - t0}
""",
}

HEAD = """
import json, os, sys, time
import smttask
import hits
"""
TAIL = """
print(json.dumps(out))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("revs", nargs="+", help="git revisions (commits, branches, tags)")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated, of: %(default)s")
    args = p.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    load_start = bl.load_average()
    with (
        tempfile.TemporaryDirectory(prefix="smttask-revs-") as tmp,
        contextlib.ExitStack() as trees,
    ):
        tree: dict[str, Path] = {}
        projects: dict[str, Path] = {}

        def env_for(rev: str, **extra: str) -> dict[str, str]:
            env = bl.base_env(
                PYTHONPATH=str(projects[rev]), SMTTASK_PROJECT_ROOT=str(projects[rev]), **extra
            )
            return bl.revision_env(env, tree[rev])

        for i, rev in enumerate(args.revs):
            checkout = trees.enter_context(bl.revision(rev, Path(tmp), f"tree{i}"))
            assert checkout is not None
            tree[rev] = checkout
            projects[rev] = bl.git_project(
                Path(tmp) / f"project{i}",
                {"hits.py": MODULE, ".gitignore": "__pycache__/\n"},
                smt=False,
            )
            init = [*bl.smttask_command(checkout), "project", "init", "--yes"]
            bl.wall(init, cwd=projects[rev], env=env_for(rev))
            subprocess.run(  # what `project init` added (.gitignore lines)
                "git add -A && git commit -q -m init || true",
                shell=True,
                cwd=projects[rev],
                env=env_for(rev),
                check=True,
                capture_output=True,
            )
            bl.wall([sys.executable, "-c", PREPARE], cwd=projects[rev], env=env_for(rev))
            bl.progress(f"{rev}: project ready")

        samples: dict[str, dict[str, list[float]]] = {r: {} for r in args.revs}

        def measure(rev: str, case: str, r: int) -> None:
            out = Path(tmp) / f"build-{args.revs.index(rev)}-{r}"
            env = env_for(rev, BENCH_ROUND=str(r), BENCH_OUT=str(out))
            start = time.perf_counter()
            values, _ = bl.run_json(
                [sys.executable, "-c", HEAD + CASES[case] + TAIL],
                cwd=projects[rev],
                env=env,
            )
            process = time.perf_counter() - start
            if case == "recording":
                values["100 recorded first runs (whole process)"] = process
            for key, value in values.items():
                samples[rev].setdefault(key, []).append(value)

        for r in range(args.rounds):
            for case in cases:
                for rev in bl.rotated(args.revs, r):
                    measure(rev, case, r)
            bl.progress(f"round {r + 1}/{args.rounds} done")
    load_end = bl.load_average()
    base = args.revs[0]
    width = max(len(k) for k in samples[base])
    print(f"{args.rounds} rounds; load average at start {load_start}, at end {load_end}")
    print(f"{'measure':<{width}}  {'revision':<10} {'median':>10} {'min–max':>20} {'ratio':>6}")
    for key in samples[base]:
        for rev in args.revs:
            values = samples[rev][key]
            med = bl.median(values)
            ratio = med / bl.median(samples[base][key])
            spread = f"{bl.fmt_seconds(min(values))}–{bl.fmt_seconds(max(values))}"
            print(
                f"{key:<{width}}  {rev[:10]:<10} {bl.fmt_seconds(med):>10} {spread:>20} "
                f"{ratio:>6.2f}"
            )


if __name__ == "__main__":
    main()
