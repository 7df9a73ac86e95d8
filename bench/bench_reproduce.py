"""Reproducing a recorded task: `smttask reproduce` against re-running its task file.

    python bench/bench_reproduce.py [--quick] [--rounds R] [--against REV]

Makes a project with two recorded tasks, `square` (trivial) and `nap` (sleeps 1 s), then
each round (default 5, interleaved, order rotated) times, as whole processes:

- `smttask reproduce LABEL` of each: record store opened, commit checked out into a
  temporary worktree, task re-run in a new process there, outputs compared, worktree removed;
- against `smttask run --no-record` of the same task's file in a scratch data folder (a
  plain re-run: no checkout, no second process, no comparison);
- and, to see where the time goes: `reproduce_record()` with the store already open, timed in
  its process; `git worktree add --detach` + `git worktree remove` alone; `smttask smt list`
  (a process that opens the record store and lists it).
With ``--against REV``, `smttask reproduce` of each also runs with smttask's code at git
revision REV (a temporary worktree, imported from there), interleaved, as a baseline.
The target: `smttask reproduce` within 3 s plus the task's own time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib as bl

MODULE = """
import time

from smttask import RecordedTask


@RecordedTask
def square(x: int) -> int:
    return x * x


@RecordedTask
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds
"""

MAKE = """
import json, benchrepro as m
from smttask.recording.store import open_store
a, b = m.square(x=3), m.nap(seconds=1.0)
a.run(); b.run()
a.save("files"); b.save("files")
labels = {r.script_arguments.rsplit(".", 1)[1]: r.label for r in open_store().query()}
print(json.dumps(labels))
"""

IN_PROCESS = """
import json, sys, time
from smttask.recording.store import open_store
from smttask.reproduce import reproduce_record
t = time.perf_counter(); store = open_store(); opened = time.perf_counter() - t
t = time.perf_counter(); result = reproduce_record(store, sys.argv[1]); took = time.perf_counter() - t
assert result.status == "identical", result.lines()
print(json.dumps({"open": opened, "reproduce": took, "task": result.task_seconds}))
"""


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--rounds", type=int, help="R (default 5; --quick: 2)")
    p.add_argument("--against", metavar="REV", help="reproduce also with smttask at git REV")
    args = p.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    smttask = bl.bin_path("smttask")
    env = bl.base_env()
    with tempfile.TemporaryDirectory() as tmp:
        root = bl.git_project(
            Path(tmp) / "project",
            {"benchrepro.py": MODULE, ".gitignore": "data/\n__pycache__/\nfiles/\nscratch/\n"},
        )
        commit = ["git", "commit", "-q", "-am", "project init"]  # its .gitignore lines
        subprocess.run(commit, cwd=root, env=env, check=True, capture_output=True)
        bl.progress("reproduce: recording the tasks")
        made = subprocess.run(
            [sys.executable, "-c", MAKE], cwd=root, env=env, capture_output=True, text=True
        )
        if made.returncode:
            sys.exit(f"recording failed:\n{made.stdout}\n{made.stderr}")
        labels = json.loads(made.stdout.strip().splitlines()[-1])
        files = {p.name.split("__")[0]: p for p in (root / "files").glob("*.json")}
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        tree = Path(tmp) / "tree"

        def rerun(name: str) -> float:
            scratch = {"SMTTASK_INPUT_DIR": f"scratch/{name}", "SMTTASK_OUTPUT_DIR": "scratch/o"}
            seconds = bl.wall(
                [smttask, "run", "--no-record", "--recompute", str(files[name])],
                cwd=root,
                env={**env, **scratch},
            )
            return seconds

        def worktree() -> float:
            add = ["git", "worktree", "add", "--detach", "--quiet", str(tree), commit]
            remove = ["git", "worktree", "remove", "--force", str(tree)]
            return bl.wall(add, cwd=root, env=env) + bl.wall(remove, cwd=root, env=env)

        inside: dict[str, list[float]] = {"open": [], "reproduce": [], "task": []}

        def in_process() -> float:
            found, seconds = bl.run_json(
                [sys.executable, "-c", IN_PROCESS, labels["square"]], cwd=root, env=env
            )
            for key in inside:
                inside[key].append(found[key])
            return seconds

        def reproduce(name: str, tree: Path | None = None) -> float:
            command = [*bl.smttask_command(tree), "reproduce", labels[name]]
            return bl.wall(command, cwd=root, env=bl.revision_env(env, tree))

        cases = {
            "reproduce square": lambda: reproduce("square"),
            "reproduce nap": lambda: reproduce("nap"),
            "run square": lambda: rerun("square"),
            "run nap": lambda: rerun("nap"),
            "in process": in_process,
            "worktree": worktree,
            "smt list": lambda: bl.wall([smttask, "smt", "list"], cwd=root, env=env),
        }  # fmt: skip
        samples: dict[str, list[float]] = {}
        with bl.revision(args.against, Path(tmp)) as old:
            if old is not None:
                cases["reproduce square@rev"] = lambda: reproduce("square", old)
                cases["reproduce nap@rev"] = lambda: reproduce("nap", old)
            samples.update({name: [] for name in cases})
            for r in range(rounds):
                bl.progress(f"reproduce: round {r + 1}/{rounds}")
                for name in bl.rotated(list(cases), r):
                    samples[name].append(cases[name]())

    rows = [
        ("`smttask reproduce` of a trivial task (whole process)", samples["reproduce square"],
         "`smttask run --no-record` of its task file", samples["run square"]),
        ("`smttask reproduce` of a task sleeping 1 s (whole process)", samples["reproduce nap"],
         "`smttask run --no-record` of its task file", samples["run nap"]),
        ("`reproduce_record()` of the trivial task, store open", inside["reproduce"],
         "`git worktree add` + `remove` alone", samples["worktree"]),
        ("opening the record store (in that process)", inside["open"],
         "`smttask smt list` (whole process)", samples["smt list"]),
        ("the re-run task's own time (trivial task)", inside["task"], None, None),
    ]  # fmt: skip
    if args.against:
        rows += [
            ("`smttask reproduce` of the trivial task", samples["reproduce square"],
             f"the same at {args.against}", samples["reproduce square@rev"]),
            ("`smttask reproduce` of the task sleeping 1 s", samples["reproduce nap"],
             f"the same at {args.against}", samples["reproduce nap@rev"]),
        ]  # fmt: skip
    over = bl.median(samples["reproduce nap"]) - 1.0
    result = {
        "name": "reproduce",
        "title": "Reproducing a recorded task",
        "about": [
            f"{rounds} interleaved rounds. `smttask reproduce` opens the record store, checks "
            "the record's commit out into a temporary git worktree, re-runs the task from its "
            "description in a new process there (recording off, results in a temporary "
            "folder), compares the outputs' SHA-1 and removes the worktree. Target: 3 s plus "
            f"the task's own time; measured with the 1 s task: {over:.2f} s plus the task."
        ],
        "settings": {
            "smttask reproduce": "default options (upstream results computed again).",
            "smttask run": "`--no-record --recompute`, data stores in a scratch folder.",
        },
        "versions": bl.versions(["smttask", "Sumatra", "Django"]),
        "tables": [bl.pairs_table("Reproducing one record", rows)],
    }
    bl.emit(result, args.json)


if __name__ == "__main__":
    main()
