"""Code identity and explain: what they cost.

    python bench/bench_identity.py [--quick] [--rounds R] [--tasks N] [--graph M] [--against REV]

- Creating N tasks (default 10,000) and taking their digests in a fresh process: task types
  whose identity covers their code (one code fingerprint per type, read from the code cache
  beside the bytecode) against the same types pinned with ``version=`` (no fingerprint: the
  identity smttask had before code counted). Also the first fingerprint of a type when no
  code cache exists yet (the module's source parsed).
- ``explain`` on a graph of M recorded tasks (default 20,000: M/2 ``simulate`` feeding M/2
  ``analyze``), all run and recorded, after a committed change of ``analyze``: half the tasks
  load, half compute with a code change found against their records (a diff each). Timed in
  a fresh process: ``explain()`` on the tasks, and the whole ``smttask explain --json``.
  With ``--against REV``, the same, interleaved, with smttask's code at git revision REV
  (checked out into a temporary worktree and imported from there) as the baseline: for a
  revision whose digests are those of this one (else it explains other tasks).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib as bl

MODULE = """
from smttask import RecordedTask


def helper(x: float) -> float:
    return x * 2.0


@RecordedTask
def coded(x: float, n: int, tag: str) -> float:
    return helper(x) + n


@RecordedTask(version="1")
def pinned(x: float, n: int, tag: str) -> float:
    return helper(x) + n


@RecordedTask
def simulate(seed: int) -> float:
    return seed * 0.5


@RecordedTask
def analyze(value: float, scale: float) -> float:
    return value * scale
"""

CREATE = """
import json, sys, time
t0 = time.perf_counter()
import bench_ids as m
kind, n = sys.argv[1], int(sys.argv[2])
make = m.coded if kind == "coded" else m.pinned
t1 = time.perf_counter()
keys = [make(x=i * 0.5, n=i, tag="a").key for i in range(n)]
t2 = time.perf_counter()
assert len(set(keys)) == n
print(json.dumps({"create": t2 - t1}))
"""

FIRST = """
import json, time
import bench_ids as m
t0 = time.perf_counter()
m.coded(x=1.0, n=1, tag="a").key
print(json.dumps({"first": time.perf_counter() - t0}))
"""

PIPELINE = """
import sys
from bench_ids import analyze, simulate
half = int(__import__("os").environ["BENCH_GRAPH"]) // 2
tasks = [analyze(value=simulate(seed=s), scale=2.0) for s in range(half)]
"""

RUN_ALL = """
import os
from smttask import RSView, config
import pipeline
recorded = int(os.environ["BENCH_RECORDED"])
config.settings.record = False
for t in pipeline.tasks[recorded:]:
    t.run()
config.settings.record = True
for t in pipeline.tasks[:recorded]:
    t.run()
len(RSView())  # moves the records into the store
"""

EXPLAIN = """
import json, time
import pipeline
from smttask.explain import explain
t0 = time.perf_counter()
found = explain(pipeline.tasks)
t1 = time.perf_counter()
c = found.counts()
codes = sum(any(r.kind == "code" and r.diff for r in t.reasons) for t in found.tasks)
print(json.dumps({"explain": t1 - t0, "compute": c["compute"], "load": c["load"], "diffs": codes}))
"""


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--rounds", type=int, help="interleaved repeats (default 5; --quick: 3)")
    p.add_argument("--tasks", type=int, help="tasks created per process (default 10,000)")
    p.add_argument("--graph", type=int, help="tasks in the explained graph (default 20,000)")
    p.add_argument("--recorded", type=int, help="`analyze` tasks run with a record (default 1,000)")
    p.add_argument("--against", metavar="REV", help="explain also with smttask at git REV")
    args = p.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    n = args.tasks or (2_000 if args.quick else 10_000)
    graph = args.graph or (2_000 if args.quick else 20_000)
    recorded = args.recorded or (200 if args.quick else 1_000)
    py = sys.executable
    samples: dict[str, list[float]] = {}
    facts: dict[str, Any] = {}

    def add(key: str, value: float) -> None:
        samples.setdefault(key, []).append(value)

    with tempfile.TemporaryDirectory(prefix="smttask-bench-identity-") as tmp:
        root = bl.git_project(
            Path(tmp) / "project",
            {
                "bench_ids.py": MODULE,
                "pipeline.py": PIPELINE,
                ".gitignore": "data/\n__pycache__/\n",
            },
        )
        env = bl.base_env(
            PYTHONPATH=str(root), BENCH_GRAPH=str(graph), BENCH_RECORDED=str(recorded)
        )
        commit = ["git", "commit", "-q", "-am", "project init"]  # its .gitignore lines
        subprocess.run(commit, cwd=root, env=env, check=True, capture_output=True)
        bl.wall([py, "-c", FIRST], cwd=root, env=env)  # writes the code cache
        cold = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        for r in range(rounds):
            bl.progress(f"identity: creation round {r + 1}/{rounds}")
            for kind in bl.rotated(["coded", "pinned"], r):
                out, _ = bl.run_json([py, "-c", CREATE, kind, str(n)], cwd=root, env=env)
                add(kind, out["create"])
            for_cold = tempfile.mkdtemp(prefix="pycache-", dir=tmp)
            out, _ = bl.run_json(
                [py, "-c", FIRST], cwd=root, env={**cold, "PYTHONPYCACHEPREFIX": for_cold}
            )
            add("first cold", out["first"])
            out, _ = bl.run_json([py, "-c", FIRST], cwd=root, env=env)
            add("first cached", out["first"])

        bl.progress(f"identity: running {graph} tasks ({recorded} recorded)")
        _, seconds = bl.timed(lambda: bl.wall([py, "-c", RUN_ALL], cwd=root, env=env))
        facts["run"] = seconds
        module = root / "bench_ids.py"
        module.write_text(MODULE.replace("return value * scale", "return value * scale + 0.0"))
        git = ["git", "commit", "-q", "-am", "change analyze"]
        subprocess.run(git, cwd=root, env=env, check=True, capture_output=True)
        with bl.revision(args.against, Path(tmp)) as tree:
            contenders = ["", "@rev"] if tree is not None else [""]
            for r in range(rounds):
                bl.progress(f"identity: explain round {r + 1}/{rounds}")
                for c in bl.rotated(contenders, r):
                    code = tree if c else None
                    e = bl.revision_env(env, code)
                    out, seconds = bl.run_json([py, "-c", EXPLAIN], cwd=root, env=e)
                    add("explain" + c, out["explain"])
                    add("explain process" + c, seconds)
                    if not c:
                        facts.update(out)
                    cli = [*bl.smttask_command(code), "explain", "--json", "pipeline.py:tasks"]
                    add("cli" + c, bl.wall(cli, cwd=root, env=e))
    s = samples.get
    per_task = [x / n for x in s("coded") or []]
    rows = [
        (
            f"create {n:,} tasks and take their digests",
            s("coded"),
            "pinned with version=",
            s("pinned"),
        ),
        ("… per task", per_task, None, None),
        ("first digest of a type, code cache present", s("first cached"), None, None),
        ("first digest of a type, no code cache (source parsed)", s("first cold"), None, None),
    ]
    rev = f"the same at {args.against}" if args.against else None
    explain_rows = [
        (f"`explain()` of {graph:,} recorded tasks", s("explain"), rev, s("explain@rev")),
        (
            "… whole process (imports, building the tasks, explain)",
            s("explain process"),
            rev,
            s("explain process@rev"),
        ),
        ("`smttask explain --json pipeline.py:tasks`", s("cli"), rev, s("cli@rev")),
    ]
    result = {
        "name": "identity",
        "title": "Code identity and explain",
        "about": [
            f"{rounds} interleaved rounds, every measurement in a new process. Creation: "
            f"{n:,} tasks of a type with 3 inputs, each `.key` taken (validation and digest); "
            "the baseline is the same type with `version=`, whose identity covers no code.",
            f"Explain: {graph:,} recorded tasks ({graph // 2:,} `simulate` → {graph // 2:,} "
            f"`analyze`), run once ({facts.get('run', 0):.0f} s; {recorded:,} `analyze` tasks "
            "with a record, recording is slow to set up at this size), then `analyze` changed "
            "and committed: every `analyze` computes, those with a record get a diff.",
        ],
        "settings": {"smttask": "defaults, recording on"},
        "versions": bl.versions(["smttask", "numpy", "pydantic"]),
        "tables": [
            bl.pairs_table("Creating tasks", rows),
            bl.pairs_table("Explain", explain_rows),
        ],
        "notes": [
            f"explain found {facts.get('compute')} to compute, {facts.get('load')} to load; "
            f"{facts.get('diffs')} with a code diff from their record's commit."
        ],
    }
    bl.emit(result, args.json)


if __name__ == "__main__":
    main()
