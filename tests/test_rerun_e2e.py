"""Only a missing output makes a job of an exported workflow run: not another export folder,
layout or batch size (Snakemake's rerun triggers other than mtime are off), and deleting one
result reruns exactly that job.
"""

from __future__ import annotations

import sys

import pytest
from test_snakemake_e2e import BIN, EXPECTED_RUNS, export, make_project, ok, run, runs, snakemake

pytestmark = pytest.mark.slow

MTIME = ("--rerun-triggers", "mtime")


def test_another_export_of_the_same_tasks_has_nothing_to_do(project):
    root = make_project(project)
    export(root)
    ok(snakemake(root, "-s", "build/Snakefile", "--cores", "2", *MTIME))
    assert runs(root) == EXPECTED_RUNS
    for folder, options in (
        ("other", ()),
        ("wide", ("--layout", "wildcard")),
        ("batched", ("--batch", "2")),
    ):
        exporting = (BIN / "smttask", "export-snakemake", "pipeline.py:tasks", "-o", folder)
        out = ok(run(*exporting, *options, cwd=root)).stdout
        assert f"to {folder}" in out
        # Snakemake's default triggers would rerun them: the set of input files changed
        dry = ok(snakemake(root, "-s", f"{folder}/Snakefile", "-n"))
        assert "Set of input files has changed since last execution" in dry.stdout + dry.stderr
        for how in ((*MTIME, "--cores", "2"), ("--profile", f"{folder}/profiles/local")):
            again = ok(snakemake(root, "-s", f"{folder}/Snakefile", *how))
            assert "Nothing to be done" in again.stderr, (folder, how, again.stderr)
    assert runs(root) == EXPECTED_RUNS


def test_a_deleted_result_reruns_that_job_only(project):
    root = make_project(project)
    export(root, "--layout", "wildcard")
    local = ("-s", "build/Snakefile", "--profile", "build/profiles/local")
    ok(snakemake(root, *local))
    sys.path.insert(0, str(root))
    try:
        import pipeline

        summary, first = pipeline.result, pipeline.runs[0]  # summary, simulate(seed=1)
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("pipeline", None)
    archive = {
        t: root / "data/run_dump" / t.name / p.name
        for t in (summary, first)
        for p in t.output_paths.values()
    }
    archive[summary].unlink()  # the workflow's target
    again = ok(snakemake(root, *local))
    assert "2 of 2 steps (100%) done" in again.stderr, again.stderr  # the job, and `all`
    assert runs(root) == sorted([*EXPECTED_RUNS, "summary"])
    # an intermediate result: the results that need it exist, so only asking for it reruns it
    archive[first].unlink()
    assert "Nothing to be done" in ok(snakemake(root, *local)).stderr
    wanted = str(archive[first].relative_to(root))
    asked = ok(snakemake(root, *local, wanted))
    assert "1 of 1 steps (100%) done" in asked.stderr, asked.stderr
    assert runs(root) == sorted([*EXPECTED_RUNS, "summary", "simulate 1"])
    assert all(path.exists() for path in archive.values())
    assert "Nothing to be done" in ok(snakemake(root, *local)).stderr
