"""Shared helpers of the benchmarks: samples, tables, machine facts, result files.

Every benchmark measures each contender the same number of times, interleaved (round 1: A,
B, C; round 2: B, C, A; ...), so that a busy moment of the machine hits all of them alike,
and compares medians. A result is a JSON-compatible dict::

    {"name": ..., "title": ..., "about": [...], "settings": {contender: text},
     "tables": [table, ...], "notes": [...]}

Two kinds of table:
- ``pairs``: one row per case, ours against a named baseline (ratio = ours / baseline);
- ``peers``: one row per case, one column per contender, ratios ours / each peer.
A cell holds samples in seconds (or a count/text); it renders as ``median (min–max)``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

Samples = list[float]
Result = dict[str, Any]


# -- measuring --------------------------------------------------------------------------------


def rotated(items: Sequence[Any], round_index: int) -> list[Any]:
    """`items` rotated by `round_index`: each contender goes first in some round."""
    k = round_index % len(items) if items else 0
    return [*items[k:], *items[:k]]


def wall(cmd: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> float:
    """Seconds one command takes from spawn to exit; fail with its output if it fails."""
    start = time.perf_counter()
    done = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return seconds


def settle(project: Path, timeout: float = 120.0) -> float:
    """Wait until no process is moving records of `project` into its store (the detached
    process a `smttask run` leaves them to: its journal gone from ``.smt/journal``), so
    that it takes no CPU from what is timed next; the seconds waited."""
    folder = project / ".smt" / "journal"
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if not any(n.endswith(".jsonl") for n in os.listdir(folder)):
                break
        except FileNotFoundError:
            break
        time.sleep(0.005)
    else:
        raise SystemExit(f"records of {project} still not in its store after {timeout:.0f} s")
    return time.perf_counter() - start


def run_json(
    cmd: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
) -> tuple[dict[str, Any], float]:
    """Run a command that prints one JSON object on its last line; return it and the wall time."""
    start = time.perf_counter()
    done = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"`{' '.join(cmd)}` failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1]), seconds


def median(samples: Iterable[float]) -> float:
    return statistics.median(list(samples))


# -- tables -----------------------------------------------------------------------------------


def pairs_table(
    title: str,
    rows: Sequence[tuple[str, Any, str | None, Any]],
    *,
    note: str = "",
    ours: str = "smttask",
) -> dict[str, Any]:
    """Rows (case, our samples, baseline label or None, baseline samples or None)."""
    return {
        "kind": "pairs",
        "title": title,
        "ours": ours,
        "note": note,
        "rows": [
            {"case": case, "ours": a, "baseline": label, "base": b} for case, a, label, b in rows
        ],
    }


def peers_table(
    title: str,
    contenders: Sequence[str],
    rows: Sequence[tuple[str, dict[str, Any]]],
    *,
    ours: str,
    note: str = "",
) -> dict[str, Any]:
    """Rows (case, {contender: samples}); ratios of `ours` against every other contender."""
    return {
        "kind": "peers",
        "title": title,
        "ours": ours,
        "contenders": list(contenders),
        "note": note,
        "rows": [{"case": case, "cells": cells} for case, cells in rows],
    }


def fmt_seconds(seconds: float) -> str:
    s = abs(seconds)
    if s >= 100:
        return f"{seconds:.0f} s"
    if s >= 1:
        return f"{seconds:.2f} s"
    if s >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def fmt_cell(cell: Any) -> str:
    """Samples → 'median (min–max)'; a number or text as it is; None → '—'."""
    if cell is None:
        return "—"
    if isinstance(cell, list):
        if not cell:
            return "—"
        if len(cell) == 1:
            return fmt_seconds(cell[0])
        return f"{fmt_seconds(median(cell))} ({fmt_seconds(min(cell))}–{fmt_seconds(max(cell))})"
    if isinstance(cell, float):
        return f"{cell:.4g}"
    return str(cell)


def ratio(ours: Any, base: Any) -> str:
    if not isinstance(ours, list) or not isinstance(base, list) or not ours or not base:
        return "—"
    b = median(base)
    if b == 0:
        return "—"
    value = median(ours) / b
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def repeats(table: dict[str, Any]) -> int:
    counts: set[int] = set()
    for row in table["rows"]:
        cells = [row["ours"], row["base"]] if table["kind"] == "pairs" else row["cells"].values()
        counts.update(len(c) for c in cells if isinstance(c, list))
    return max(counts) if counts else 0


def render_table(table: dict[str, Any]) -> list[str]:
    n = repeats(table)
    head = f"**{table['title']}**" + (f" — median (min–max) of {n} repeats" if n > 1 else "")
    lines = [head, ""]
    ours = table["ours"]
    if table["kind"] == "pairs":
        lines.append(f"| case | {ours} | baseline | baseline value | {ours} / baseline |")
        lines.append("|---|---:|---|---:|---:|")
        for row in table["rows"]:
            lines.append(
                f"| {row['case']} | {fmt_cell(row['ours'])} | {row['baseline'] or '—'} | "
                f"{fmt_cell(row['base'])} | {ratio(row['ours'], row['base'])} |"
            )
    else:
        peers = [c for c in table["contenders"] if c != ours]
        cols = [ours, *peers]
        header = " | ".join(cols) + " | " + " | ".join(f"{ours} / {p}" for p in peers)
        lines.append(f"| case | {header} |")
        lines.append("|---|" + "---:|" * (len(cols) + len(peers)))
        for row in table["rows"]:
            cells = row["cells"]
            values = [fmt_cell(cells.get(c)) for c in cols]
            ratios = [ratio(cells.get(ours), cells.get(p)) for p in peers]
            lines.append(f"| {row['case']} | " + " | ".join(values + ratios) + " |")
    if table.get("note"):
        lines += ["", table["note"]]
    return [*lines, ""]


def render(result: Result, *, level: int = 2) -> str:
    out = [f"{'#' * level} {result['title']}", ""]
    for para in result.get("about", []):
        out += [para, ""]
    if result.get("settings"):
        out.append("Settings:")
        out += [f"- **{name}**: {text}" for name, text in result["settings"].items()]
        out.append("")
    for table in result["tables"]:
        out += render_table(table)
    for note in result.get("notes", []):
        out += [f"- {note}"]
    if result.get("notes"):
        out.append("")
    return "\n".join(out)


# -- context ----------------------------------------------------------------------------------


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def cpu_seconds() -> tuple[float, float] | None:
    """(CPU seconds the whole machine has been busy, CPU seconds of this process, its
    waited-for child processes and theirs) so far; None where ``/proc/stat`` is missing. The
    difference of two readings, less ours, is what other work used meanwhile."""
    import resource

    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    ticks = [int(v) for v in first[1:]]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # all but idle and iowait (guests are in user)
    ours = sum(
        u.ru_utime + u.ru_stime
        for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    return busy / os.sysconf("SC_CLK_TCK"), ours


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, OS and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024**2
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(ram, 1),
        "cpu": cpu,
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }


def file_system(folder: Path) -> str:
    """The file system `folder` lies on: its type, device and mount options (from
    ``/proc/mounts``), and for ext4 whether it has a journal ('' where this is unknown)."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return ""
    real = os.path.realpath(folder)
    best: list[str] | None = None
    for fields in mounts:
        if len(fields) < 4:
            continue
        fields[1] = fields[1].replace("\\040", " ")  # (a space in a mount point)
        point = fields[1]
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[1])):
            best = fields
    if best is None:
        return ""
    device, point, kind, options = best[:4]
    text = f"{kind} ({device} on {point}; {options})"
    if kind == "ext4":
        try:
            journals = os.listdir("/proc/fs/jbd2")
        except OSError:
            return text
        name = os.path.basename(os.path.realpath(device))
        has = any(j.rpartition("-")[0] == name for j in journals)
        text += ", with a journal" if has else ", **without a journal**"
    return text


def file_creation(folder: Path, n: int = 1000) -> float:
    """Seconds one new empty file takes to create in a new subfolder of `folder` (the mean of
    `n`). The files stay (deleting them would slow the next creations on an ext4 without a
    journal, which skips recently deleted inodes); the caller removes `folder` at the end."""
    sub = Path(tempfile.mkdtemp(prefix="file-creation-", dir=folder))
    start = time.perf_counter()
    for i in range(n):
        os.close(os.open(sub / f"f{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    return (time.perf_counter() - start) / n


def versions(names: Iterable[str]) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- command line -----------------------------------------------------------------------------


def parser(doc: str | None) -> argparse.ArgumentParser:
    text = (doc or "").strip()
    p = argparse.ArgumentParser(
        description=text.split("\n\n")[0],
        epilog="\n\n".join(text.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats (smoke run)")
    p.add_argument("--json", type=Path, help="also write the result to this JSON file")
    return p


def emit(result: Result, json_path: Path | None) -> None:
    """Print the result as Markdown; write it as JSON too if asked."""
    print(render(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=1))


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def bin_path(name: str) -> str:
    return str(Path(sys.executable).parent / name)


GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}


def base_env(**extra: str) -> dict[str, str]:
    """The environment of benchmark processes: this venv first on PATH, git identity set,
    bytecode written and read as in a user's installation (an inherited
    PYTHONDONTWRITEBYTECODE would make every process compile smttask from its source)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **GIT_ENV, "PATH": path, **extra}


#: `smttask` run from whichever smttask is first on PYTHONPATH (see `revision`).
_CLI = "import sys; from smttask.cli import main; sys.argv[0] = 'smttask'; sys.exit(main())"


@contextlib.contextmanager
def revision(
    rev: str | None, folder: Path, name: str = "smttask-at-revision"
) -> Iterator[Path | None]:
    """smttask's code at git revision `rev` (of this repository), checked out into the
    worktree `folder`/`name` for the block and imported from there when its path comes first
    on PYTHONPATH (``revision_env``); None if no revision is asked for."""
    if rev is None:
        yield None
        return
    repo = Path(__file__).resolve().parent.parent
    tree = folder / name
    add = ["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(tree), rev]
    subprocess.run(add, check=True)
    # the package `smttask.templates` is the top-level templates/ folder (pyproject maps it)
    (tree / "smttask" / "templates").symlink_to(tree / "templates")
    try:
        yield tree
    finally:
        remove = ["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)]
        subprocess.run(remove, check=False)


def revision_env(env: dict[str, str], tree: Path | None) -> dict[str, str]:
    """`env` with smttask imported from `tree` (a `revision`) if given."""
    if tree is None:
        return env
    path = env.get("PYTHONPATH")
    return {**env, "PYTHONPATH": f"{tree}{os.pathsep}{path}" if path else str(tree)}


def smttask_command(tree: Path | None) -> list[str]:
    """The `smttask` command: the installed one, or that of a `revision` (with its env)."""
    return [bin_path("smttask")] if tree is None else [sys.executable, "-c", _CLI]


def git_project(folder: Path, files: dict[str, str], *, smt: bool = True) -> Path:
    """A folder with `files`, committed in a new git repository; `smttask project init` in it."""
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    env = base_env()
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-q", "-m", "b"]):
        subprocess.run(cmd, cwd=folder, env=env, check=True, capture_output=True)
    if smt:
        wall([bin_path("smttask"), "project", "init", "--yes"], cwd=folder, env=env)
    return folder


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start
