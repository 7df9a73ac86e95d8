"""The first cache hit in a fresh process: what a user meets with the first `run()`.

    python bench/bench_first_hit.py [--quick] [--rounds R]

One process computes and stores the results; then, each round (default 7, interleaved),
new processes time:

- smttask: `import smttask`, `import` of the task module, then the first
  `task(...).run()` that loads an existing result (task construction, i.e. validation and
  digest, and the `run()` itself, also shown apart), then a second equal call;
- the floor: in a new process that has loaded the same array, one xxh3-128 hash of its
  bytes (what smttask's digest of an array reduces to), timed alone;
- joblib: `import joblib` + the module of `Memory.cache`d functions, then the first and a
  second call of the cached function on the same data;
for two cases: inputs a 1e6-float64 array and two scalars (three floats out), and two
scalars (one float out). Also, as whole processes: `python -c pass`, `import smttask`,
`import joblib`, `import` of the task module alone (smttask with scityping, pydantic and
numpy: the floor of any process that runs its tasks), and `smttask run` of one recorded
task file (computing it, with its record moved into the project's SQLite store) and of the
same file again (result exists).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import benchlib as bl

SMTTASK_MODULE = """
from typing import Tuple

from scityping.numpy import Array

from smttask import RecordedTask


@RecordedTask
def analyze(arr: Array, dt: float, nbins: int) -> Tuple[float, float, float]:
    return float(arr.mean()), float(arr.std() * dt), float(nbins)


@RecordedTask
def scalars(a: float, b: int) -> float:
    return a * b + 1.0


@RecordedTask
def square(x: int) -> int:
    return x * x
"""

JOBLIB_MODULE = """
from joblib import Memory

memory = Memory("joblib_cache", verbose=0)


@memory.cache
def analyze(arr, dt, nbins):
    return float(arr.mean()), float(arr.std() * dt), float(nbins)


@memory.cache
def scalars(a, b):
    return a * b + 1.0
"""

COMPUTE = """
import numpy as np
import hit_joblib, hit_smttask
arr = np.random.default_rng(0).random(1_000_000)
np.save("arr.npy", arr)
hit_smttask.analyze(arr=arr, dt=0.5, nbins=2).run()
hit_smttask.scalars(a=1.5, b=2).run()
hit_joblib.analyze(arr, 0.5, 2)
hit_joblib.scalars(1.5, 2)
"""

SMTTASK_HIT = """
import json, sys, time
case = sys.argv[1]
t0 = time.perf_counter()
import smttask
t1 = time.perf_counter()
import hit_smttask as m
t2 = time.perf_counter()
if case == "array":
    import numpy as np
    arr = np.load("arr.npy")
    make = lambda: m.analyze(arr=arr, dt=0.5, nbins=2)
else:
    make = lambda: m.scalars(a=1.5, b=2)
t3 = time.perf_counter()
task = make()
t4 = time.perf_counter()
task.run()
t5 = time.perf_counter()
again = make()
again.run()
t6 = time.perf_counter()
assert not task.computed and not again.computed, "smttask computed instead of loading"
print(json.dumps({"import": t1 - t0, "module": t2 - t1, "build": t4 - t3, "run": t5 - t4,
                  "first": t5 - t3, "second": t6 - t5}))
"""

JOBLIB_HIT = """
import json, sys, time
case = sys.argv[1]
t0 = time.perf_counter()
import joblib
t1 = time.perf_counter()
import hit_joblib as m
t2 = time.perf_counter()
if case == "array":
    import numpy as np
    arr = np.load("arr.npy")
    call = lambda: m.analyze(arr, 0.5, 2)
    hit = m.analyze.check_call_in_cache(arr, 0.5, 2)
else:
    call = lambda: m.scalars(1.5, 2)
    hit = m.scalars.check_call_in_cache(1.5, 2)
assert hit, "joblib has no cached result"
t3 = time.perf_counter()
call()
t5 = time.perf_counter()
call()
t6 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "module": t2 - t1, "first": t5 - t3, "second": t6 - t5}))
"""

HASH_FLOOR = """
import json, time
import numpy as np, xxhash
arr = np.load("arr.npy")
t0 = time.perf_counter()
xxhash.xxh3_128_digest(memoryview(arr).cast("B"))
t1 = time.perf_counter()
print(json.dumps({"first": t1 - t0}))
"""

SAVE_TASKS = """
import sys
import hit_smttask as m
for r in range(int(sys.argv[1])):
    m.square(x=1000 + r).save(f"tasks/t{r}")
"""


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--rounds", type=int, help="interleaved repeats (default 7; --quick: 3)")
    args = p.parse_args()
    rounds = args.rounds or (3 if args.quick else 7)
    py = sys.executable
    samples: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        samples.setdefault(key, []).append(value)

    with tempfile.TemporaryDirectory(prefix="smttask-bench-hit-") as tmp:
        root = bl.git_project(
            Path(tmp) / "project",
            {
                "hit_smttask.py": SMTTASK_MODULE,
                "hit_joblib.py": JOBLIB_MODULE,
                ".gitignore": "data/\ntasks/\njoblib_cache/\narr.npy\n__pycache__/\nbuild/\n.snakemake/\n",
            },
        )
        env = bl.base_env(PYTHONPATH=str(root))
        bl.wall([py, "-c", COMPUTE], cwd=root, env={**env, "SMTTASK_RECORD": "0"})
        bl.wall([py, "-c", SAVE_TASKS, str(rounds)], cwd=root, env=env)
        smttask = bl.bin_path("smttask")

        def hit(kind: str, code: str, case: str) -> Callable[[int], None]:
            def job(r: int) -> None:
                out, seconds = bl.run_json([py, "-c", code, case], cwd=root, env=env)
                for key, value in out.items():
                    add(f"{kind}:{case}:{key}", value)
                add(f"{kind}:{case}:import+module", out["import"] + out["module"])
                add(f"{kind}:{case}:process", seconds)

            return job

        def floor(r: int) -> None:
            out, _ = bl.run_json([py, "-c", HASH_FLOOR], cwd=root, env=env)
            add("floor:array:first", out["first"])

        def process(key: str, cmd: list[str]) -> Callable[[int], None]:
            return lambda r: add(key, bl.wall(cmd, cwd=root, env=env))

        def cli_run(r: int) -> None:
            run = bl.wall([smttask, "run", "-q", f"tasks/t{r}"], cwd=root, env=env)
            add("cli:compute", run)
            add("cli:stored", run + bl.settle(root))  # the record moved by a detached process
            add("cli:hit", bl.wall([smttask, "run", "-q", f"tasks/t{r}"], cwd=root, env=env))

        jobs = [
            hit("smttask", SMTTASK_HIT, "array"),
            hit("joblib", JOBLIB_HIT, "array"),
            floor,
            hit("smttask", SMTTASK_HIT, "scalar"),
            hit("joblib", JOBLIB_HIT, "scalar"),
            process("pass", [py, "-c", "pass"]),
            process("import smttask", [py, "-c", "import smttask"]),
            process("import joblib", [py, "-c", "import joblib"]),
            process("import module", [py, "-c", "import hit_smttask"]),
            cli_run,
        ]
        for r in range(rounds):
            bl.progress(f"first hit: round {r + 1}/{rounds}")
            for job in bl.rotated(jobs, r):
                job(r)
        listed = subprocess.run(
            [smttask, "smt", "list"], cwd=root, env=env, capture_output=True, text=True
        ).stdout.split()
    s = samples.get

    def pair(case: str, key: str, base_key: str | None, label: str | None) -> tuple[Any, ...]:
        return (case, s(key), label, s(base_key) if base_key else None)

    rows = []
    for case, text in (("array", "1e6-float64 array + 2 scalars"), ("scalar", "2 scalars")):
        rows += [
            pair(
                f"{text}: first hit in a fresh process",
                f"smttask:{case}:first",
                f"joblib:{case}:first",
                "joblib first hit",
            ),
            *(
                [
                    pair(
                        f"{text}: first hit in a fresh process",
                        f"smttask:{case}:first",
                        "floor:array:first",
                        "xxh3-128 of the array's 8 MB alone, first in a fresh process "
                        "(the floor of any hit that checks its input)",
                    )
                ]
                if case == "array"
                else []
            ),
            pair(
                f"{text}: … of which task construction (validation, digest)",
                f"smttask:{case}:build",
                None,
                None,
            ),
            pair(f"{text}: … of which `run()`", f"smttask:{case}:run", None, None),
            pair(
                f"{text}: second hit, same process",
                f"smttask:{case}:second",
                f"joblib:{case}:second",
                "joblib second hit",
            ),
            pair(
                f"{text}: whole hit process (spawn to exit)",
                f"smttask:{case}:process",
                f"joblib:{case}:process",
                "joblib hit process",
            ),
        ]
    rows += [
        pair(
            "`import smttask`, in the hit process",
            "smttask:scalar:import",
            "joblib:scalar:import",
            "`import joblib`",
        ),
        pair(
            "`import smttask` + the task module (its imports: scityping, pydantic, numpy)",
            "smttask:scalar:import+module",
            "joblib:scalar:import+module",
            "`import joblib` + its module",
        ),
    ]
    imports = [
        ("`python -c 'import smttask'`", s("import smttask"), "`python -c pass`", s("pass")),
        (
            "`python -c 'import smttask'`",
            s("import smttask"),
            "`python -c 'import joblib'`",
            s("import joblib"),
        ),
        (
            "`python -c 'import hit_smttask'`: the task module alone (smttask, scityping, "
            "pydantic, numpy), the floor of any process that runs its tasks",
            s("import module"),
            "`python -c pass`",
            s("pass"),
        ),
        (
            "`smttask run` of 1 recorded task: computed, record journaled (spawn to exit)",
            s("cli:compute"),
            "`python -c 'import hit_smttask'`",
            s("import module"),
        ),
        (
            "`smttask run` of 1 recorded task: computed, record journaled (spawn to exit)",
            s("cli:compute"),
            "`python -c 'import smttask'`",
            s("import smttask"),
        ),
        (
            "… until its record is in the store (moved by the detached process it starts)",
            s("cli:stored"),
            "`python -c 'import smttask'`",
            s("import smttask"),
        ),
        (
            "`smttask run` of the same task file again (result exists)",
            s("cli:hit"),
            "`python -c 'import smttask'`",
            s("import smttask"),
        ),
        (
            "`smttask run` of the same task file again (result exists)",
            s("cli:hit"),
            "`python -c 'import hit_smttask'`",
            s("import module"),
        ),
    ]
    result = {
        "name": "first_hit",
        "title": "First cache hit in a fresh process (smttask against joblib.Memory)",
        "about": [
            f"{rounds} interleaved rounds; every hit process is new (imports done before the "
            "hit is timed, data loaded from `arr.npy` before timing). Ratios < 1: smttask "
            "is faster."
        ],
        "settings": {
            "smttask": "`@RecordedTask` with `scityping.numpy.Array` input, defaults (the "
            "hit process has recording on, as a user's would; a hit writes no record).",
            "joblib": "`Memory(location, verbose=0).cache` on the same functions and data.",
        },
        "versions": bl.versions(["smttask", "joblib", "numpy", "scityping", "pydantic"]),
        "tables": [
            bl.pairs_table("Cache hits", rows),
            bl.pairs_table("Whole processes", imports),
        ],
        "notes": [
            f"Records in the store after the `smttask run` rows: {len(listed)} (expected "
            f"{rounds}: one per computed task, none for a hit)."
        ],
    }
    bl.emit(result, args.json)


if __name__ == "__main__":
    main()
