"""In-session runs: one log line per task, progress on a terminal or in Jupyter, and labels."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
from collections.abc import Iterator

import numpy as np
import pytest

from smttask import config, hooks
from smttask.labels import label_of, task_labels
from smttask.progress import Bar, TerminalProgress, TextLineProgress, display, in_jupyter
from smttask.session import open_session

TASKS = """
from smttask import MemoizedTask, RecordedTask

@MemoizedTask
def grid(n: int) -> list:
    return list(range(n))

@RecordedTask
def simulate(points: list, tau: float, seed: int, dt: float = 0.1) -> float:
    return sum(points) * tau + seed

@RecordedTask
def summary(values: list) -> float:
    return sum(values)
"""

WORKFLOW = """
from smttask import workflow_args
from sweep_tasks import grid, simulate

TAUS = [0.5, 1.0]
workflow_args(globals())

sims = [simulate(points=grid(n=3), tau=t, seed=1) for t in TAUS]
results = [s.run() for s in sims]
"""


@pytest.fixture
def mod(project):  # type: ignore[no-untyped-def]
    return project.write_module("sweep_tasks", TASKS)


def sweep(mod):  # type: ignore[no-untyped-def]
    sims = [mod.simulate(points=mod.grid(n=3), tau=t, seed=s) for t in (0.5, 1.0) for s in (1, 2)]
    return mod.summary(values=sims), sims


@pytest.fixture
def shown() -> Iterator[list[io.StringIO]]:
    """Progress displays as in Jupyter (one line of text), writing into buffers."""
    buffers: list[io.StringIO] = []

    def factory(title: str) -> hooks.Progress:
        buffers.append(io.StringIO())
        return TextLineProgress(title, buffers[-1])

    before = hooks._progress_factory
    hooks.set_progress_factory(factory)
    try:
        yield buffers
    finally:
        hooks.set_progress_factory(before)


def test_one_info_line_per_task_says_how_its_result_came(mod, caplog) -> None:  # type: ignore[no-untyped-def]
    top, _sims = sweep(mod)
    with caplog.at_level(logging.INFO, logger="smttask"):
        assert top.run() == pytest.approx(sum(3 * t + s for t in (0.5, 1.0) for s in (1, 2)))
    lines = [r.getMessage() for r in caplog.records if r.name == "smttask"]
    assert lines[0].startswith("computed grid in ")
    assert [line.rsplit(" in ", 1)[0] for line in lines[1:]] == [
        "computed simulate(tau=0.5, seed=1)",
        "from memory grid",
        "computed simulate(tau=0.5, seed=2)",
        "from memory grid",
        "computed simulate(tau=1.0, seed=1)",
        "from memory grid",
        "computed simulate(tau=1.0, seed=2)",
        "computed summary",
    ]
    assert all(line.endswith(" s") for line in lines)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="smttask"):
        top2, _ = sweep(mod)
        top2.run()
    assert [r.getMessage().rsplit(" in ", 1)[0] for r in caplog.records] == [
        "loaded from disk summary"
    ]


def test_progress_shows_a_line_per_run_and_a_summary(mod, shown) -> None:  # type: ignore[no-untyped-def]
    top, _ = sweep(mod)
    top.run()
    (buffer,) = shown
    text = buffer.getvalue()
    assert "\rsummary: 2/6 tasks · simulate(tau=0.5, seed=1)" in text
    assert "\rsummary: 6/6 tasks · summary" in text
    assert "\rsummary: 6 tasks: 6 computed (" in text
    assert text.endswith("\n") and text.count("\n") == 1  # one line, rewritten in place
    # A single task shows nothing, nor does a run that only loads its outermost task, a run
    # with progress=False or with the setting off.
    mod.simulate(points=[1], tau=9.0, seed=0).run()
    assert shown[-1].getvalue() == ""
    sweep(mod)[0].run()
    assert len(shown) == 3 and shown[-1].getvalue() == ""
    shown_before = len(shown)
    sweep(mod)[0].run(recompute=True, progress=False)
    settings = dataclasses.replace(config.settings, progress=False)
    with hooks.using(open_session(settings=settings)):
        sweep(mod)[0].run(recompute=True)
    assert all(b.getvalue() == "" for b in shown[shown_before - 1 :])


def test_run_workflow_shows_one_progress_for_the_tasks_it_runs(project, mod, shown) -> None:  # type: ignore[no-untyped-def]
    from smttask import run_workflow

    project.write("wf.py", WORKFLOW)
    wf = run_workflow("wf.py", TAUS=[0.5, 1.0, 2.0])
    assert wf.results == [3 * t + 1 for t in (0.5, 1.0, 2.0)]
    (buffer,) = shown
    text = buffer.getvalue()
    assert text.startswith("\rrun_workflow(wf): ")
    assert "4 tasks: 4 computed" in text  # grid once, then three simulations


def test_nothing_is_shown_where_the_output_is_not_interactive() -> None:
    assert not in_jupyter()
    assert display("x") is None  # pytest captures stderr: not a terminal


def test_the_terminal_bar_is_the_one_smttask_run_shows() -> None:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with Bar("smttask run", 2, console) as bar:
        bar.print("ran a.json")
        bar.advance("a.json")
    assert "ran a.json" in out.getvalue() and "smttask run" in out.getvalue()
    progress = TerminalProgress("sweep")
    progress.update(1, 1, "only one")  # a single task: no bar
    assert progress._bar is None


def test_labels_show_what_differs_between_tasks_of_one_type(mod) -> None:  # type: ignore[no-untyped-def]
    top, sims = sweep(mod)
    other = mod.simulate(points=[1, 2], tau=0.5, seed=1, dt=0.2)
    labels = task_labels([*sims, other, top])
    assert [labels[s.key] for s in sims] == [  # grid(n=3) is not among them: shown by name
        "simulate(points=grid, tau=0.5, seed=1, dt=0.1)",
        "simulate(points=grid, tau=0.5, seed=2, dt=0.1)",
        "simulate(points=grid, tau=1.0, seed=1, dt=0.1)",
        "simulate(points=grid, tau=1.0, seed=2, dt=0.1)",
    ]
    assert task_labels(sims)[sims[1].key] == "simulate(tau=0.5, seed=2)"
    assert labels[other.key] == "simulate(points=[1, 2], tau=0.5, seed=1, dt=0.2)"
    assert labels[top.key] == "summary"  # alone of its type
    assert label_of(top).startswith("summary(values=[simulate, simulate")
    # Values that look alike once cut short get the start of their digest.
    a = mod.summary(values=[float(x) for x in np.arange(40.0)])
    b = mod.summary(values=[*(float(x) for x in np.arange(39.0)), 40.0])
    la, lb = (task_labels([a, b])[t.key] for t in (a, b))
    assert la != lb and la.endswith(f"#{a.key[:8]}") and lb.endswith(f"#{b.key[:8]}")


LABELLED = """
from smttask import RecordedTask

@RecordedTask(label="sim tau={tau:.2f}")
def sim(tau: float, seed: int) -> float:
    return tau + seed

@RecordedTask(label=lambda values, tau: f"fit of {values} at {tau}")
def fit(values: float, tau: float) -> float:
    return values * tau
"""


def test_a_label_option_names_the_tasks_of_its_type(project) -> None:  # type: ignore[no-untyped-def]
    from smttask.errors import TaskDefinitionError

    mod = project.write_module("labelled", LABELLED)
    a, b = mod.sim(tau=0.5, seed=1), mod.sim(tau=0.5, seed=2)
    c = mod.fit(values=a, tau=2.0)
    labels = task_labels([a, b, c])
    # Equal labels get the start of their digest; an upstream task is shown by its label.
    assert labels[a.key] == f"sim tau=0.50#{a.key[:8]}"
    assert labels[b.key] == f"sim tau=0.50#{b.key[:8]}"
    assert labels[c.key] == f"fit of sim tau=0.50#{a.key[:8]} at 2.0"
    assert task_labels([c])[c.key] == "fit of sim at 2.0"  # `a` unlabelled: its name
    assert a.digest != b.digest and mod.sim(tau=0.5, seed=1).digest == a.digest  # not identity
    with pytest.raises(TaskDefinitionError, match=r"names \['sed'\], which are not inputs"):
        project.write_module("badlabel", LABELLED.replace("tau={tau:.2f}", "{sed}"))
    with pytest.raises(TaskDefinitionError, match="label must be a format string"):
        project.write_module("badlabel2", LABELLED.replace('label="sim tau={tau:.2f}"', "label=3"))


def test_a_label_option_names_the_exported_rules(project) -> None:  # type: ignore[no-untyped-def]
    import smttask

    mod = project.write_module("labelled", LABELLED)
    fit = mod.fit(values=mod.sim(tau=0.25, seed=1), tau=2.0)
    smttask.export_snakemake([fit], "build")
    snakefile = (project.root / "build" / "Snakefile").read_text()
    assert re.search(r"^rule sim_tau_0_25_[0-9a-f]+:", snakefile, re.M), snakefile
    assert re.search(r"^rule fit_of_sim_tau_0_25_at_2_0_[0-9a-f]+:", snakefile, re.M), snakefile
