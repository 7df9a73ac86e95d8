"""Cache-hit costs of smttask against joblib.Memory, measured in the same run.

    python bench/bench_core.py [--quick] [--repeat N] [--samples S]

For each case, one process computes and stores the result, then a *fresh* process (memory
cache empty, imports done before timing) times repeated cache hits from disk:
  - array case: a 1e6-float64 array and two scalars;
  - scalar case: two scalars;
and the in-memory hit of a MemoizedTask (an existing task object, and a new equal task).
Prints the median time per hit (S interleaved samples) and the ratio smttask / joblib
(< 1: smttask is faster).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import benchlib as bl

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
import json, sys, time
import numpy as np, benchmod as m
repeat, samples = int(sys.argv[1]), int(sys.argv[2])
arr = np.load("arr.npy")

first = m.analyze(arr=arr, dt=0.5, nbins=2)
first.run()
assert not first.computed, "smttask recomputed instead of loading"
task = m.memo(a=1.5, b=2)
task.run()
few = max(repeat // 50, 5)
cases = {
    "array: joblib": (lambda: m.analyze_joblib(arr, 0.5, 2), few),
    "array: smttask": (lambda: m.analyze(arr=arr, dt=0.5, nbins=2).run(), few),
    "scalar: joblib": (lambda: m.scalars_joblib(1.5, 2), repeat),
    "scalar: smttask": (lambda: m.scalars(a=1.5, b=2).run(), repeat),
    "memory: smttask, same task": (task.run, repeat * 10),
    "memory: smttask, new equal task": (lambda: m.memo(a=1.5, b=2).run(), repeat * 10),
}
names = list(cases)
out = {name: [] for name in names}
for s in range(samples):  # interleaved: every case once per sample, order rotated
    k = s % len(names)
    for name in names[k:] + names[:k]:
        fn, n = cases[name]
        t = time.perf_counter()
        for _ in range(n):
            fn()
        out[name].append((time.perf_counter() - t) / n)
print(json.dumps(out))
"""


TARGETS = {"array hit": 1e-3, "scalar hit": 25e-6, "in-memory hit, same task": 5e-6}


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--repeat", type=int, help="hits per timing sample (default 2000; --quick: 200)")
    p.add_argument("--samples", type=int, help="interleaved samples (default 7; --quick: 3)")
    args = p.parse_args()
    repeat = args.repeat or (200 if args.quick else 2000)
    samples = args.samples or (3 if args.quick else 7)
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
        times, _ = bl.run_json(
            [sys.executable, "-c", TIME, str(repeat), str(samples)], cwd=root, env=env
        )
    rows = [
        ("array: 1e6-float64 array + 2 scalars in, 3 floats out", times["array: smttask"],
         "joblib.Memory", times["array: joblib"]),
        ("scalar: 2 scalars in, 1 float out", times["scalar: smttask"],
         "joblib.Memory", times["scalar: joblib"]),
        ("MemoizedTask in memory, same task object", times["memory: smttask, same task"],
         None, None),
        ("MemoizedTask in memory, new equal task", times["memory: smttask, new equal task"],
         None, None),
    ]  # fmt: skip
    targets = ", ".join(f"{k}: {bl.fmt_seconds(v)}" for k, v in TARGETS.items())
    result = {
        "name": "core",
        "title": "Warm cache hits per call (smttask against joblib.Memory)",
        "about": [
            "A fresh process loads the results once, then times repeated hits from disk "
            f"({repeat} hits per sample for scalars, {max(repeat // 50, 5)} for arrays; "
            f"{samples} interleaved samples). Ratios < 1: smttask is faster."
        ],
        "settings": {
            "smttask": "`@RecordedTask` (recording off), a new task object per call.",
            "joblib": "`Memory(location, verbose=0).cache`.",
        },
        "versions": bl.versions(["smttask", "joblib"]),
        "tables": [bl.pairs_table("Per hit", rows, note=f"Targets: {targets}.")],
    }
    bl.emit(result, args.json)


if __name__ == "__main__":
    main()
