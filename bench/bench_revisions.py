"""The first cache hit in a fresh process, across git revisions of smttask, in one run.

    python bench/bench_revisions.py REV [REV ...] [--rounds R]

Each revision is checked out into a temporary worktree and imported from there (PYTHONPATH
before the installed smttask), with the packages of this environment. Per revision, one
process computes the results (recording off) in a project of its own (digests may differ
between revisions); then each round (interleaved, order rotated) new processes time, after
`import smttask` and the task module: the first `run()` that loads an existing result, for an
input of a 1e6-float64 array with two scalars (three floats out) and for two scalars. The
figures are medians; ratios are against the first revision given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
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
"""

HIT = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import smttask
import hits
t1 = time.perf_counter()
arr = np.random.default_rng(0).random(1_000_000)
t2 = time.perf_counter()
hits.analyze(arr=arr, dt=0.5, nbins=2).run()
t3 = time.perf_counter()
hits.scalars(a=1.5, b=3).run()
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "array": t3 - t2, "scalars": t4 - t3}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("revs", nargs="+", help="git revisions (commits, branches, tags)")
    p.add_argument("--rounds", type=int, default=9)
    args = p.parse_args()
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="smttask-revs-") as tmp:
        trees: dict[str, Path] = {}
        projects: dict[str, Path] = {}
        for i, rev in enumerate(args.revs):
            tree = Path(tmp) / f"tree{i}"
            subprocess.run(
                ["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(tree), rev],
                check=True,
            )
            trees[rev] = tree
            project = Path(tmp) / f"project{i}"
            project.mkdir()
            (project / "hits.py").write_text(MODULE)
            projects[rev] = project
        try:
            samples: dict[str, dict[str, list[float]]] = {r: {} for r in args.revs}

            def run(rev: str) -> dict[str, float]:
                env = {
                    **os.environ,
                    "PYTHONPATH": f"{trees[rev]}{os.pathsep}{projects[rev]}",
                    "SMTTASK_PROJECT_ROOT": str(projects[rev]),
                    "SMTTASK_RECORD": "0",
                }
                done = subprocess.run(
                    [sys.executable, "-c", HIT],
                    cwd=projects[rev],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0:
                    sys.exit(f"{rev}: the hit process failed:\n{done.stderr}")
                return dict(json.loads(done.stdout.strip().splitlines()[-1]))

            for rev in args.revs:
                run(rev)  # computes and stores the results
            for r in range(args.rounds):
                order = args.revs[r % len(args.revs) :] + args.revs[: r % len(args.revs)]
                for rev in order:
                    for key, value in run(rev).items():
                        samples[rev].setdefault(key, []).append(value)
        finally:
            for tree in trees.values():
                subprocess.run(
                    ["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)],
                    check=False,
                )
    base = args.revs[0]
    print(
        f"{'revision':<14} {'measure':<8} {'median ms':>10} {'ratio':>7}   ({args.rounds} rounds)"
    )
    for rev in args.revs:
        for key, values in samples[rev].items():
            med = bl.median(values) * 1e3
            ratio = bl.median(values) / bl.median(samples[base][key])
            print(f"{rev[:14]:<14} {key:<8} {med:>10.2f} {ratio:>7.2f}")


if __name__ == "__main__":
    main()
