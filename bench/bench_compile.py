"""Export and Snakemake costs of compiled workflows, against baselines measured in the same run.

    python bench/bench_compile.py [--quick] [--tasks N] [--unbatched U] [--tiny T]
                                  [--batch B] [--rounds R] [--skip-dry-run]

1. Export of an N-task DAG (default 20,000: N/2 `simulate` tasks, each analysed by one
   `analyze` task): `smttask.export_snakemake` (trace, check that every task file loads
   back, render, write) against the same without writing; and a re-export with nothing
   changed. Target: ≤ 10 s.
2. `snakemake -n` on the exported workflow against a hand-written Snakefile with one
   wildcard rule per task type and a dict lookup for the same DAG. Target: ratio ≤ 1.2.
3. Per-job overhead: U (default 1,000) tiny recorded tasks, one Snakemake job each (wildcard
   layout), through `snakemake --cores 2`, against U bare jobs in one wildcard rule whose
   job is a `python -c` that only creates its output file: the job's own Python start is
   the floor; and against the same with `python -S -c` (no `site`: the floor of the job
   client, which a served job starts so). Each smttask job starts the client of
   `smttask-job run`, which hands the job to the
   workflow's job server (one warm process per workflow run that forks a child per job);
   the same workflow with `SMTTASK_JOB_SERVER=0` (each job a fresh `smttask run`) is
   measured too.
4. Batched: T (default 1,000) tiny recorded tasks, B (default 100) per job, against T/B bare
   jobs that each create their B output files in one `python -c`.
5. A second `snakemake` run of each workflow (nothing to do).

Each round (default 3) uses fresh projects; contenders alternate within a round. Every
smttask job runs `smttask run` (recording on: each task recorded, journals moved into the
SQLite store by the workflow's final `smttask store flush`): in a child of the job server,
or fresh where the row says so.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib as bl

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

EXPORT_DAG = """
import json, sys, time
from bench_tasks import analyze, simulate
import smttask
from smttask.compile.snakemake import compile_snakemake
from smttask.export import check_modules, check_plan, plan_export
from smttask.graph import trace

n, rounds = int(sys.argv[1]), int(sys.argv[2])
start = time.perf_counter()
tasks = [analyze(value=simulate(seed=i)) for i in range(n // 2)]
out = {"build": time.perf_counter() - start, "export": [], "render": [], "reexport": []}
for r in range(rounds):
    start = time.perf_counter()
    result = smttask.export_snakemake(tasks, f"build{r}")
    out["export"].append(time.perf_counter() - start)
    start = time.perf_counter()
    graph = trace(tasks)
    check_modules(graph)
    plan = plan_export(graph, f"build{r}")
    check_plan(plan, graph)
    files = compile_snakemake(plan)
    out["render"].append(time.perf_counter() - start)
    start = time.perf_counter()
    smttask.export_snakemake(tasks, f"build{r}")
    out["reexport"].append(time.perf_counter() - start)
out.update(jobs=result.jobs, layout=result.layout, rules=result.rules, files=len(files))
json.dump([(t.key, t.inputs["value"].key) for t in tasks], open("pairs.json", "w"))
print(json.dumps(out))
"""

EXPORT_TINY = """
import sys
from bench_tasks import tiny
import smttask
n, batch = int(sys.argv[1]), int(sys.argv[2])
smttask.export_snakemake([tiny(i=i) for i in range(n)], "build", layout="wildcard",
                         batch=batch if batch > 1 else None)
"""

BASELINE = """
# Hand-written: one wildcard rule per task type, upstream files from a dict.
import json
UPSTREAM = {a: f"data/run_dump/simulate/{s}.json" for a, s in json.load(open("pairs.json"))}


rule all:
    input:
        expand("data/run_dump/analyze/{key}.json", key=list(UPSTREAM)),


rule simulate:
    input: "build0/tasks/simulate/{key}.json"
    output: "data/run_dump/simulate/{key}.json"
    shell: "smttask run {input}"


rule analyze:
    input:
        task="build0/tasks/analyze/{key}.json",
        upstream=lambda wc: UPSTREAM[wc.key],
    output: "data/run_dump/analyze/{key}.json"
    shell: "smttask run {input.task}"
"""

#: Bare jobs: one wildcard rule; each job one Python process creating its own output(s).
BARE = """
B = @B@


rule all:
    input: expand("out/{b}/{i}.txt", b=range(@JOBS@), i=range(B))


rule bare:
    output: [f"out/{{b}}/{i}.txt" for i in range(B)]
    shell: "python@FLAGS@ -c \\"import sys; [open(p, 'w').close() for p in sys.argv[1:]]\\" {output}"
"""


def smt_project(folder: Path) -> Path:
    return bl.git_project(
        folder,
        {
            "bench_tasks.py": TASKS,
            ".gitignore": "data/\nbuild/\nbuild*/\n.snakemake/\nout/\n*.smk\npairs.json\n",
        },
    )


def env_for(folder: Path) -> dict[str, str]:
    return bl.base_env(PYTHONPATH=str(folder), SMTTASK_PROJECT_ROOT=str(folder))


def snakemake(folder: Path, snakefile: str, *extra: str, **env: str) -> float:
    cmd = [bl.bin_path("snakemake"), "-s", snakefile, "--quiet", *extra]
    return bl.wall(cmd, cwd=folder, env={**env_for(folder), **env})


def bare_folder(folder: Path, jobs: int, per_job: int, flags: str = "") -> Path:
    folder.mkdir(parents=True)
    text = BARE.replace("@B@", str(per_job)).replace("@JOBS@", str(jobs))
    text = text.replace("@FLAGS@", f" {flags}" if flags else "")
    (folder / "bare.smk").write_text(text)
    return folder


def count_outputs(folder: Path, pattern: str) -> int:
    return len(list(folder.glob(pattern)))


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--tasks", type=int, help="N of the export (default 20000; --quick: 1000)")
    p.add_argument("--unbatched", type=int, help="U (default 1000; --quick: 10)")
    p.add_argument("--tiny", type=int, help="T (default 1000; --quick: 50)")
    p.add_argument("--batch", type=int, help="B (default 100; --quick: 10)")
    p.add_argument("--rounds", type=int, help="rounds (default 3)")
    p.add_argument("--skip-dry-run", action="store_true")
    args = p.parse_args()
    n = args.tasks or (1000 if args.quick else 20_000)
    unbatched = args.unbatched or (10 if args.quick else 1000)
    tiny = args.tiny or (50 if args.quick else 1000)
    batch = args.batch or (10 if args.quick else 100)
    rounds = args.rounds or 3
    if tiny % batch:
        raise SystemExit(f"--tiny ({tiny}) must be a multiple of --batch ({batch})")
    s: dict[str, list[float]] = {}
    counts: list[str] = []

    def add(key: str, value: float) -> None:
        s.setdefault(key, []).append(value)

    with tempfile.TemporaryDirectory(prefix="smttask-bench-compile-") as tmp:
        root = Path(tmp)
        bl.progress(f"compile 1: export of {n:,} tasks × {rounds}")
        dag = smt_project(root / "dag")
        out, _ = bl.run_json(
            [sys.executable, "-c", EXPORT_DAG, str(n), str(rounds)], cwd=dag, env=env_for(dag)
        )
        exported: dict[str, Any] = out
        if not args.skip_dry_run:
            (dag / "baseline.smk").write_text(BASELINE)
            for r in range(rounds):
                bl.progress(f"compile 2: snakemake -n, round {r + 1}/{rounds}")
                for kind in bl.rotated(["ours", "base"], r):
                    snakefile = "build0/Snakefile" if kind == "ours" else "baseline.smk"
                    add(f"dry_{kind}", snakemake(dag, snakefile, "-n"))

        for r in range(rounds):
            bl.progress(f"compile 3-5: round {r + 1}/{rounds}")
            for kind in bl.rotated(["unbatched", "batched"], r):
                tasks, per_job = (unbatched, 1) if kind == "unbatched" else (tiny, batch)
                ours = smt_project(root / f"{kind}{r}")
                bl.wall(
                    [sys.executable, "-c", EXPORT_TINY, str(tasks), str(per_job)],
                    cwd=ours,
                    env=env_for(ours),
                )
                bare = bare_folder(root / f"bare_{kind}{r}", tasks // per_job, per_job)
                fresh = nosite = None
                if kind == "unbatched":  # bare jobs without `site`, as the job client starts
                    nosite = bare_folder(root / f"bare_nosite{r}", tasks, 1, "-S")
                if kind == "unbatched":  # the same jobs, each a fresh `smttask run`
                    fresh = smt_project(root / f"fresh{r}")
                    bl.wall(
                        [sys.executable, "-c", EXPORT_TINY, str(tasks), str(per_job)],
                        cwd=fresh,
                        env=env_for(fresh),
                    )
                for who in bl.rotated(["ours", "bare", "nosite", "fresh"], r):
                    if who == "ours":
                        add(f"{kind}_ours", snakemake(ours, "build/Snakefile", "--cores", "2"))
                    elif who == "bare":
                        add(f"{kind}_bare", snakemake(bare, "bare.smk", "--cores", "2"))
                    elif who == "nosite":
                        if nosite is not None:
                            add(f"{kind}_nosite", snakemake(nosite, "bare.smk", "--cores", "2"))
                    elif fresh is not None:
                        add(
                            f"{kind}_fresh",
                            snakemake(
                                fresh, "build/Snakefile", "--cores", "2", SMTTASK_JOB_SERVER="0"
                            ),
                        )
                for who in bl.rotated(["ours", "bare"], r):
                    if who == "ours":
                        add(
                            f"{kind}_again_ours", snakemake(ours, "build/Snakefile", "--cores", "2")
                        )
                    else:
                        add(f"{kind}_again_bare", snakemake(bare, "bare.smk", "--cores", "2"))
                made = count_outputs(ours, "data/run_dump/tiny/*.json")
                made_bare = count_outputs(bare, "out/*/*.txt")
                if made != tasks or made_bare != tasks:
                    raise SystemExit(
                        f"{kind}: {made} smttask outputs, {made_bare} bare, of {tasks}"
                    )
                listed = subprocess.run(
                    [bl.bin_path("smttask"), "smt", "list"],
                    cwd=ours,
                    env=env_for(ours),
                    capture_output=True,
                    text=True,
                    check=True,
                )
                records = len(listed.stdout.split())
                counts.append(f"{kind} round {r + 1}: {records} records for {tasks} tasks")

    g = s.get
    export_rows = [
        (
            f"export of {exported['jobs']:,} tasks ({exported['layout']} layout, "
            f"{exported['rules']} rules)",
            exported["export"],
            f"the same without writing the {exported['files']:,} files",
            exported["render"],
        ),
        ("re-export, nothing changed", exported["reexport"], None, None),
    ]
    dry_rows = [
        ("`snakemake -n` of the exported workflow", g("dry_ours"),
         "hand-written wildcard Snakefile, same DAG", g("dry_base")),
    ]  # fmt: skip
    jobs_rows = [
        (f"{unbatched:,} tasks, 1 per job (wildcard rule), `--cores 2`, job server",
         g("unbatched_ours"),
         f"{unbatched:,} bare `python -c` jobs, one wildcard rule", g("unbatched_bare")),
        (f"{unbatched:,} tasks, 1 per job (wildcard rule), `--cores 2`, job server",
         g("unbatched_ours"),
         f"{unbatched:,} bare `python -S -c` jobs (no `site`, as the job client starts)",
         g("unbatched_nosite")),
        ("the same, each job a fresh `smttask run` (`SMTTASK_JOB_SERVER=0`)",
         g("unbatched_fresh"),
         f"{unbatched:,} bare `python -c` jobs, one wildcard rule", g("unbatched_bare")),
        (f"{tiny:,} tasks, {batch} per job ({tiny // batch} jobs), `--cores 2`",
         g("batched_ours"), f"{tiny // batch} bare `python -c` jobs × {batch} outputs",
         g("batched_bare")),
        ("second run, 1 per job (nothing to do)", g("unbatched_again_ours"),
         "bare, 1 per job, second run", g("unbatched_again_bare")),
        (f"second run, {batch} per job (nothing to do)", g("batched_again_ours"),
         f"bare, {batch} per job, second run", g("batched_again_bare")),
    ]  # fmt: skip
    per_job = [
        ("per job, 1 task per job", _net(g("unbatched_ours"), g("unbatched_again_ours"), unbatched),
         "per bare job", _net(g("unbatched_bare"), g("unbatched_again_bare"), unbatched)),
        (f"per task, {batch} per job", _net(g("batched_ours"), g("batched_again_ours"), tiny),
         f"per bare output, {batch} per job",
         _net(g("batched_bare"), g("batched_again_bare"), tiny)),
    ]  # fmt: skip
    result = {
        "name": "compile",
        "title": "Compiled workflows: export, Snakemake dry run, per-job overhead",
        "about": [
            f"{rounds} rounds; contenders alternate within a round; every workflow run in a "
            "fresh project. Ratios < 1: smttask is faster."
        ],
        "settings": {
            "smttask": "`export_snakemake(..., layout='wildcard')` (batched: `batch=B`); "
            "each job `smttask run` with recording on, forked by the workflow's job server "
            "(`smttask-job run`), or fresh with `SMTTASK_JOB_SERVER=0`; the workflow ends "
            "with one `smttask store flush`.",
            "bare": "one wildcard rule; each job `python -c` creating its own output "
            "file(s), nothing else.",
        },
        "versions": bl.versions(["smttask", "snakemake"]),
        "tables": [
            bl.pairs_table(
                "1. Export",
                export_rows,
                note=f"Building the {n:,} task objects took {exported['build']:.2f} s "
                "(not counted). Target: export ≤ 10 s at 20,000 tasks.",
            ),
            *(
                []
                if args.skip_dry_run
                else [bl.pairs_table("2. Snakemake dry run (target ratio ≤ 1.2)", dry_rows)]
            ),
            bl.pairs_table("3–5. Running the jobs", jobs_rows),
            bl.pairs_table(
                "Per job and per task, beyond Snakemake's own start-up",
                per_job,
                note="(first run − second run of the same round) / jobs or tasks: the second "
                "run, with nothing to do, measures Snakemake's start-up and DAG building.",
            ),
        ],
        "notes": counts,
    }
    bl.emit(result, args.json)


def _net(runs: list[float] | None, idle: list[float] | None, count: int) -> list[float] | None:
    if runs is None or idle is None:
        return None
    return [(run - rest) / count for run, rest in zip(runs, idle)]


if __name__ == "__main__":
    main()
