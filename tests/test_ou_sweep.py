"""The example pipeline: its sweep is a parameter collection, and it runs as a workflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from smttask import expand, run_workflow

REPO = Path(__file__).resolve().parent.parent


def test_the_sweep_makes_the_tasks_explicit_loops_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    from workflows.ou_sweep import pipeline
    from workflows.ou_sweep.tasks import OUParams, simulate

    expected = [
        simulate(times=pipeline.grid, tau=tau, sigma=sigma, seed=seed)
        for tau in (0.5, 1.0, 2.0)
        for sigma in (0.5, 1.0)
        for seed in (1, 2)
    ]
    assert pipeline.runs == expected  # same tasks, same digests: results on disk stay valid
    assert pipeline.summary.inputs["params"] == [
        (t.inputs["tau"], t.inputs["sigma"]) for t in expected
    ]
    assert isinstance(pipeline.SWEEP, OUParams) and len(pipeline.points) == 12


def test_the_pipeline_runs_with_another_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    from workflows.ou_sweep import pipeline
    from workflows.ou_sweep.tasks import OUParams

    small = OUParams(tau=expand([4.0]), sigma=0.5, seed=expand([1, 2, 3]))
    run = run_workflow(REPO / "workflows/ou_sweep/pipeline.py", SWEEP=small, DT=0.02)
    assert [t.inputs["seed"] for t in run.runs] == [1, 2, 3]
    assert all(f.inputs["dt"] == 0.02 for f in run.fits)
    assert run.grid.inputs == {"duration": 200.0, "dt": 0.02}
    assert len(pipeline.runs) == 12 and pipeline.DT == 0.01  # the imported module is unchanged
