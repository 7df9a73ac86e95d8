"""Reading a record store with RSView, against reading it as Sumatra records, in the same run.

    python bench/bench_view.py [--quick] [--records N] [--repeat K]

Makes a project with N real records (N/2 `fit` tasks on N/2 `prep` tasks, run in one
process), then, in a fresh process, times (median of K interleaved repeats for every
case, Sumatra's included, each on a new view):
  - open:      RSView() (Django set-up, journal flush), once;
  - all:       every record as RSView reads it (one query of the needed columns) against
               every record as Sumatra's Record objects (``open_store().records()``, the
               objects ``smt`` and Sumatra's API give: a dozen queries per record);
  - filtered:  task + parameter filter with its conditions in the query, against the same
               tests as a Python predicate over every record;
  - latest:    ``rs.latest`` (reads rows until the first match) against reading the view;
  - dframe:    ``dframe()`` of every record, parameters flattened.
Ratios (RSView / baseline) < 1: the RSView way is faster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import benchlib as bl

MODULE = """
from smttask import RecordedTask

@RecordedTask
def prep(x: int) -> int:
    return x * x

@RecordedTask
def fit(data: int, dt: float) -> float:
    return data * dt
"""

MAKE = """
import benchview as m
for i in range({n}):
    m.fit(data=m.prep(x=i), dt=(0.5, 0.25, 0.1)[i % 3]).run()
"""

MEASURE = """
import json, sys, time
from smttask.view import RSView
from smttask.recording.store import open_store

repeat = int(sys.argv[1])
chosen = lambda v: v.filter.task("fit").filter.params(eq={"dt": 0.25})
pred = lambda r: r.name == "fit" and r.params["inputs"].get("dt") == 0.25
cases = {
    "all": lambda: len(RSView().refresh()),
    "all_sumatra": lambda: len(open_store().records()),
    "filtered": lambda: len(chosen(RSView())),
    "filtered_python": lambda: len(RSView().filter.where(pred)),
    "latest": lambda: RSView().filter.task("prep").latest,
    "latest_read_all": lambda: RSView().filter.task("prep").records()[0],
    "dframe": lambda: RSView().dframe(),
}
t = time.perf_counter(); rs = RSView(); opened = time.perf_counter() - t
results = {"open": [opened]}
outs = {}
names = list(cases)
for r in range(repeat):  # interleaved, each contender rotated to go first in turn
    k = r % len(names)
    for name in names[k:] + names[:k]:
        t = time.perf_counter(); outs[name] = cases[name](); elapsed = time.perf_counter() - t
        results.setdefault(name, []).append(elapsed)
assert outs["all"] == outs["all_sumatra"], (outs["all"], outs["all_sumatra"])
assert outs["filtered"] == outs["filtered_python"]
results["n"], results["n_filtered"] = outs["all"], outs["filtered"]
results["columns"] = len(outs["dframe"].columns)
print(json.dumps(results))
"""


def run(code: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "SMTTASK_PROJECT_ROOT": str(cwd)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"benchmark step failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--records", type=int, help="N (default 2000; --quick: 200)")
    p.add_argument("--repeat", type=int, help="K (default 5; --quick: 3)")
    args = p.parse_args()
    records = args.records or (200 if args.quick else 2000)
    repeat = args.repeat or (3 if args.quick else 5)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
        (root / "benchview.py").write_text(textwrap.dedent(MODULE))
        (root / ".gitignore").write_text("data/\n__pycache__/\nbuild/\n.snakemake/\n")
        for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "bench"]):
            subprocess.run([*git, *cmd], cwd=root, check=True)
        smttask = str(Path(sys.executable).with_name("smttask"))
        subprocess.run([smttask, "project", "init", "--yes"], cwd=root, check=True,
                       capture_output=True)  # fmt: skip
        bl.progress(f"view: making {records} records")
        run(MAKE.format(n=records // 2), root)
        bl.progress(f"view: reading them, {repeat} interleaved repeats")
        r = json.loads(run(MEASURE, root, str(repeat)))

    rows = [
        ("open RSView() (Django set-up, journal flush), once", r["open"], None, None),
        ("all records", r["all"], "Sumatra `RecordStore.records()`", r["all_sumatra"]),
        ("task + parameter filter, in the query", r["filtered"],
         "same test as a Python predicate over every record", r["filtered_python"]),
        ("`latest` of a task", r["latest"], "reading the whole filtered view", r["latest_read_all"]),
        ("`dframe()` of all records, parameters flattened", r["dframe"], None, None),
    ]  # fmt: skip
    result = {
        "name": "view",
        "title": "Reading records: RSView against Sumatra's record objects",
        "about": [
            f"{r['n']} records ({r['n_filtered']} pass the filter; {r['columns']} dframe "
            f"columns), read in one fresh process; {repeat} interleaved repeats, each on a new "
            "view. Ratios < 1: RSView is faster."
        ],
        "settings": {
            "RSView": "one query of the needed columns; filters in the SQL query.",
            "Sumatra": "`RecordStore.records()`: the Record objects `smt` and Sumatra's API "
            "give (a dozen queries per record).",
        },
        "versions": bl.versions(["smttask", "Sumatra", "Django", "pandas"]),
        "tables": [bl.pairs_table("Record store reads", rows, ours="RSView")],
    }
    bl.emit(result, args.json)


if __name__ == "__main__":
    main()
