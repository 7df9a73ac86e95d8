"""Cost of recording, against baselines measured in the same run.

    pip install -e '.[bench]'          # redun, the baseline workflow engine
    python bench/bench_recording.py [--quick] [--tasks N] [--rounds R] [--jobs J]

Every figure is measured in fresh projects (git repository + `smttask project init --yes`)
under a temporary folder, each session in its own process, R times (default 5) with the
contenders interleaved; tables show the median and min–max of the R samples on both sides.

1. One recorded task through `smttask run` as a whole process, against `python -c pass`,
   `python -c "import smttask"`, and Sumatra's own `smt run` of a script that does nothing
   (`pass`) and of one that imports numpy, pydantic and scityping (what smttask's records
   list as dependencies).
2. Per-record cost: N trivial tasks with recording on (records in the store at the end)
   minus the same with recording off, paired within each round; against Sumatra's
   `Project.new_record` (its dependency scan of the same two scripts, platform probe) and
   one `record_store.save`.
3. N (default 1,000) trivial recorded tasks in one session: first run (all records in the
   store) against redun with its SQLite file database on the same tasks; re-run in a new
   process with every result loaded from disk against redun's cached re-run.
4. J (default 32) `smttask run` processes × 5 tasks at once into one SQLite store: wall
   time, records and outputs found, errors (one run: a check of safety under load).
5. The clean-code check as a recorded run does it: two checks per task (one before the
   inputs are resolved, one when the record begins); the first one in a process runs
   `git rev-parse` and `git status`.

With `--first-run`, only the first runs of section 3, recorded and not (no redun, no
Sumatra); with `--against REV` as well, the same interleaved with smttask's code at git
revision REV (a temporary worktree, imported from there), as a baseline.

Work time is the loop of N `run()` calls: the records journaled, and the batches due left to
detached processes that move them into the store. The time until every record is in the
store adds a `recording.flush()`, which waits for those processes and stores the rest.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib as bl

TASKS = """
from smttask import RecordedTask


@RecordedTask
def square(x: int) -> int:
    return x * x
"""

SESSION = """
import json, sys, time
t0 = time.perf_counter()
import smttask
from smttask import recording
import tasks
t1 = time.perf_counter()
n = int(sys.argv[1])
for i in range(n):
    tasks.square(x=i).run()
t2 = time.perf_counter()
if smttask.config.settings.record:
    recording.flush()
t3 = time.perf_counter()
watcher = recording.RECORDER.projects.get(smttask.config.project_root())
checks = watcher.watcher().checks if watcher and watcher._watcher else 0
print(json.dumps({"import": t1 - t0, "loop": t2 - t1, "flush": t3 - t2, "git_status": checks}))
"""

#: `smt run` baselines: a script that does nothing, and one importing what smttask's
#: records list as dependencies (as an analysis module would).
EMPTY_MAIN = "pass\n"
IMPORTING_MAIN = "import numpy\nimport pydantic\nimport scityping\n"

REDUN_TASKS = """
from redun import task


@task()
def square(x: int) -> int:
    return x * x


@task()
def main(n: int) -> list:
    return [square(i) for i in range(n)]
"""

REDUN_SESSION = """
import json, os, sys, time
t0 = time.perf_counter()
from redun import Scheduler
from redun.config import Config
import rtasks
scheduler = Scheduler(config=Config({"backend": {"db_uri": "sqlite:///" + os.path.abspath("redun.db")}}))
scheduler.load()
t1 = time.perf_counter()
result = scheduler.run(rtasks.main(int(sys.argv[1])))
t2 = time.perf_counter()
assert len(result) == int(sys.argv[1])
print(json.dumps({"import": t1 - t0, "loop": t2 - t1}))
"""

SUMATRA_NEW_RECORD = """
import json, statistics, sys, time
from sumatra.projects import load_project
from sumatra.programs import PythonExecutable
project = load_project()
executable = PythonExecutable(sys.executable)
out = {}
for main in ("empty.py", "importing.py"):
    t = time.perf_counter()
    project.new_record(parameters={"x": 1}, main_file=main, executable=executable,
                       script_args="tasks.square")
    out[main] = time.perf_counter() - t
record = project.most_recent()
saves = []
for i in range(5):
    record.label = f"copy{sys.argv[1]}-{i}"
    t = time.perf_counter()
    project.record_store.save(project.name, record)
    saves.append(time.perf_counter() - t)
out["save"] = statistics.median(saves)
print(json.dumps(out))
"""

GIT_CHECK = """
import json, time
import smttask, tasks
session = smttask.hooks.current()
recorder = session.recorder  # the session's recorder, as a run uses it
task = tasks.square(x=1)
t = time.perf_counter(); recorder.guard(task); first = time.perf_counter() - t
n = 2000
t = time.perf_counter()
for _ in range(n):
    recorder.guard(task)                                # before the inputs are resolved
    recorder.project().check(task, session.settings)    # when the record begins
later = (time.perf_counter() - t) / n
rec = recorder.project()
print(json.dumps({"first": first, "per_task": later, "status_calls": rec.watcher().checks}))
"""


def session(
    folder: Path, code: str, *args: str, tree: Path | None = None, **env: str
) -> dict[str, Any]:
    out, _ = bl.run_json(
        [sys.executable, "-c", code, *args],
        cwd=folder,
        env=bl.revision_env(bl.base_env(PYTHONPATH=str(folder), **env), tree),
    )
    return out


def first_runs(n: int, rounds: int, against: str | None) -> bl.Result:
    """Section 3's first runs only: recorded (work time; every record in the store) and not,
    for this code and (`against`) the code at another revision, interleaved."""
    s: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="smttask-bench-rec-") as tmp:
        root = Path(tmp)
        with bl.revision(against, root) as tree:
            codes = {"": None, **({"base": tree} if tree is not None else {})}
            order = [(c, k) for c in codes for k in ("on", "off")]
            for r in range(rounds):
                bl.progress(f"first runs: round {r + 1}/{rounds}")
                for code, kind in bl.rotated(order, r):
                    folder = project(root / f"{code or 'this'}-{kind}{r}")
                    env = {"SMTTASK_RECORD": "0"} if kind == "off" else {}
                    out = session(folder, SESSION, str(n), tree=codes[code], **env)
                    s.setdefault(f"{code}{kind}", []).append(out["loop"])
                    if kind == "on":
                        s.setdefault(f"{code}stored", []).append(out["loop"] + out["flush"])
    rows = []
    for code in codes:
        name = f"at {against}" if code else "this code"
        rows += [
            (f"{name}: {n:,} recorded tasks, work time (records journaled)", s[f"{code}on"],
             "recording off", s[f"{code}off"]),
            (f"{name}: … until every record is in the store", s[f"{code}stored"],
             "recording off", s[f"{code}off"]),
        ]  # fmt: skip
    return {
        "name": "recording-first-run",
        "title": f"First run of {n:,} trivial recorded tasks in one session",
        "about": [
            f"N = {n:,} trivial tasks (`square(x) = x * x`), {rounds} interleaved rounds, each "
            "session a new process in a fresh project; ratio: recorded / unrecorded."
        ],
        "settings": {"smttask": "defaults (records in batches of 2,000, results fsynced)."},
        "versions": bl.versions(["smttask", "Django"]),
        "tables": [bl.pairs_table("First runs", rows)],
    }


def script(folder: Path, code: str, *args: str, **env: str) -> None:
    cmd = [sys.executable, "-c", code, *args]
    bl.wall(cmd, cwd=folder, env=bl.base_env(PYTHONPATH=str(folder), **env))


def project(folder: Path, **files: str) -> Path:
    return bl.git_project(
        folder, {"tasks.py": TASKS, ".gitignore": "data/\nbuild/\n.snakemake/\n", **files}
    )


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--tasks", type=int, help="N (default 1000; --quick: 100)")
    p.add_argument("--rounds", type=int, help="interleaved repeats (default 5; --quick: 3)")
    p.add_argument("--jobs", type=int, help="J (default 32; --quick: 8)")
    p.add_argument("--first-run", action="store_true", help="only the first runs of section 3")
    p.add_argument("--against", metavar="REV", help="with --first-run: also at git revision REV")
    args = p.parse_args()
    if args.against and not args.first_run:
        p.error("--against goes with --first-run")
    n = args.tasks or (100 if args.quick else 1000)
    rounds = args.rounds or (3 if args.quick else 5)
    jobs = args.jobs or (8 if args.quick else 32)
    py, smttask, smt = sys.executable, bl.bin_path("smttask"), bl.bin_path("smt")
    env = bl.base_env()
    s: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        s.setdefault(key, []).append(value)

    if args.first_run:
        bl.emit(first_runs(n, rounds, args.against), args.json)
        return

    with tempfile.TemporaryDirectory(prefix="smttask-bench-rec-") as tmp:
        root = Path(tmp)

        # 1. Whole processes.
        one = project(root / "one", **{"empty.py": EMPTY_MAIN, "importing.py": IMPORTING_MAIN})
        for r in range(rounds):
            script(one, f"import tasks; tasks.square(x={r}).save('t{r}')", SMTTASK_RECORD="0")
        whole = {
            "run": lambda r: [smttask, "run", "-q", f"t{r}"],
            "import": lambda r: [py, "-c", "import smttask"],
            "pass": lambda r: [py, "-c", "pass"],
            "smt_empty": lambda r: [smt, "run", "-e", "python", "-m", "empty.py"],
            "smt_importing": lambda r: [smt, "run", "-e", "python", "-m", "importing.py"],
        }
        for r in range(rounds):
            bl.progress(f"recording 1: round {r + 1}/{rounds}")
            for key in bl.rotated(list(whole), r):
                add(key, bl.wall(whole[key](r), cwd=one, env=env))
                if key == "run":  # its record, moved by a detached process, is in the store
                    add("run_stored", s["run"][-1] + bl.settle(one))
        listed = len(_lines([smttask, "smt", "list"], one))
        record_note = (
            f"Records in section 1's store: {listed} (expected {3 * rounds}: one per "
            "`smttask run` and per `smt run`)."
        )

        # 2 and 3. Sessions of N tasks: recorded, unrecorded, redun; then the re-runs.
        for r in range(rounds):
            bl.progress(f"recording 2-3: round {r + 1}/{rounds}")
            order = ["on", "off", "redun", "sumatra"]
            for kind in bl.rotated(order, r):
                if kind == "on":
                    on = session(project(root / f"on{r}"), SESSION, str(n))
                    add("first", on["loop"] + on["flush"])
                    add("work", on["loop"])
                    add("on_flush", on["flush"])
                    add("git_status_first", on["git_status"])
                elif kind == "off":
                    off = session(project(root / f"off{r}"), SESSION, str(n), SMTTASK_RECORD="0")
                    add("off", off["loop"])
                elif kind == "redun":
                    folder = project(root / f"redun{r}", **{"rtasks.py": REDUN_TASKS})
                    add("redun_first", session(folder, REDUN_SESSION, str(n))["loop"])
                else:
                    folder = project(
                        root / f"sumatra{r}",
                        **{"empty.py": EMPTY_MAIN, "importing.py": IMPORTING_MAIN},
                    )
                    out = session(folder, SUMATRA_NEW_RECORD, str(r))
                    add("new_record_empty", out["empty.py"])
                    add("new_record_importing", out["importing.py"])
                    add("save", out["save"])
            add("per_record", (s["first"][-1] - s["off"][-1]) / n)
            add("per_record_work", (s["work"][-1] - s["off"][-1]) / n)
            for kind in bl.rotated(["on", "redun"], r):
                if kind == "on":
                    again = session(root / f"on{r}", SESSION, str(n))
                    add("rerun", again["loop"])
                    add("session_import", again["import"])
                else:
                    out = session(root / f"redun{r}", REDUN_SESSION, str(n))
                    add("redun_rerun", out["loop"])
                    add("redun_import", out["import"])

        # 4. Concurrency (one run).
        bl.progress(f"recording 4: {jobs} processes at once")
        conc = project(root / "concurrent")
        code = "import sys, tasks\nfor x in range(5): tasks.square(x=int(sys.argv[1]) * 100 + x).save(sys.argv[2])"
        for job in range(jobs):
            script(conc, code, str(job), f"job{job}")
        start = time.perf_counter()
        procs = [
            subprocess.Popen([smttask, "run", "-q", f"job{j}"], cwd=conc, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for j in range(jobs)
        ]  # fmt: skip
        outs = [proc.communicate() for proc in procs]
        concurrent = time.perf_counter() - start
        errors = sum(proc.returncode != 0 or "rror" in err for proc, (_, err) in zip(procs, outs))
        records = len(_lines([smttask, "smt", "list"], conc))
        outputs = len(list((conc / "data" / "run_dump" / "square").glob("*.json")))

        # 5. Clean-code checks, one fresh process per round.
        for r in range(rounds):
            git = session(root / f"on{r}", GIT_CHECK)
            add("check_first", git["first"])
            add("check_per_task", git["per_task"])
            add("status_calls", git["status_calls"])
            add(
                "git_status",
                bl.wall(["git", "status", "--porcelain"], cwd=root / f"on{r}", env=env),
            )

    g = s.get
    whole_rows = [
        ("`smttask run` of 1 recorded task (spawn to exit; record journaled)", g("run"), "`python -c pass`", g("pass")),
        ("", g("run"), "`python -c 'import smttask'`", g("import")),
        ("", g("run"), "`smt run` of a script that does nothing (`pass`)", g("smt_empty")),
        ("", g("run"), "`smt run` of a script importing numpy, pydantic, scityping", g("smt_importing")),
        ("… until its record is in the store (moved by the detached process it starts)", g("run_stored"), "`smt run` of a script that does nothing (`pass`)", g("smt_empty")),
    ]  # fmt: skip
    per_record = [
        ("per-record work: (recorded work time − unrecorded) / N", g("per_record_work"),
         "Sumatra `Project.new_record`, main file does nothing", g("new_record_empty")),
        ("per-record cost: (recorded, every record in the store − unrecorded) / N", g("per_record"),
         "Sumatra `Project.new_record`, main file does nothing", g("new_record_empty")),
        ("", g("per_record"),
         "Sumatra `Project.new_record`, main file imports numpy, pydantic, scityping",
         g("new_record_importing")),
        ("", g("per_record"), "Sumatra `record_store.save` of one record (median of 5 per round)",
         g("save")),
    ]  # fmt: skip
    sessions = [
        (f"first run of {n:,} recorded tasks: work time (records journaled)", g("work"),
         f"same {n:,} tasks, recording off", g("off")),
        ("… until every record is in the store", g("first"),
         f"redun first run of the {n:,} tasks", g("redun_first")),
        ("… of which the final `recording.flush()` (waits for the movers)", g("on_flush"),
         None, None),
        (f"same {n:,} tasks, recording off", g("off"), None, None),
        (f"re-run in a new process, all {n:,} loaded from disk", g("rerun"),
         "redun cached re-run", g("redun_rerun")),
        ("imports (+ redun: `Scheduler.load`), not counted above", g("session_import"),
         "redun imports + `Scheduler.load`", g("redun_import")),
    ]  # fmt: skip
    checks = [
        ("first clean-code check in a process (`git rev-parse` + `git status`)",
         g("check_first"), "one `git status --porcelain` process", g("git_status")),
        ("clean-code checks per recorded task (2 checks, as a run does them)",
         g("check_per_task"), None, None),
    ]  # fmt: skip
    status_calls = sorted(set(int(x) for x in g("status_calls") or []))
    first_status = sorted(set(int(x) for x in g("git_status_first") or []))
    result = {
        "name": "recording",
        "title": "Recording: smttask against Sumatra and redun",
        "about": [
            f"N = {n:,} trivial tasks (`square(x) = x * x`), {rounds} interleaved rounds, "
            "each session a new process in a fresh project. Ratios < 1: smttask is faster."
        ],
        "settings": {
            "smttask": "defaults: recording on, records journaled then moved into the "
            "project's SQLite (Django) store in batches and at exit, results fsynced.",
            "Sumatra": "`smt run -e python -m SCRIPT` and `Project.new_record` (its "
            "dependency scan of the main file and platform probe), SQLite (Django) store.",
            "redun": "`@task()`, `Scheduler` with its SQLite file database (the N tasks as "
            "one `main` task returning a list), default executor.",
        },
        "versions": bl.versions(["smttask", "Sumatra", "redun", "Django"]),
        "tables": [
            bl.pairs_table("1. One recorded task, whole process", whole_rows),
            bl.pairs_table("2. Per-record cost", per_record),
            bl.pairs_table(f"3. {n:,} trivial recorded tasks in one session", sessions),
            bl.pairs_table(
                f"4. {jobs} `smttask run` processes × 5 tasks at once, one SQLite store (1 run)",
                [("wall time", [concurrent], None, None)],
                note=f"records {records} / {5 * jobs}, outputs {outputs} / {5 * jobs}, "
                f"processes with errors: {errors}.",
            ),
            bl.pairs_table("5. Clean-code check", checks),
        ],
        "notes": [
            f"`git status` calls during a first run of {n:,} tasks: {first_status}; during "
            f"1 + 2 × 2,000 checks in section 5: {status_calls} (later checks compare file "
            "stamps of git's index, HEAD and the task's module).",
            record_note,
        ],
    }
    bl.emit(result, args.json)


def _lines(cmd: list[str], cwd: Path) -> list[str]:
    done = subprocess.run(cmd, cwd=cwd, env=bl.base_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.split()


if __name__ == "__main__":
    main()
