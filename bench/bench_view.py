"""Reading a record store with RSView, against reading it as Sumatra records, in the same run.

    python bench/bench_view.py [--records N] [--repeat K]

Makes a project with N real records (N/2 `fit` tasks on N/2 `prep` tasks, run in one
process), then, in a fresh process, times (median of K, each on a new view):
  - open:      RSView() (Django set-up, journal flush), once;
  - all:       every record as RSView reads it (one query of the needed columns) against
               every record as Sumatra's Record objects (``open_store().records()``, the
               objects ``smt`` and Sumatra's API give: a dozen queries per record; timed once);
  - filtered:  task + parameter filter with its conditions in the query, against the same
               tests as a Python predicate over every record;
  - latest:    ``rs.latest`` (reads rows until the first match) against reading the view;
  - dframe:    ``dframe()`` of every record, parameters flattened.
Ratios > 1: the RSView way is faster.
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
import json, statistics, sys, time
from smttask.view import RSView
from smttask.recording.store import open_store

repeat = int(sys.argv[1])

def median(fn, repeat=repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t)
    return statistics.median(times), out

t = time.perf_counter(); rs = RSView(); opened = time.perf_counter() - t
results = {"open": opened}
results["all"], n = median(lambda: len(RSView().refresh()))
results["all_sumatra"], n_sumatra = median(lambda: len(open_store().records()), 1)  # slow
assert n == n_sumatra, (n, n_sumatra)
chosen = lambda v: v.filter.task("fit").filter.params(eq={"dt": 0.25})
pred = lambda r: r.name == "fit" and r.params["inputs"].get("dt") == 0.25
results["filtered"], k = median(lambda: len(chosen(RSView())))
results["filtered_python"], k2 = median(lambda: len(RSView().filter.where(pred)))
assert k == k2, (k, k2)
results["latest"], _ = median(lambda: RSView().filter.task("prep").latest)
results["latest_read_all"], _ = median(lambda: RSView().filter.task("prep").records()[0])
results["dframe"], frame = median(lambda: RSView().dframe())
results["n"], results["n_filtered"], results["columns"] = n, k, len(frame.columns)
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
        (root / "benchview.py").write_text(textwrap.dedent(MODULE))
        (root / ".gitignore").write_text("data/\n__pycache__/\n")
        for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "bench"]):
            subprocess.run([*git, *cmd], cwd=root, check=True)
        smttask = str(Path(sys.executable).with_name("smttask"))
        subprocess.run([smttask, "project", "init", "--yes"], cwd=root, check=True,
                       capture_output=True)  # fmt: skip
        run(MAKE.format(n=args.records // 2), root)
        r = json.loads(run(MEASURE, root, str(args.repeat)))

    def line(what: str, key: str, baseline: str | None = None) -> None:
        text = f"{what:<32}{r[key] * 1000:9.1f} ms"
        if baseline is not None:
            text += f"   {r[baseline] * 1000:9.1f} ms  ratio {r[baseline] / r[key]:.1f}"
        print(text)

    print(f"{r['n']} records ({r['n_filtered']} pass the filter), {r['columns']} dframe columns")
    print(f"{'':<32}{'RSView':>12}   {'baseline':>12}")
    line("open RSView()", "open")
    line("all records (Sumatra Records)", "all", "all_sumatra")
    line("filter (Python predicate)", "filtered", "filtered_python")
    line("latest (read the whole view)", "latest", "latest_read_all")
    line("dframe of all records", "dframe")


if __name__ == "__main__":
    main()
