"""Cost of recording, against baselines measured in the same run.

    pip install -e '.[bench]'          # redun 0.44, the baseline workflow engine
    python bench/bench_recording.py [--tasks N] [--jobs J] [--skip-redun] [--skip-sumatra]

Every figure is measured in fresh projects (git repository + `smttask project init --yes`)
under a temporary folder, each session in its own process:

1. One recorded task through `smttask run` as a whole process (median of 7), against
   `python -c pass`, `python -c "import smttask"` and Sumatra's own `smt run` of a script
   that does nothing. Target: ≤ 0.5 s.
2. Per-record cost: N trivial tasks with recording on (records in the store at the end)
   minus the same with recording off, against Sumatra's `Project.new_record` (dependency
   scan of that same script, platform probe) and one `record_store.save` (one transaction
   per record).
3. N (default 1,000) trivial recorded tasks in one session: first run (all records in the
   store) against redun 0.44 with its file-backed SQLite database on the same tasks
   (target: faster); re-run with every result loaded from disk (target: ≤ 0.2 s) against
   redun's cached re-run.
4. J (default 32) `smttask run` processes × 5 tasks at once into one SQLite store: wall
   time, records and outputs found, errors.
5. The clean-code check: the first `git status`, and the per-task check after it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SMTTASK = str(BIN / "smttask")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}
ENV = {**os.environ, **GIT_ENV}

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

#: Sumatra's baselines scan the main file's imports; this one imports what smttask's records
#: list as dependencies (numpy, pydantic, scityping), as an analysis module would.
SUMATRA_MAIN = "import numpy\nimport pydantic\nimport scityping\n\nprint('done')\n"

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
import json, sys, time
from sumatra.projects import load_project
from sumatra.programs import PythonExecutable
project = load_project()
executable = PythonExecutable(sys.executable)
times = []
for i in range(int(sys.argv[1])):
    t = time.perf_counter()
    project.new_record(parameters={"x": i}, main_file="analysis.py", executable=executable,
                       script_args="tasks.square")
    times.append(time.perf_counter() - t)
saves = []
record = project.most_recent()
for i in range(20):
    record.label = f"copy{i}"
    t = time.perf_counter()
    project.record_store.save(project.name, record)
    saves.append(time.perf_counter() - t)
print(json.dumps({"new_record": times, "save": saves}))
"""

GIT_CHECK = """
import json, time
import smttask, tasks
from smttask.recording import RECORDER
task = tasks.square(x=1)
rec = RECORDER.for_root()
t = time.perf_counter(); rec.check(task); first = time.perf_counter() - t
n = 2000
t = time.perf_counter()
for _ in range(n):
    rec.check(task)
later = (time.perf_counter() - t) / n
print(json.dumps({"first": first, "later": later, "status_calls": rec.watcher().checks}))
"""


def sh(*cmd: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def make_project(folder: Path, files: dict[str, str], *, init: bool = True) -> Path:
    folder.mkdir(parents=True)
    for name, text in {"tasks.py": TASKS, ".gitignore": "data/\n", **files}.items():
        (folder / name).write_text(text)
    sh("git", "init", "-q", cwd=folder)
    sh("git", "add", ".", cwd=folder)
    sh("git", "commit", "-q", "-m", "bench", cwd=folder)
    if init:
        sh(SMTTASK, "project", "init", "--yes", cwd=folder)
    return folder


def session(folder: Path, code: str, *args: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    out = sh(sys.executable, "-c", code, *args, cwd=folder, env={**ENV, **(env or {})})
    return json.loads(out.strip().splitlines()[-1])


def wall(cmd: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=ENV, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def line(label: str, value: float, unit: str = "s", note: str = "") -> None:
    print(f"  {label:<52} {value:>10.4f} {unit:<3} {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=32)
    parser.add_argument("--skip-redun", action="store_true")
    parser.add_argument("--skip-sumatra", action="store_true")
    args = parser.parse_args()
    n = args.tasks
    with tempfile.TemporaryDirectory(prefix="smttask-bench-") as tmp:
        root = Path(tmp)
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), N = {n}\n")

        print("1. One recorded task through `smttask run` (whole process, median of 7)")
        one = make_project(root / "one", {})
        runs = 7
        for i in range(runs):
            sh(sys.executable, "-c", f"import tasks; tasks.square(x={i}).save('t{i}')", cwd=one)
        times, imports, bares = [], [], []
        for i in range(runs):  # interleaved, so that a busy moment hits all three alike
            times.append(wall([SMTTASK, "run", "-q", f"t{i}"], one, 1))
            imports.append(wall([sys.executable, "-c", "import smttask"], one, 1))
            bares.append(wall([sys.executable, "-c", "pass"], one, 1))
        run_one = statistics.median(times)
        listed = sh(SMTTASK, "smt", "list", cwd=one).split()
        assert len(listed) == runs, listed
        best = f"(best {min(times):.3f} s)"
        line("python -c pass", statistics.median(bares))
        line("python -c 'import smttask'", statistics.median(imports))
        line("smttask run (1 task, recorded, record in the store)", run_one, note=best)
        print(f"  -> target ≤ 0.5 s; {run_one / statistics.median(imports):.1f}x `import smttask`")
        if not args.skip_sumatra:
            (one / "analysis.py").write_text(SUMATRA_MAIN)
            sh("git", "add", "analysis.py", cwd=one)
            sh("git", "commit", "-q", "-m", "analysis", cwd=one)
            smt = wall([str(BIN / "smt"), "run", "-e", "python", "-m", "analysis.py"], one, 1)
            line("Sumatra `smt run` of a script importing numpy & co.", smt)
            print(f"  -> smttask run is {smt / run_one:.1f}x faster than smt run")

        print(f"\n2. Per-record cost ({n} trivial tasks, each in a fresh session)")
        ons, offs = [], []
        for k in range(2):  # interleaved: recorded, unrecorded, recorded, unrecorded
            ons.append(session(make_project(root / f"on{k}", {}), SESSION, str(n)))
            offs.append(session(make_project(root / f"off{k}", {}), SESSION, str(n),
                                env={"SMTTASK_RECORD": "0"}))  # fmt: skip
        on = min(ons, key=lambda r: r["loop"] + r["flush"])
        off = min(offs, key=lambda r: r["loop"])
        per_record = (on["loop"] + on["flush"] - off["loop"]) / n
        line("unrecorded: loop (best of 2)", off["loop"])
        line("recorded: loop (records journaled; batches moved)", on["loop"])
        line("recorded: final move into the store", on["flush"])
        line("per-record cost (recorded - unrecorded) / N", per_record * 1000, "ms")
        if not args.skip_sumatra:
            sumatra = make_project(root / "sumatra", {"analysis.py": SUMATRA_MAIN}, init=True)
            res = session(sumatra, SUMATRA_NEW_RECORD, "3")
            new_record = statistics.median(res["new_record"])
            save = statistics.median(res["save"])
            line("Sumatra Project.new_record, per record (median of 3)", new_record * 1000, "ms")
            line("Sumatra record_store.save, per record (median of 20)", save * 1000, "ms")
            print(
                f"  -> a smttask record costs {new_record / per_record:.0f}x less than "
                f"new_record, {save / per_record:.1f}x less than one store save"
            )

        print(f"\n3. {n} trivial recorded tasks in one session")
        first = on["loop"] + on["flush"]
        rerun = session(root / "on0", SESSION, str(n))
        line("smttask first run (every record in the store; best of 2)", first)
        line("smttask re-run (all loaded from disk)", rerun["loop"], note="target ≤ 0.2 s")
        line("  (interpreter start + imports, not counted)", rerun["import"])
        line("  (`git status` calls in the first run)", on["git_status"], "")
        if not args.skip_redun:
            redun_dir = make_project(root / "redun", {"rtasks.py": REDUN_TASKS}, init=False)
            r_first = session(redun_dir, REDUN_SESSION, str(n))
            r_again = session(redun_dir, REDUN_SESSION, str(n))
            line("redun 0.44 first run (SQLite file)", r_first["loop"])
            line("redun 0.44 cached re-run", r_again["loop"])
            print(
                f"  -> first run: smttask {r_first['loop'] / first:.1f}x faster than redun "
                f"(target > 1); re-run: {r_again['loop'] / rerun['loop']:.0f}x faster"
            )

        print(f"\n4. {args.jobs} `smttask run` processes x 5 tasks at once, one SQLite store")
        conc = make_project(root / "concurrent", {})
        code = "import sys, tasks\nfor x in range(5): tasks.square(x=int(sys.argv[1]) * 100 + x).save(sys.argv[2])"
        for job in range(args.jobs):
            sh(sys.executable, "-c", code, str(job), f"job{job}", cwd=conc)
        t = time.perf_counter()
        procs = [
            subprocess.Popen([SMTTASK, "run", "-q", f"job{j}"], cwd=conc, env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for j in range(args.jobs)
        ]  # fmt: skip
        outs = [p.communicate() for p in procs]
        elapsed = time.perf_counter() - t
        errors = sum(p.returncode != 0 or "rror" in err for p, (_, err) in zip(procs, outs))
        records = len(sh(SMTTASK, "smt", "list", cwd=conc).split())
        outputs = len(list((conc / "data" / "run_dump" / "square").glob("*.json")))
        line("wall time", elapsed)
        print(f"  records {records} / {5 * args.jobs}, outputs {outputs} / {5 * args.jobs}, "
              f"processes with errors: {errors}")  # fmt: skip

        print("\n5. Clean-code check")
        git = session(root / "on0", GIT_CHECK)
        line("first check (git rev-parse + git status)", git["first"] * 1000, "ms")
        line("each later check (stat of index, HEAD, module)", git["later"] * 1e6, "µs")
        print(f"  `git status` calls for 2001 checks: {git['status_calls']}")


if __name__ == "__main__":
    main()
