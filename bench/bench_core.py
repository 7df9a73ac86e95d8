"""Cache-hit costs of smttask against joblib.Memory, measured in the same run.

    python bench/bench_core.py [--repeat N]

For each case, one process computes and stores the result, then a *fresh* process (memory
cache empty, imports done before timing) times repeated cache hits from disk:
  - array case: a 1e6-float64 array and two scalars;
  - scalar case: two scalars;
and the in-memory hit of a MemoizedTask (an existing task object, and a new equal task).
Prints the median time per hit and the ratio joblib / smttask (> 1: smttask is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

MODULE = """
import numpy as np
from joblib import Memory
from scityping.numpy import Array
from typing import Tuple
from smttask import MemoizedTask, RecordedTask

memory = Memory("joblib_cache", verbose=0)

def _analyze(arr, dt, nbins):
    return float(arr.mean()), float(arr.std() * dt), float(nbins)

def _scalars(a, b):
    return a * b + 1.0

analyze_joblib = memory.cache(_analyze)
scalars_joblib = memory.cache(_scalars)

@RecordedTask
def analyze(arr: Array, dt: float, nbins: int) -> Tuple[float, float, float]:
    return _analyze(arr, dt, nbins)

@RecordedTask
def scalars(a: float, b: int) -> float:
    return _scalars(a, b)

@MemoizedTask
def memo(a: float, b: int) -> float:
    return _scalars(a, b)
"""

COMPUTE = """
import numpy as np, benchmod as m
arr = np.random.default_rng(0).random(1_000_000)
np.save("arr.npy", arr)
m.analyze_joblib(arr, 0.5, 2); m.analyze(arr=arr, dt=0.5, nbins=2).run()
m.scalars_joblib(1.5, 2); m.scalars(a=1.5, b=2).run()
"""

TIME = """
import json, statistics, sys, time
import numpy as np, benchmod as m
repeat = int(sys.argv[1])
arr = np.load("arr.npy")

def per_call(fn, n):
    samples = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t) / n)
    return statistics.median(samples)

first = m.analyze(arr=arr, dt=0.5, nbins=2)
first.run()
assert not first.computed, "smttask recomputed instead of loading"
out = {
    "array: joblib": per_call(lambda: m.analyze_joblib(arr, 0.5, 2), max(repeat // 50, 5)),
    "array: smttask": per_call(lambda: m.analyze(arr=arr, dt=0.5, nbins=2).run(), max(repeat // 50, 5)),
    "scalar: joblib": per_call(lambda: m.scalars_joblib(1.5, 2), repeat),
    "scalar: smttask": per_call(lambda: m.scalars(a=1.5, b=2).run(), repeat),
}
task = m.memo(a=1.5, b=2)
task.run()
out["memory: smttask, same task"] = per_call(task.run, repeat * 10)
out["memory: smttask, new equal task"] = per_call(lambda: m.memo(a=1.5, b=2).run(), repeat * 10)
print(json.dumps(out))
"""

TARGETS = {"array: smttask": 1e-3, "scalar: smttask": 25e-6, "memory: smttask, same task": 5e-6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000, help="hits per timing sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smttask-bench-") as tmp:
        root = Path(tmp)
        (root / "benchmod.py").write_text(textwrap.dedent(MODULE))
        env = {
            **os.environ,
            "SMTTASK_RECORD": "0",
            "SMTTASK_PROJECT_ROOT": str(root),
            "PYTHONPATH": str(root),
        }
        subprocess.run([sys.executable, "-c", COMPUTE], cwd=root, env=env, check=True)
        out = subprocess.run(
            [sys.executable, "-c", TIME, str(args.repeat)],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    times = json.loads(out)
    print(f"{'case':34} {'per hit':>12} {'target':>10}")
    for name, seconds in times.items():
        target = TARGETS.get(name)
        mark = (
            ""
            if target is None
            else f"{_fmt(target):>10} {'ok' if seconds <= target else 'MISSED'}"
        )
        print(f"{name:34} {_fmt(seconds):>12} {mark}")
    for case in ("array", "scalar"):
        ratio = times[f"{case}: joblib"] / times[f"{case}: smttask"]
        print(f"{case} cache hit: joblib.Memory / smttask = {ratio:.1f}x")


def _fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


if __name__ == "__main__":
    main()
