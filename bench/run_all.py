"""Run every benchmark and write their tables into one Markdown file.

    python bench/run_all.py [--quick] [--out bench/RESULTS.md] [--only NAME,...]
                            [--rounds R] [--extra NAME=ARGS ...]

Runs each `bench/bench_*.py` in its own process (one after the other: they would compete
for the machine's cores), collects their results and writes a file with the date, the
machine, its load, the versions of every contender, the command, and a section per
benchmark. A benchmark that fails is reported in the file and makes the run fail.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import site
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchlib as bl

HERE = Path(__file__).resolve().parent

#: name → script, in the order they run (cheapest first).
BENCHMARKS = {
    "first_hit": "bench_first_hit.py",
    "core": "bench_core.py",
    "workflows": "bench_workflows.py",
    "recording": "bench_recording.py",
    "view": "bench_view.py",
    "compile": "bench_compile.py",
}

#: The option of a benchmark that sets its number of interleaved repeats, if not --rounds.
ROUNDS_OPTION = {"core": "--samples", "view": "--repeat"}

CONTENDERS = [
    "smttask",
    "joblib",
    "redun",
    "parsl",
    "pydra",
    "Sumatra",
    "snakemake",
    "Django",
    "numpy",
    "pydantic",
    "scityping",
    "pandas",
]


def git_version() -> str:
    try:
        out = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "not found"
    return out.stdout.strip().removeprefix("git version ")


def snakemake_start() -> float | None:
    """Seconds `snakemake --version` takes: Snakemake's start-up, which every Snakemake figure
    includes on both sides (None if it does not run)."""
    start = time.perf_counter()
    try:
        subprocess.run([bl.bin_path("snakemake"), "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return time.perf_counter() - start


def install_hook() -> float | None:
    """Seconds the start-up hook of an editable install of smttask costs each Python process
    of this environment (its ``.pth`` file imports a finder module, which imports pathlib and
    re); None for a regular install, which has no hook. Median of 5 fresh processes without
    ``site``, which have imported ``os`` (as ``site`` does) before the hook is timed."""
    found = sorted(
        p for d in site.getsitepackages() for p in Path(d).glob("__editable___smttask*finder.py")
    )
    if not found:
        return None
    code = (
        "import os, sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
        "__import__(sys.argv[2]); print(time.perf_counter() - t)"
    )
    cmd = [sys.executable, "-S", "-c", code, str(found[0].parent), found[0].stem]
    times = [
        float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        for _ in range(5)
    ]
    return statistics.median(times)


def header(
    command: str,
    quick: bool,
    loads: list[tuple[float, float, float]],
    seconds: float,
    snakemake_seconds: float | None = None,
    hook_seconds: float | None = None,
    scratch: Scratch | None = None,
    cpu: tuple[float, float] | None = None,
) -> list[str]:
    m = bl.machine()
    cores = m["cores"] or 1
    peak = max(load[0] for load in loads)
    lines = [
        "# smttask benchmarks",
        "",
        f"Written by `{command}` on {bl.now()} in {seconds / 60:.1f} min"
        + (" (quick mode: small sizes, few repeats; a smoke run)." if quick else "."),
        "",
    ]
    other = None if cpu is None else max(cpu[0] - cpu[1], 0.0) / (seconds * cores)
    if other is not None and other > BUSY:
        lines += [
            f"> **The machine was busy**: other work used {other:.0%} of its {cores} cores "
            "during the run (CPU time of the whole machine less that of the benchmarks and "
            "their processes). The figures are indicative: absolute times are inflated and "
            "noisy; ratios between contenders measured in the same interleaved rounds are the "
            "more telling numbers.",
            "",
        ]
    elif other is None and peak > 0.75 * cores:
        lines += [
            f"> **The machine may have been busy**: 1-minute load average up to {peak:.1f} on "
            f"{cores} cores during the run (the benchmarks' own parallel sections count in "
            "it too).",
            "",
        ]
    if snakemake_seconds is not None and snakemake_seconds > 3:
        lines += [
            f"> **Snakemake took {snakemake_seconds:.1f} s to start** (`snakemake --version`): "
            "where SLURM's client commands are installed but no controller answers, its "
            "SLURM plugin waits for `scontrol show config` whenever it is loaded. Every "
            "Snakemake figure below includes that wait, on both sides of each ratio; start "
            "the cluster first (`scripts/services/slurm start`) for figures without it.",
            "",
        ]
    if scratch is not None and max(scratch.creation) > SLOW_CREATION:
        worst = max(scratch.creation)
        lines += [
            f"> **Creating a file was slow here**: {worst * 1e6:.0f} µs per empty file in the "
            f"folder the benchmarks wrote to ({scratch.folder}; a journaled ext4 on the "
            "benchmark machine takes 24–36 µs). Every figure that creates files (results, "
            "links, leases, journals) is inflated by it, smttask's more than a peer's that "
            "writes one file for all its results. An ext4 without a journal, for one, skips "
            "every inode deleted in the last minutes at each creation, so a benchmark run "
            "right after others' clean-up pays for it; give `--scratch` a folder on another "
            "file system.",
            "",
        ]
    lines += [
        "| machine | |",
        "|---|---|",
        f"| CPU | {m['cpu']} |",
        f"| cores | {m['cores']} |",
        f"| RAM | {m['ram_gib']} GiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        "| `snakemake --version` | "
        + (f"{snakemake_seconds:.2f} s" if snakemake_seconds is not None else "did not run")
        + " |",
        "| smttask installed | "
        + (
            "regular (no start-up hook) |"
            if hook_seconds is None
            else f"editable: its start-up hook costs every Python process here "
            f"{hook_seconds * 1e3:.1f} ms, on both sides of each whole-process ratio (a "
            "regular install has none; its `import smttask` then pays for pathlib and re, "
            "which the hook imports first) |"
        ),
        *(
            []
            if scratch is None
            else [
                f"| benchmarks' files | {scratch.folder}: "
                f"{scratch.system or 'file system unknown'} |",
                "| creating an empty file there | "
                + "; ".join(
                    f"{label} {c * 1e6:.0f} µs"
                    for label, c in zip(("start", "end"), scratch.creation)
                )
                + " (mean of 1,000) |",
            ]
        ),
        *(
            []
            if other is None
            else [
                f"| CPU used by other work | {other:.1%} of the machine during the run (what "
                "the whole machine used, less the benchmarks' processes; smttask's detached "
                "record movers count as other work) |"
            ]
        ),
        "| load average (1, 5, 15 min; the benchmarks' own parallel sections count in it) | "
        + "; ".join(
            f"{label} {a:.2f}, {b:.2f}, {c:.2f}"
            for label, (a, b, c) in zip(("start", "peak", "end"), _three(loads))
        )
        + " |",
        "",
        "| contender / component | version |",
        "|---|---|",
        *(f"| {name} | {version} |" for name, version in bl.versions(CONTENDERS).items()),
        f"| git | {git_version()} |",
        "",
        "How to read the tables: every figure is the median of the stated number of "
        "interleaved repeats, with (min–max); a ratio is ours / baseline on medians, so "
        "below 1 means smttask (or RSView) is faster. Each benchmark states its "
        "contenders' settings. Reproduce with the command above; `python "
        "bench/bench_NAME.py --help` runs one benchmark with other sizes.",
        "",
    ]
    return lines


#: Share of the machine's CPU used by other work above which the results file says it was busy.
BUSY = 0.1

#: Seconds per empty file above which the results file warns that creating files is slow.
SLOW_CREATION = 100e-6


@dataclass
class Scratch:
    """The folder the benchmarks write their files to, and what creating one costs there."""

    folder: Path
    system: str
    creation: list[float]  # seconds per new empty file, at the start and at the end


def _three(loads: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    peak = max(loads, key=lambda load: load[0])
    return [loads[0], peak, loads[-1]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    p.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    p.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    p.add_argument("--command", help="the command to state in the file (default: this one)")
    p.add_argument(
        "--rounds",
        type=int,
        help="interleaved repeats for every benchmark (each script's own default otherwise)",
    )
    p.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help="more arguments for one benchmark, e.g. --extra 'compile=--unbatched 300' "
        "(repeatable; see python bench/bench_NAME.py --help)",
    )
    p.add_argument(
        "--scratch",
        type=Path,
        help="folder the benchmarks write their files in (default: the system's temporary "
        "folder); the results file states its file system and what creating a file there costs",
    )
    args = p.parse_args()
    extra: dict[str, list[str]] = {}
    for item in args.extra:
        name, sep, more = item.partition("=")
        if not sep or name not in BENCHMARKS:
            raise SystemExit(f"--extra {item!r}: write NAME=ARGS, NAME one of {list(BENCHMARKS)}")
        extra.setdefault(name, []).extend(shlex.split(more))
    chosen = [n for n in BENCHMARKS if not args.only or n in args.only.split(",")]
    unknown = set(args.only.split(",")) - set(BENCHMARKS) if args.only else set()
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; choose from {list(BENCHMARKS)}")
    command = args.command or " ".join(["python", *sys.argv])
    loads = [bl.load_average()]
    snakemake_seconds = snakemake_start()
    hook_seconds = install_hook()
    cpu_start = bl.cpu_seconds()
    start = time.perf_counter()
    sections: list[str] = []
    failed: list[str] = []
    if args.scratch is not None and not args.scratch.is_dir():
        raise SystemExit(f"--scratch {args.scratch}: no such folder; make it first")
    with tempfile.TemporaryDirectory(prefix="smttask-bench-all-", dir=args.scratch) as tmp:
        scratch = Scratch(Path(tmp).parent, bl.file_system(Path(tmp)), [])
        probes = Path(tmp) / "probes"
        probes.mkdir()
        scratch.creation.append(bl.file_creation(probes))
        env = {**os.environ, "TMPDIR": tmp}  # every benchmark's folders go in here
        for name in chosen:
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, str(HERE / BENCHMARKS[name]), "--json", str(out)]
            if args.quick:
                cmd.append("--quick")
            if args.rounds:
                cmd += [ROUNDS_OPTION.get(name, "--rounds"), str(args.rounds)]
            cmd += extra.get(name, [])
            bl.progress(f"=== {name}: {' '.join(cmd[1:])}")
            t = time.perf_counter()
            done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
            loads.append(bl.load_average())
            if done.returncode != 0 or not out.exists():
                failed.append(name)
                sections.append(
                    f"## {name}: FAILED\n\n`{' '.join(cmd[1:])}` exited with "
                    f"{done.returncode}:\n\n```\n{done.stdout[-3000:]}\n```\n"
                )
                bl.progress(f"=== {name} FAILED (exit {done.returncode})")
                continue
            result: dict[str, Any] = json.loads(out.read_text())
            seconds = time.perf_counter() - t
            again = shlex.join(["python", f"bench/{BENCHMARKS[name]}", *cmd[4:]])
            sections.append(bl.render(result) + f"\n_Took {seconds:.0f} s; alone: `{again}`._\n")
            bl.progress(f"=== {name} done in {seconds:.0f} s")
        scratch.creation.append(bl.file_creation(probes))
    took = time.perf_counter() - start
    cpu_end = bl.cpu_seconds()
    cpu = (
        None
        if cpu_start is None or cpu_end is None
        else (cpu_end[0] - cpu_start[0], cpu_end[1] - cpu_start[1])
    )
    text = "\n".join(
        [
            *header(
                command, args.quick, loads, took, snakemake_seconds, hook_seconds, scratch, cpu
            ),
            *sections,
        ]
    )
    args.out.write_text(text)
    bl.progress(f"wrote {args.out}")
    if failed:
        raise SystemExit(f"benchmark(s) failed: {', '.join(failed)} (see {args.out})")


if __name__ == "__main__":
    main()
