"""The benchmark report (``scripts/bench`` → ``bench/run_all.py``): where the benchmarks wrote,
what creating a file cost there, and whether other work shared the machine.

The figures themselves are timings and are never checked here; what is checked is that the
report states them, that the files go where ``--scratch`` says and are removed, and when it
says the machine was busy.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

BENCH = REPO / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import benchlib  # noqa: E402
import run_all  # noqa: E402


def test_a_quick_run_states_the_scratch_folder_and_removes_its_files(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = tmp_path / "RESULTS.md"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run = subprocess.Popen(
        [
            *(sys.executable, str(BENCH / "run_all.py"), "--quick", "--only", "core"),
            *("--scratch", str(scratch), "--out", str(out)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    # While it runs, the benchmark's own folder appears inside the run's, in the scratch.
    seen: list[Path] = []
    deadline = time.monotonic() + 600
    while run.poll() is None and time.monotonic() < deadline:
        seen = seen or list(scratch.glob("smttask-bench-all-*/smttask-bench-*"))
        time.sleep(0.005)
    output = run.communicate(timeout=60)[0]
    assert run.returncode == 0, output
    assert seen, "the benchmark did not write in the --scratch folder"
    text = out.read_text()
    row = re.search(r"^\| benchmarks' files \| (.+?): (.+) \|$", text, re.M)
    assert row is not None, text[:2000]
    assert row.group(1) == str(scratch)
    kind = subprocess.run(
        ["stat", "-f", "-c", "%T", str(scratch)], capture_output=True, text=True, check=True
    ).stdout.strip()
    system = row.group(2)
    assert system.split()[0] == {"ext2/ext3": "ext4"}.get(kind, kind), (system, kind)
    assert re.search(r"^\| creating an empty file there \| start \d+ µs; end \d+ µs", text, re.M)
    assert re.search(r"^\| CPU used by other work \| \d+\.\d% of the machine", text, re.M)
    assert "## Warm cache hits per call" in text  # the benchmark's own section
    assert list(scratch.iterdir()) == []  # its folders, the probes' files included, are gone


def test_a_missing_scratch_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [
            *(sys.executable, str(BENCH / "run_all.py"), "--only", "core"),
            *("--scratch", str(missing), "--out", str(tmp_path / "R.md")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"--scratch {missing}: no such folder" in done.stderr
    assert not (tmp_path / "R.md").exists()


def _header(cpu: tuple[float, float] | None, seconds: float = 10.0) -> str:
    return "\n".join(run_all.header("cmd", False, [(0.1, 0.1, 0.1)], seconds, cpu=cpu))


def test_busy_is_said_from_the_cpu_time_of_other_work_not_from_the_load() -> None:
    cores = benchlib.machine()["cores"] or 1
    capacity = 10.0 * cores  # CPU seconds in a 10 s run
    ours = 0.5 * capacity
    busy = _header((ours + 0.3 * capacity, ours))
    assert "**The machine was busy**: other work used 30%" in busy
    assert "| CPU used by other work | 30.0% of the machine" in busy
    quiet = _header((ours + 0.05 * capacity, ours))
    assert "busy" not in quiet.split("| machine |")[0]
    assert "| CPU used by other work | 5.0% of the machine" in quiet
    # A high load average of the benchmarks' own making says nothing when the CPU is known.
    loaded = "\n".join(run_all.header("cmd", False, [(9.5, 3.0, 1.0)], 10.0, cpu=(ours, ours)))
    assert "busy" not in loaded.split("| machine |")[0]


@pytest.mark.skipif(not Path("/proc/mounts").exists(), reason="needs /proc/mounts")
def test_file_system_names_the_mount_a_folder_lies_on(tmp_path: Path) -> None:
    text = benchlib.file_system(tmp_path)
    real = os.path.realpath(tmp_path)
    mounts = [line.split()[:3] for line in Path("/proc/mounts").read_text().splitlines()]
    mounts = [[m[0], m[1].replace("\\040", " "), m[2]] for m in mounts]
    point = max(
        (m for m in mounts if real == m[1] or real.startswith(m[1].rstrip("/") + "/")),
        key=lambda m: len(m[1]),
    )
    assert text.startswith(f"{point[2]} ({point[0]} on {point[1]}; ")
    if point[2] == "ext4":
        assert text.endswith((", with a journal", ", **without a journal**"))


def test_slow_file_creation_in_the_scratch_is_warned_of() -> None:
    def said(creation: list[float]) -> str:
        scratch = run_all.Scratch(Path("/scratch"), "ext4 (/dev/vda on /; rw)", creation)
        return "\n".join(run_all.header("cmd", False, [(0.1, 0.1, 0.1)], 10.0, scratch=scratch))

    slow = said([30e-6, 700e-6])
    assert "**Creating a file was slow here**: 700 µs per empty file" in slow
    assert "| creating an empty file there | start 30 µs; end 700 µs (mean of 1,000) |" in slow
    assert "| benchmarks' files | /scratch: ext4 (/dev/vda on /; rw) |" in slow
    assert "slow here" not in said([30e-6, 25e-6])
