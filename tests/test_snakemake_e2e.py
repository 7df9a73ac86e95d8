"""Exported workflows run by a real Snakemake (`--cores 2`), the way a user runs them.

Every task function appends a line to ``runs.txt`` when it really executes, so the tests can
tell "ran once" from "loaded from disk".
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

TASKS = """
import os
import time
from pathlib import Path
from typing import List

import numpy as np
from scityping.numpy import Array
from smttask import MemoizedTask, RecordedTask


def log(line: str) -> None:
    with open("runs.txt", "a") as f:
        f.write(line + "\\n")


@RecordedTask(resources={"mem_mb": 200}, retries=1)
def simulate(seed: int, n: int) -> Array[float, 1]:
    log(f"simulate {seed}")
    return np.random.default_rng(seed).normal(size=n)


@MemoizedTask
def factor(k: float) -> float:
    log(f"factor {k}")
    return 2 * k


@RecordedTask
def analyze(data: Array[float, 1], scale: float) -> float:
    log(f"analyze {scale}")
    return float(np.abs(data).mean() * scale)


@RecordedTask(threads=2)
def summary(values: List[float]) -> float:
    log("summary")
    return float(sum(values))


@RecordedTask
def fragile(x: float) -> float:
    log(f"fragile {x}")
    if x < 0:
        raise ValueError(f"negative input {x}")
    return x


@RecordedTask
def slow(x: float) -> float:
    log(f"slow started {x}")
    Path("slow.started").touch()
    for _ in range(600):
        if Path("slow.release").exists():
            break
        time.sleep(0.1)
    log(f"slow finished {x}")
    return x
"""

PIPELINE = """
from e2e_tasks import analyze, factor, simulate, summary

runs = [simulate(seed=s, n=100) for s in (1, 2, 3)]
fits = [analyze(data=r, scale=factor(k=1.5)) for r in runs]
result = summary(values=fits)
tasks = [result]
"""


def env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def run(*cmd: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}:\n{result.stdout}\n{result.stderr}"
    return result


def recording_available() -> bool:
    """Whether `smttask project init` and recording exist (each job then adds a record)."""
    return importlib.util.find_spec("smttask.cli.project") is not None


def init_project(root: Path) -> None:
    if recording_available():
        ok(run(BIN / "smttask", "project", "init", "--yes", cwd=root))


def runs(root: Path) -> list[str]:
    path = root / "runs.txt"
    return sorted(path.read_text().splitlines()) if path.exists() else []


def export(root: Path, *options: str, target: str = "pipeline.py:tasks") -> str:
    return ok(
        run(BIN / "smttask", "export-snakemake", target, "-o", "build", *options, cwd=root)
    ).stdout


def snakemake(
    root: Path, *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return run(BIN / "snakemake", *args, cwd=cwd or root, timeout=timeout)


def records(root: Path) -> list[str]:
    """Labels of the project's Sumatra records, read through Sumatra's own API.

    In a fresh process: Sumatra's Django store can be configured once per process only.
    """
    code = (
        "import sys; from sumatra.projects import load_project; "
        "p = load_project(sys.argv[1]); "
        "print('\\n'.join(r.label for r in p.record_store.list(p.name)))"
    )
    out = ok(run(sys.executable, "-c", code, str(root), cwd=root)).stdout
    return out.split()


def make_project(project, pipeline: str = PIPELINE):  # type: ignore[no-untyped-def]
    project.write(".gitignore", "data/\n__pycache__/\nbuild/\n.snakemake/\nruns.txt\nslow.*\n")
    project.commit(".gitignore")
    project.write_module("e2e_tasks", TASKS)
    project.write("pipeline.py", pipeline)
    project.commit("pipeline.py")
    sys.modules.pop("pipeline", None)
    init_project(project.root)
    return project.root


EXPECTED_RUNS = sorted(
    [
        "simulate 1",
        "simulate 2",
        "simulate 3",
        "factor 1.5",
        "factor 1.5",
        "factor 1.5",
        "analyze 3.0",
        "analyze 3.0",
        "analyze 3.0",
        "summary",
    ]
)


def check_result(root: Path) -> None:
    sys.modules.pop("pipeline", None)
    sys.path.insert(0, str(root))
    try:
        import pipeline

        value = pipeline.result.run()  # loads: every output is on disk
        assert not pipeline.result.computed
        assert value == pytest.approx(sum(f.run() for f in pipeline.fits))
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("pipeline", None)


@pytest.mark.slow
def test_every_task_runs_once_then_nothing_to_do(project):
    root = make_project(project)
    assert "Exported 7 jobs (8 tasks, named layout, 7 rules)" in export(root)
    first = ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2"))
    assert "8 of 8 steps (100%) done" in first.stderr  # 7 jobs + `all`
    # factor is memoized: it runs inside each analyze job, never as a job of its own
    assert runs(root) == EXPECTED_RUNS
    check_result(root)
    second = ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2"))
    assert "Nothing to be done" in second.stderr
    # from inside the output folder, and after a re-export that changes nothing
    assert "0 written" in export(root)
    inside = ok(snakemake(root, "--cores", "2", cwd=root / "build"))
    assert "Nothing to be done" in inside.stderr
    assert runs(root) == EXPECTED_RUNS


@pytest.mark.slow
def test_wildcard_layout_with_batches_from_inside_the_folder(project):
    root = make_project(project)
    out = export(root, "--layout", "wildcard", "--batch", "analyze=2")
    assert "Exported 7 jobs (8 tasks, wildcard layout, 4 rules)" in out
    ok(snakemake(root, "--cores", "2", cwd=root / "build"))
    # the memoized factor runs once per process: once in each of the two analyze batches
    twice = list(EXPECTED_RUNS)
    twice.remove("factor 1.5")
    assert runs(root) == twice
    assert len(list((root / "build/logs/analyze").glob("analyze_batch*.log"))) == 2
    check_result(root)
    again = ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2"))
    assert "Nothing to be done" in again.stderr


FAILING = """
from e2e_tasks import fragile, summary

bad = fragile(x=-1.0)
tasks = [summary(values=[bad]), fragile(x=2.0)]
"""


def failure_report(root: Path, result: subprocess.CompletedProcess[str], missing: list[str]) -> str:
    """Snakemake's output, every job's log, the job server's log and the files under data/."""
    parts = [f"missing: {missing}", "snakemake stderr:", result.stderr]
    logs = sorted((root / "build/logs").rglob("*.log"))
    logs += sorted((root / ".snakemake/log").glob("smttask-job-server.log"))
    for log in logs:
        parts += [f"--- {log.relative_to(root)}", log.read_text(errors="replace")]
    files = sorted(str(f.relative_to(root)) for f in (root / "data").rglob("*") if f.is_file())
    parts += ["files under data/:", *files]
    return "\n".join(parts)


@pytest.mark.slow
def test_a_failure_points_at_the_jobs_log(project):
    root = make_project(project, FAILING)
    export(root)
    result = snakemake(root, "-s", "build/Snakefile", "--cores", "2", "--keep-going")
    assert result.returncode != 0
    sys.path.insert(0, str(root))
    try:
        import pipeline

        bad_key = pipeline.bad.key
        good = pipeline.tasks[1]
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("pipeline", None)
    # The log is named after the job's rule: its label's words and the start of its digest.
    found = re.search(rf"build/logs/fragile/fragile\w*_{bad_key[:8]}\.log", result.stderr)
    assert found is not None, result.stderr
    log = found.group(0)
    text = (root / log).read_text()
    assert "negative input -1.0" in text and "FAILED" in text
    # the independent job went on; if not, show what each job and the job server said
    missing = [str(p) for p in good.output_paths.values() if not (root / p).exists()]
    assert not missing, failure_report(root, result, missing)
    assert not (root / "data/run_dump/summary").exists()


@pytest.mark.slow
def test_killed_run_is_resumed_with_rerun_incomplete(project):
    pipeline = "from e2e_tasks import slow, summary\n\ntasks = [summary(values=[slow(x=1.0)])]\n"
    root = make_project(project, pipeline)
    export(root)
    proc = subprocess.Popen(
        [str(BIN / "snakemake"), "-s", "build/Snakefile", "--cores", "2"],
        cwd=root,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (root / "slow.started").exists():
            assert proc.poll() is None, "snakemake ended before the slow task started"
            assert time.monotonic() < deadline, "the slow task never started"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its job, as a crash would
        proc.wait()
    assert not (root / "data/run_dump/slow").exists() or not any(
        (root / "data/run_dump/slow").iterdir()
    )
    ok(snakemake(root, "-s", "build/Snakefile", "--unlock"))
    (root / "slow.release").touch()
    resumed = ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2", "--rerun-incomplete"))
    assert "3 of 3 steps (100%) done" in resumed.stderr
    assert runs(root) == ["slow finished 1.0", "slow started 1.0", "slow started 1.0", "summary"]
    assert "Nothing to be done" in ok(snakemake(root, "-s", "build/Snakefile", "-c2")).stderr


@pytest.mark.slow
def test_one_sumatra_record_per_job(project):
    if not recording_available():
        pytest.skip(
            "recording is not there yet: `smttask project init` (smttask.cli.project) "
            "is missing, so jobs create no Sumatra record"
        )
    root = make_project(project)
    export(root, "--batch", "simulate=2")
    ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2"))
    labels = records(root)
    assert len(labels) == 7  # one per recorded task, batched or not
    for name, count in (("simulate", 3), ("analyze", 3), ("summary", 1)):
        assert sum(f"_{name}_" in label for label in labels) == count, labels
    ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2"))
    assert len(records(root)) == 7  # nothing ran the second time


@pytest.mark.slow
def test_readme_commands_work(project):
    root = make_project(project)
    export(root)
    readme = (root / "build/README.md").read_text()
    commands = re.findall(r"^(snakemake .*?)\s+#", readme, re.MULTILINE)
    assert len(commands) == 4
    dry = commands[3].split()
    assert ok(snakemake(root, *dry[1:])).returncode == 0
    local = commands[1].split()
    ok(snakemake(root, *local[1:]))
    assert runs(root) == EXPECTED_RUNS


TWO_KINDS = """
from smttask import RecordedTask, TaskOutput


class Pair(TaskOutput):
    low: float
    high: float


@RecordedTask
def summary(values: list) -> Pair:
    return min(values), max(values)
"""


@pytest.mark.slow
def test_same_task_name_from_two_modules_with_wildcard_rules(project):
    root = make_project(project, "from e2e_tasks import summary\n")
    project.write_module("e2e_other", TWO_KINDS)
    project.write(
        "pipeline.py",
        "import e2e_other, e2e_tasks\n\n"
        "tasks = [e2e_tasks.summary(values=[1.0, 2.0]), e2e_other.summary(values=[1.0, 2.0])]\n",
    )
    project.commit("pipeline.py")
    assert "wildcard layout, 2 rules" in export(root, "--layout", "wildcard")
    ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2"))
    names = sorted(p.name for p in (root / "data/run_dump/summary").iterdir())
    assert len(names) == 3 and sum(n.endswith(("_low.json", "_high.json")) for n in names) == 2
