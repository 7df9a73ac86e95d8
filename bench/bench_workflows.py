"""Trivial workloads through smttask and its peers: joblib, redun, Parsl and pydra.

    python bench/bench_workflows.py [--quick] [--tasks N] [--rounds R] [--only NAME,...]
                                    [--revision REV]

The same workloads, defined once (square(x) = x*x, inc(x) = x+1, total(values) = sum),
run through every contender, each step in a new Python process:

1. first run of N (default 1,000) square tasks, cache empty;
2. new-process re-run of the same N tasks, all cached;
3. single hit: one of those N results, in a new process;
4. a 10-step chain inc(inc(...inc(0))), first run, then cached re-run;
5. a 100-wide fan-out of square + one total over them, first run, then cached re-run.

Every process reports its set-up time (imports and engine start) and its work time (the
workload itself); the wall time of the whole process (spawn to exit) is measured outside.
The task functions count their calls: a cached re-run that calls one is reported.
Rounds are interleaved (each step: every contender, in an order rotated every round) and
every figure is the median of R rounds (default 5) with its min–max. `--revision REV` adds
smttask at git revision REV (e.g. main) as contenders of its own (`smttask@REV`, and
`smttask-nofsync@REV` if chosen), measured in the same rounds.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import benchlib as bl

FANOUT = 100
CHAIN = 10

# -- contenders: a module with the task functions and a driver running one workload ----------

SMTTASK_MODULE = """
from smttask import RecordedTask

CALLS = [0]


@RecordedTask
def square(x: int) -> int:
    CALLS[0] += 1
    return x * x


@RecordedTask
def inc(x: int) -> int:
    CALLS[0] += 1
    return x + 1


@RecordedTask
def total(values: list[int]) -> int:
    CALLS[0] += 1
    return sum(values)
"""

SMTTASK_DRIVER = """
import json, sys, time
t0 = time.perf_counter()
import smttask
import wtasks as m
workload, n = sys.argv[1], int(sys.argv[2])
t1 = time.perf_counter()
if workload == "many":
    value = sum(m.square(x=i).run() for i in range(n))
elif workload == "hit":
    value = m.square(x=0).run()
elif workload == "chain":
    task = m.inc(x=0)
    for _ in range(CHAIN - 1):
        task = m.inc(x=task)
    value = task.run()
else:
    value = m.total(values=[m.square(x=i) for i in range(FANOUT)]).run()
t2 = time.perf_counter()
print(json.dumps({"setup": t1 - t0, "work": t2 - t1, "value": value, "calls": m.CALLS[0]}))
"""

JOBLIB_MODULE = """
from joblib import Memory

CALLS = [0]
memory = Memory("joblib_cache", verbose=0)


@memory.cache
def square(x: int) -> int:
    CALLS[0] += 1
    return x * x


@memory.cache
def inc(x: int) -> int:
    CALLS[0] += 1
    return x + 1


@memory.cache
def total(values: list[int]) -> int:
    CALLS[0] += 1
    return sum(values)
"""

JOBLIB_DRIVER = """
import json, sys, time
t0 = time.perf_counter()
import wtasks as m
workload, n = sys.argv[1], int(sys.argv[2])
t1 = time.perf_counter()
if workload == "many":
    value = sum(m.square(i) for i in range(n))
elif workload == "hit":
    value = m.square(0)
elif workload == "chain":
    value = 0
    for _ in range(CHAIN):
        value = m.inc(value)
else:
    value = m.total([m.square(i) for i in range(FANOUT)])
t2 = time.perf_counter()
print(json.dumps({"setup": t1 - t0, "work": t2 - t1, "value": value, "calls": m.CALLS[0]}))
"""

REDUN_MODULE = """
from redun import task

CALLS = [0]


@task()
def square(x: int) -> int:
    CALLS[0] += 1
    return x * x


@task()
def inc(x: int) -> int:
    CALLS[0] += 1
    return x + 1


@task()
def total(values: list) -> int:
    CALLS[0] += 1
    return sum(values)


@task()
def collect(values: list) -> list:
    return values
"""

REDUN_DRIVER = """
import json, os, sys, time
t0 = time.perf_counter()
from redun import Scheduler
from redun.config import Config
import wtasks as m
workload, n = sys.argv[1], int(sys.argv[2])
db = "sqlite:///" + os.path.abspath("redun.db")
scheduler = Scheduler(config=Config({"backend": {"db_uri": db}}))
scheduler.load()
t1 = time.perf_counter()
if workload == "many":
    value = sum(scheduler.run(m.collect([m.square(i) for i in range(n)])))
elif workload == "hit":
    value = scheduler.run(m.square(0))
elif workload == "chain":
    expr = m.inc(0)
    for _ in range(CHAIN - 1):
        expr = m.inc(expr)
    value = scheduler.run(expr)
else:
    value = scheduler.run(m.total([m.square(i) for i in range(FANOUT)]))
t2 = time.perf_counter()
print(json.dumps({"setup": t1 - t0, "work": t2 - t1, "value": value, "calls": m.CALLS[0]}))
"""

PARSL_MODULE = """
from parsl import python_app

CALLS = [0]


@python_app(cache=True)
def square(x: int) -> int:
    CALLS[0] += 1
    return x * x


@python_app(cache=True)
def inc(x: int) -> int:
    CALLS[0] += 1
    return x + 1


@python_app(cache=True)
def total(inputs=()) -> int:
    CALLS[0] += 1
    return sum(inputs)
"""

PARSL_DRIVER = """
import json, os, sys, time
t0 = time.perf_counter()
import parsl
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.executors.threads import ThreadPoolExecutor
import wtasks as m
workload, n = sys.argv[1], int(sys.argv[2])
config = Config(
    executors=[ThreadPoolExecutor(max_threads=THREADS)],
    memoizer=BasicMemoizer(checkpoint_mode="task_exit"),  # loads earlier runs' checkpoints
    run_dir=os.path.abspath("runinfo"),
    usage_tracking=0,
    initialize_logging=False,
)
dfk = parsl.load(config)
t1 = time.perf_counter()
if workload == "many":
    futures = [m.square(i) for i in range(n)]
    value = sum(f.result() for f in futures)
elif workload == "hit":
    value = m.square(0).result()
elif workload == "chain":
    future = m.inc(0)
    for _ in range(CHAIN - 1):
        future = m.inc(future)
    value = future.result()
else:
    value = m.total(inputs=[m.square(i) for i in range(FANOUT)]).result()
t2 = time.perf_counter()
dfk.cleanup()
print(json.dumps({"setup": t1 - t0, "work": t2 - t1, "value": value, "calls": m.CALLS[0]}))
"""

PYDRA_MODULE = """
import pydra

CALLS = [0]


@pydra.mark.task
def square(x: int) -> int:
    CALLS[0] += 1
    return x * x


@pydra.mark.task
def inc(x: int) -> int:
    CALLS[0] += 1
    return x + 1


@pydra.mark.task
def total(values: list) -> int:
    CALLS[0] += 1
    return sum(values)
"""

PYDRA_DRIVER = """
import json, os, sys, time
t0 = time.perf_counter()
from pathlib import Path
import pydra
import wtasks as m
workload, n = sys.argv[1], int(sys.argv[2])
cache = os.path.abspath("pydra_cache")
wall0 = time.time()
t1 = time.perf_counter()
if workload == "many":
    job = m.square(name="square", cache_dir=cache).split("x", x=list(range(n)))
elif workload == "hit":
    job = m.square(name="square", x=0, cache_dir=cache)
elif workload == "chain":
    job = pydra.Workflow(name="chain", input_spec=["x"], x=0, cache_dir=cache)
    job.add(m.inc(name="inc0", x=job.lzin.x))
    for i in range(1, CHAIN):
        job.add(m.inc(name=f"inc{i}", x=getattr(job, f"inc{i - 1}").lzout.out))
    job.set_output([("out", getattr(job, f"inc{CHAIN - 1}").lzout.out)])
else:
    job = pydra.Workflow(name="fanout", input_spec=["x"], x=list(range(FANOUT)), cache_dir=cache)
    job.add(m.square(name="square").split("x", x=job.lzin.x).combine("x"))
    job.add(m.total(name="total", values=job.square.lzout.out))
    job.set_output([("out", job.total.lzout.out)])
with pydra.Submitter(plugin="serial") as submitter:
    submitter(job)
result = job.result()
value = sum(r.output.out for r in result) if workload == "many" else result.output.out
t2 = time.perf_counter()
# Serial pydra runs each function from a pickled copy, so CALLS stays 0 here: count the
# task results written in this process instead (workflow-level results not counted).
written = [
    p for p in Path(cache).glob("FunctionTask_*/_result.pklz") if p.stat().st_mtime > wall0
]
print(json.dumps({"setup": t1 - t0, "work": t2 - t1, "value": value, "calls": len(written)}))
"""


@dataclass
class Contender:
    name: str
    settings: str
    module: str
    driver: str
    env: dict[str, str] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
    tree: Path | None = None  # smttask imported from this checkout (``benchlib.revision``)


THREADS = 2
CONTENDERS = [
    Contender(
        "smttask",
        "`@RecordedTask`, recording off (SMTTASK_RECORD=0), otherwise defaults: every result "
        "written atomically as JSON and fsynced (SMTTASK_FSYNC=1), plus its link in the input "
        "store; serial, in-process; a chain/fan-out is one `run()` of the last task.",
        SMTTASK_MODULE,
        SMTTASK_DRIVER,
        {"SMTTASK_RECORD": "0"},
        ("smttask",),
    ),
    Contender(
        "smttask-nofsync",
        "as smttask, with SMTTASK_FSYNC=0 (results not fsynced: what the peers do).",
        SMTTASK_MODULE,
        SMTTASK_DRIVER,
        {"SMTTASK_RECORD": "0", "SMTTASK_FSYNC": "0"},
        ("smttask",),
    ),
    Contender(
        "joblib",
        "`joblib.Memory(location, verbose=0).cache`, plain calls, serial, in-process.",
        JOBLIB_MODULE,
        JOBLIB_DRIVER,
        {},
        ("joblib",),
    ),
    Contender(
        "redun",
        "`@task()`, `Scheduler` with its SQLite file database, default executor; the N tasks "
        "as one expression (a list passed to an identity task).",
        REDUN_MODULE,
        REDUN_DRIVER,
        {},
        ("redun",),
    ),
    Contender(
        "Parsl",
        f"`@python_app(cache=True)`, `ThreadPoolExecutor(max_threads={THREADS})`, "
        "`BasicMemoizer(checkpoint_mode='task_exit')` (each result appended to a checkpoint "
        "file on disk; a new process loads every earlier run's checkpoints at `parsl.load`), "
        "usage_tracking=0, no monitoring, no log files; fan-in through `inputs=[...]`.",
        PARSL_MODULE,
        PARSL_DRIVER,
        {},
        ("parsl",),
    ),
    Contender(
        "pydra",
        "`@pydra.mark.task` function tasks, `Submitter(plugin='serial')` (in-process), a cache "
        "dir per project; N tasks as one task split over x; chain and fan-out as a "
        "`Workflow` (fan-out: split + combine, then the reduce); NO_ET=1 (no version check "
        "over the network).",
        PYDRA_MODULE,
        PYDRA_DRIVER,
        {"NO_ET": "1"},
        ("pydra",),
    ),
]


def source(contender: Contender, text: str) -> str:
    consts = f"CHAIN = {CHAIN}\nFANOUT = {FANOUT}\nTHREADS = {THREADS}\n"
    return consts + text


# -- steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    case: str
    workload: str
    folder: str  # steps sharing a folder share a cache
    fresh: bool  # the cache is empty before this step


def steps(n: int) -> list[Step]:
    return [
        Step(f"first run of {n:,} tasks", "many", "many", True),
        Step(f"re-run of the {n:,} tasks, all cached", "many", "many", False),
        Step(f"single hit (1 of the {n:,})", "hit", "many", False),
        Step(f"{CHAIN}-step chain, first run", "chain", "chain", True),
        Step(f"{CHAIN}-step chain, cached re-run", "chain", "chain", False),
        Step(f"{FANOUT}-wide fan-out + 1 reduce, first run", "fanout", "fanout", True),
        Step(f"{FANOUT}-wide fan-out + 1 reduce, cached re-run", "fanout", "fanout", False),
    ]


def expected(workload: str, n: int) -> tuple[int, int]:
    """(value, calls on a first run)."""
    if workload == "many":
        return sum(i * i for i in range(n)), n
    if workload == "hit":
        return 0, 1
    if workload == "chain":
        return CHAIN, CHAIN
    return sum(i * i for i in range(FANOUT)), FANOUT + 1


def prepare(folder: Path, contender: Contender) -> Path:
    folder.mkdir(parents=True)
    (folder / "wtasks.py").write_text(source(contender, contender.module))
    (folder / "driver.py").write_text(source(contender, contender.driver))
    return folder


def run_step(folder: Path, contender: Contender, step: Step, n: int) -> dict[str, Any]:
    env = bl.base_env(PYTHONPATH=str(folder), SMTTASK_PROJECT_ROOT=str(folder), **contender.env)
    env = bl.revision_env(env, contender.tree)
    out, seconds = bl.run_json(
        [sys.executable, "driver.py", step.workload, str(n)], cwd=folder, env=env
    )
    value, first_calls = expected(step.workload, n)
    if out["value"] != value:
        raise SystemExit(
            f"{contender.name}, {step.case}: result {out['value']!r}, expected {value!r}"
        )
    out["process"] = seconds
    out["expected_calls"] = first_calls if step.fresh else 0
    return out


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--tasks", type=int, help="N (default 1000; --quick: 100)")
    p.add_argument("--rounds", type=int, help="interleaved repeats (default 5; --quick: 3)")
    p.add_argument("--only", help="comma-separated contenders (default: all)")
    p.add_argument("--revision", help="also smttask at this git revision (e.g. main)")
    args = p.parse_args()
    n = args.tasks or (100 if args.quick else 1000)
    rounds = args.rounds or (3 if args.quick else 5)
    chosen = [c for c in CONTENDERS if not args.only or c.name in args.only.split(",")]
    with (
        tempfile.TemporaryDirectory(prefix="smttask-bench-wf-") as tmp,
        bl.revision(args.revision, Path(tmp)) as tree,
    ):
        if tree is not None:
            chosen += [
                replace(c, name=f"{c.name}@{args.revision}", tree=tree)
                for c in chosen
                if c.name.startswith("smttask")
            ]
        result = measure(chosen, n, rounds, Path(tmp))
    bl.emit(result, args.json)


def measure(chosen: list[Contender], n: int, rounds: int, root: Path) -> dict[str, Any]:
    plan = steps(n)
    work: dict[tuple[str, str], list[float]] = {}
    process: dict[tuple[str, str], list[float]] = {}
    setup: dict[str, list[float]] = {}
    wrong_calls: list[str] = []
    for r in range(rounds):
        for s, step in enumerate(plan):
            bl.progress(f"workflows: round {r + 1}/{rounds}, {step.case}")
            for c in bl.rotated(chosen, r + s):
                folder = root / f"r{r}" / c.name / step.folder
                if step.fresh:
                    prepare(folder, c)
                out = run_step(folder, c, step, n)
                work.setdefault((step.case, c.name), []).append(out["work"])
                process.setdefault((step.case, c.name), []).append(out["process"])
                if step.workload == "hit":
                    setup.setdefault(c.name, []).append(out["setup"])
                if out["calls"] != out["expected_calls"]:
                    wrong_calls.append(
                        f"{c.name}, {step.case}, round {r + 1}: the functions were called "
                        f"{out['calls']} times (expected {out['expected_calls']})"
                    )
    names = [c.name for c in chosen]
    work_rows = [(step.case, {c: work.get((step.case, c)) for c in names}) for step in plan]
    work_rows.append(("imports + engine set-up (single-hit process)", dict(setup)))
    process_rows = [(step.case, {c: process.get((step.case, c)) for c in names}) for step in plan]
    notes = [
        "Work time starts after the imports and the engine's set-up (Parsl: `parsl.load`, "
        "which reads the checkpoints; redun: `Scheduler.load`) and ends with the result in "
        "hand; the process time also counts interpreter start, imports and shutdown.",
    ]
    if wrong_calls:
        notes += [f"Unexpected number of function calls: {w}" for w in wrong_calls[:20]]
    else:
        notes.append(
            "Every cached re-run and hit called no task function; every first run called "
            "each function once per task (counted inside the functions)."
        )
    result = {
        "name": "workflows",
        "title": "Trivial workloads: smttask against joblib, redun, Parsl and pydra",
        "about": [
            f"Workloads: square(x)=x*x, inc(x)=x+1, total(values)=sum(values); N = {n:,}, "
            f"chain of {CHAIN}, fan-out of {FANOUT} + 1 reduce. Each step is a new Python "
            f"process; {rounds} interleaved rounds, contenders rotated each round. "
            "Ratios < 1: smttask is faster."
        ],
        "settings": {c.name: c.settings for c in chosen},
        "versions": bl.versions({p for c in chosen for p in c.packages}),
        "tables": [
            bl.peers_table("Work time, in the process", names, work_rows, ours="smttask"),
            bl.peers_table("Whole process (spawn to exit)", names, process_rows, ours="smttask"),
        ],
        "notes": notes,
    }
    return result


if __name__ == "__main__":
    os.environ.setdefault("NO_ET", "1")  # pydra asks the network for its latest version
    main()
