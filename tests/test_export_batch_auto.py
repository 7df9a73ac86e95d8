"""`--batch auto[=MINUTES]`: batch sizes from the median duration of each task's finished
records, read from the project's record store; the summary and the README say where each
size came from."""

from __future__ import annotations

import math
import re
import statistics
import sys

import pytest
from click.testing import CliRunner

import smttask
from smttask.cli import cli
from smttask.compile.plan import MAX_AUTO_SIZE
from smttask.errors import TaskExecutionError
from smttask.recording.api import Where
from smttask.recording.store import open_store

TASKS = """
import time
from smttask import RecordedTask

@RecordedTask
def nap(x: int, seconds: float, fail: bool = False) -> int:
    time.sleep(seconds)
    if fail:
        raise RuntimeError("asked to fail")
    return x

@RecordedTask
def tiny(x: int) -> int:
    return x

@RecordedTask(resources={"runtime": "2m"})
def declared(x: int) -> int:
    return x
"""

PIPELINE = """
from auto_tasks import declared, nap, tiny

tasks = [nap(x=i, seconds=0.05) for i in range(10, 40)]
tasks += [tiny(x=i) for i in range(20)] + [declared(x=i) for i in range(12)]
"""


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_sizes_come_from_the_finished_records(smt_project):
    mod = smt_project.write_module("auto_tasks", TASKS)
    smt_project.write("pipeline.py", PIPELINE)
    smt_project.commit("pipeline.py")
    sys.modules.pop("pipeline", None)
    for i in range(2):
        mod.nap(x=i, seconds=0.05).run()
    for i in range(3):  # crashed runs take longer; their durations must not count
        with pytest.raises(TaskExecutionError, match="asked to fail"):
            mod.nap(x=100 + i, seconds=0.4, fail=True).run()
    mod.tiny(x=-1).run()
    rows = open_store().query([Where("script_arguments", "eq", "auto_tasks.nap")])
    finished = [r.duration for r in rows if "_finished_" in r.tags]
    assert len(finished) == 2
    median = statistics.median(finished)
    minutes = 0.05
    result = invoke("export-snakemake", "pipeline.py:tasks", "-o", "build", "--batch", "auto=0.05")
    assert result.exit_code == 0, result.output
    nap_size = max(1, math.floor(minutes * 60 / median))
    assert f"Batches: nap: {nap_size} per process, ~" in result.output
    assert "(median " in result.output and "s of 2 finished records; aiming at 0.05 min)" in (
        result.output
    )
    tiny = re.search(r"Batches: tiny: (\d+) per process, .* of 1 finished record;", result.output)
    assert tiny and 20 <= int(tiny.group(1)) <= MAX_AUTO_SIZE  # well under 3 s / 20 tasks
    # no record of `declared`: its runtime (2 minutes) is longer than 3 s, one per job
    assert (
        "Batches: declared: 1 per process, ~2.0 min each (no finished record; declared runtime "
        in (result.output)
    )
    readme = (smt_project.root / "build/README.md").read_text()
    assert f"- `nap`: {nap_size} per process, ~" in readme
    assert "| `tiny` | 20 | 1 | 20 |" in readme
    assert "| `declared` | 12 | 12 | 1 | 1 | default | 2m | 0 |" in readme
    snakefile = (smt_project.root / "build/Snakefile").read_text()
    assert snakefile.count("rule nap_batch") == math.ceil(30 / nap_size)
    assert "rule declared_batch" not in snakefile


def test_without_records_every_task_runs_alone_and_the_summary_says_why(project):
    project.write_module("auto_tasks", TASKS)
    tasks = [sys.modules["auto_tasks"].tiny(x=i) for i in range(4)]
    result = smttask.export_snakemake(tasks, project.root / "build", batch="auto")
    assert result.batches == 0 and result.rules == 4
    text = result.summary()
    assert "Batches: tiny: 1 per process (no finished record and no declared runtime" in text
    assert "Note: batch sizes without records: no Sumatra project in" in text
    given = smttask.export_snakemake(tasks, project.root / "given", batch=2)
    assert "Batches:" not in given.summary()  # a size asked for needs no explanation


def test_the_batch_option_reads_auto():
    import click

    from smttask.cli.export import _parse_batch

    assert _parse_batch(("auto",)) == {"*": "auto"}
    assert _parse_batch(("auto=5",)) == {"*": ("auto", 5.0)}
    assert _parse_batch(("simulate=auto", "analyze=3")) == {"simulate": "auto", "analyze": 3}
    assert _parse_batch(("simulate=auto", "auto=2.5")) == {
        "simulate": ("auto", 2.5),
        "*": ("auto", 2.5),
    }
    for bad in ("auto=0", "auto=soon", "simulate=later", "=3"):
        with pytest.raises(click.BadParameter):
            _parse_batch((bad,))
