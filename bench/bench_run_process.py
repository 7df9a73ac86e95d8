"""`smttask run` of one recorded task file as a whole process (spawn to exit), at this
checkout and, with `--baseline REV`, at another git revision, in one run.

    python bench/bench_run_process.py [--quick] [--rounds R] [--baseline REV]

Each round (default 7; --quick: 3) runs, in an order rotated each round, for each revision:
`smttask run -q` of a task file computed for the first time (recording on, the record
moved into the project's SQLite store), of the same file again (the result exists), and the
floors `python -c pass` and `python -c 'import smttask'`. The task module defines `square(x:
int) -> int` and imports nothing else; the same task in a module importing
`scityping.numpy` (as `bench_first_hit.py`'s does) is timed too. After the rounds, a reader
(`smttask store flush`, then Sumatra's `smt list`) counts the records: one per computed run.
After every timed `smttask run`, an untimed `smttask store flush` waits for the records to
be in the store (a detached mover may still be moving them), so that no measurement shares
the CPUs with the previous one's mover; the row "+ `smttask store flush`" times both: the
run and a reader that then sees its record.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib as bl

PLAIN = """
from smttask import RecordedTask


@RecordedTask
def square(x: int) -> int:
    return x * x
"""

NUMPY = "from scityping.numpy import Array  # noqa: F401\n" + PLAIN

SAVE = """
import sys
import plain, withnumpy
for r in range(int(sys.argv[1])):
    plain.square(x=r).save(f"tasks/plain{r}")
    withnumpy.square(x=r).save(f"tasks/numpy{r}")
"""


def main() -> None:
    p = bl.parser(__doc__)
    p.add_argument("--rounds", type=int, help="interleaved repeats (default 7; --quick: 3)")
    p.add_argument("--baseline", help="a git revision to time beside this checkout")
    args = p.parse_args()
    rounds = args.rounds or (3 if args.quick else 7)
    revs = ["this checkout", *([args.baseline] if args.baseline else [])]
    load_start = bl.load_average()
    samples: dict[str, list[float]] = {}
    counts: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="smttask-bench-run-") as tmp,
        contextlib.ExitStack() as st,
    ):
        trees = {revs[0]: None}
        if args.baseline:
            trees[args.baseline] = st.enter_context(bl.revision(args.baseline, Path(tmp)))
        roots, envs = {}, {}
        for i, rev in enumerate(revs):
            root = bl.git_project(
                Path(tmp) / f"project{i}",
                {"plain.py": PLAIN, "withnumpy.py": NUMPY, ".gitignore": "tasks/\n__pycache__/\n"},
                smt=False,
            )
            env = bl.revision_env(bl.base_env(PYTHONPATH=str(root)), trees[rev])
            cli = bl.smttask_command(trees[rev])
            bl.wall([*cli, "project", "init", "--yes"], cwd=root, env=env)
            subprocess.run(
                "git add -A && git commit -q -m init || true",
                shell=True, cwd=root, env=env, check=True, capture_output=True,
            )  # fmt: skip
            bl.wall([sys.executable, "-c", SAVE, str(rounds)], cwd=root, env=env)
            roots[rev], envs[rev] = root, env

        def jobs(rev: str) -> list[tuple[str, list[str]]]:
            cli = bl.smttask_command(trees[rev])
            return [
                ("pass", [sys.executable, "-c", "pass"]),
                ("import smttask", [sys.executable, "-c", "import smttask"]),
                ("plain", [*cli, "run", "-q", "tasks/plain{r}"]),
                ("numpy", [*cli, "run", "-q", "tasks/numpy{r}"]),
            ]

        for r in range(rounds):
            bl.progress(f"run process: round {r + 1}/{rounds}")
            for rev in bl.rotated(revs, r):
                for name, cmd in bl.rotated(jobs(rev), r):
                    cmd = [c.format(r=r) for c in cmd]
                    if name in ("pass", "import smttask"):
                        samples.setdefault(f"{rev}:{name}", []).append(
                            bl.wall(cmd, cwd=roots[rev], env=envs[rev])
                        )
                        continue
                    flush = [*bl.smttask_command(trees[rev]), "store", "flush"]
                    for step in ("computed", "again"):
                        seconds = bl.wall(cmd, cwd=roots[rev], env=envs[rev])
                        samples.setdefault(f"{rev}:{name}:{step}", []).append(seconds)
                        # A reader: waits for a mover still moving the record (untimed,
                        # except after the computed run of the plain module).
                        seen = bl.wall(flush, cwd=roots[rev], env=envs[rev])
                        if name == "plain" and step == "computed":
                            samples.setdefault(f"{rev}:seen", []).append(seconds + seen)
        for rev in revs:
            cli = bl.smttask_command(trees[rev])
            bl.wall([*cli, "store", "flush"], cwd=roots[rev], env=envs[rev])
            listed = subprocess.run(
                [bl.bin_path("smt"), "list"],
                cwd=roots[rev], env=envs[rev], capture_output=True, text=True, check=True,
            ).stdout.split()  # fmt: skip
            counts.append(f"{rev}: {len(listed)} records for {2 * rounds} computed runs")
    s = samples.get
    base = args.baseline
    rows = []
    for name, text in (
        ("plain", "task module of plain ints"),
        ("numpy", "module importing scityping.numpy"),
    ):
        for step, what in (
            ("computed", "computed, record kept"),
            ("again", "again, result exists"),
        ):
            label = f"`smttask run`, {text}: {what}"
            if base:
                rows.append(
                    (label, s(f"{revs[0]}:{name}:{step}"), f"at {base}", s(f"{base}:{name}:{step}"))
                )
            else:
                rows.append(
                    (
                        label,
                        s(f"{revs[0]}:{name}:{step}"),
                        "`python -c 'import smttask'`",
                        s(f"{revs[0]}:import smttask"),
                    )
                )
    seen = "`smttask run` (plain ints, computed) + `smttask store flush` after it"
    if base:
        rows.append((seen, s(f"{revs[0]}:seen"), f"at {base}", s(f"{base}:seen")))
    else:
        rows.append((seen, s(f"{revs[0]}:seen"), None, None))
    floors = [
        (
            "`python -c 'import smttask'`",
            s(f"{revs[0]}:import smttask"),
            "`python -c pass`",
            s(f"{revs[0]}:pass"),
        ),
    ]
    if base:
        floors.append(
            (
                "`python -c 'import smttask'`",
                s(f"{revs[0]}:import smttask"),
                f"at {base}",
                s(f"{base}:import smttask"),
            )
        )
    result = {
        "name": "run_process",
        "title": "`smttask run` of one recorded task, as a whole process",
        "about": [
            f"{rounds} interleaved rounds; every process new. Load average "
            f"{load_start[0]:.2f} at the start, {bl.load_average()[0]:.2f} at the end."
        ],
        "settings": {"smttask": "defaults: recording on, SQLite record store, fsync on."},
        "versions": bl.versions(["smttask"]),
        "tables": [bl.pairs_table("Whole processes", rows), bl.pairs_table("Floors", floors)],
        "notes": counts,
    }
    bl.emit(result, args.json)


if __name__ == "__main__":
    main()
