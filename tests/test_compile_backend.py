"""Workflow backends: the registry, and a second backend that is one module and one call.

The second backend (``shellflow``, below) writes a shell script running the plan's
processes one after another, and a JSON list of them: it shows that a backend needs nothing
but the plan, and that the plan's batches reach it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import smttask
from smttask.compile.backend import (
    Description,
    backends,
    get_backend,
    register_backend,
    unregister_backend,
)
from smttask.compile.snakemake import SnakemakeBackend
from smttask.errors import CompileError
from smttask.export import ExportResult, export

BIN = Path(sys.executable).parent

SHELLFLOW = '''
"""A workflow backend in one module: a shell script running the plan's processes in order."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from smttask.compile.backend import Description, register_backend
from smttask.compile.plan import Plan
from smttask.errors import CompileError


@dataclass(frozen=True)
class ShellOptions:
    listing: str = "processes.json"


class ShellBackend:
    name = "shell"
    options_type = ShellOptions

    def validate_options(self, options: Mapping[str, object]) -> ShellOptions:
        for key in options:
            if key != "listing":
                raise CompileError(f"The shell backend has no option {key!r}: only listing.")
        listing = options.get("listing", "processes.json")
        if not isinstance(listing, str) or not listing.endswith(".json"):
            raise CompileError(f"listing={listing!r}: give a file name ending in .json.")
        return ShellOptions(listing)

    def processes(self, plan: Plan) -> list[tuple[str, ...]]:
        """The plan's processes (a batch, or a job alone), each after those it needs."""
        process = {job.key: (job.key,) for job in plan.jobs}
        for batch in plan.batches:
            for key in batch.keys:
                process[key] = batch.keys
        order: list[tuple[str, ...]] = []
        pending = list(dict.fromkeys(process[job.key] for job in plan.jobs))
        while pending:
            done = set(order)
            ready = [
                p for p in pending
                if all(process[u] in done or process[u] == p
                       for k in p for u in plan.job(k).upstream)
            ]
            if not ready:
                raise CompileError(f"These processes wait on each other: {pending}")
            order.extend(ready)
            pending = [p for p in pending if p not in ready]
        return order

    def render(self, plan: Plan, options: ShellOptions) -> dict[str, str]:
        lines = ["#!/bin/sh", "set -e", f'cd "$(dirname "$0")/{plan.root_from_outdir}"']
        listing = []
        for keys in self.processes(plan):
            files = " ".join(shlex.quote(plan.job(k).taskfile) for k in keys)
            lines.append(f"smttask run --quiet {files}")
            needs = {u for k in keys for u in plan.job(k).upstream} - set(keys)
            listing.append({"keys": list(keys), "needs": sorted(needs)})
        return {
            "run.sh": "\\n".join(lines) + "\\n",
            options.listing: json.dumps(listing, indent=1) + "\\n",
            **plan.task_files(),
        }

    def describe(self, plan: Plan, options: ShellOptions) -> Description:
        n = len(self.processes(plan))
        return Description(
            text=f"{n} processes", entry="run.sh", run="sh {entry}", details={"processes": n}
        )


register_backend("shell", ShellBackend())
'''

TASKS = """
from typing import List
from smttask import RecordedTask

@RecordedTask
def square(x: float) -> float:
    return x * x

@RecordedTask
def total(xs: List[float]) -> float:
    return sum(xs)
"""


@pytest.fixture
def shell(project) -> Iterator[object]:  # type: ignore[no-untyped-def]
    module = project.write_module("shellflow", SHELLFLOW)  # importing it registers it
    yield module
    unregister_backend("shell")


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    mod = project.write_module("backend_tasks", TASKS)
    squares = [mod.square(x=float(i)) for i in range(5)]
    return [mod.total(xs=squares[:3]), mod.total(xs=squares[2:])]


def test_unknown_backend_names_the_known_ones(project, tasks):  # type: ignore[no-untyped-def]
    with pytest.raises(CompileError) as info:
        get_backend("nextflow")
    message = str(info.value)
    assert "Unknown workflow backend 'nextflow'. Known backends: snakemake." in message
    assert "register_backend('nextflow', backend)" in message
    with pytest.raises(CompileError, match="Unknown workflow backend 'nextflow'"):
        export(tasks, project.root / "out", backend="nextflow")
    assert not (project.root / "out").exists()


def test_snakemake_is_a_registered_backend():
    assert "snakemake" in backends()
    backend = get_backend("snakemake")
    assert isinstance(backend, SnakemakeBackend) and backend.name == "snakemake"
    assert get_backend("snakemake") is backend


def test_a_backend_is_one_module_and_one_register_call(project, tasks, shell):  # type: ignore[no-untyped-def]
    assert backends() == ("shell", "snakemake")
    result = export(tasks, project.root / "out", backend="shell", batch={"square": 2})
    assert isinstance(result, ExportResult) and result.backend == "shell"
    assert (result.jobs, result.tasks, result.batches) == (7, 7, 3)
    out = project.root / "out"
    assert result.summary() == (
        f"Exported 7 jobs (7 tasks, 5 processes) to {out}: 9 written, 0 unchanged.\n"
        f"Run: sh {out}/run.sh"
    )
    listing = json.loads((out / "processes.json").read_text())
    # the plan's batches, as the plan decided them: 5 squares in batches of 2, 2, 1
    squares = sorted(k for p in listing[:3] for k in p["keys"])
    assert [len(p["keys"]) for p in listing] == [2, 2, 1, 1, 1]
    assert all(p["needs"] == [] for p in listing[:3])
    assert set(listing[3]["needs"]) | set(listing[4]["needs"]) == set(squares)
    script = (out / "run.sh").read_text().splitlines()
    assert script[:3] == ["#!/bin/sh", "set -e", 'cd "$(dirname "$0")/.."']
    assert script[3].count("out/tasks/square/") == 2
    assert len(list((out / "tasks").rglob("*.json"))) == 7
    again = export(tasks, project.root / "out", backend="shell", batch={"square": 2})
    assert again.written == ()  # pure: the same plan renders the same files


def test_options_are_checked_by_their_backend(project, tasks, shell):  # type: ignore[no-untyped-def]
    with pytest.raises(CompileError, match="The shell backend has no option 'layout'"):
        export(tasks, project.root / "out", backend="shell", layout="named")
    with pytest.raises(CompileError, match=r"ending in \.json"):
        export(tasks, project.root / "out", backend="shell", listing="jobs.txt")
    export(tasks, project.root / "out", backend="shell", listing="jobs.json")
    assert (project.root / "out/jobs.json").is_file()
    with pytest.raises(CompileError, match="The snakemake backend has no option 'listing'"):
        export(tasks, project.root / "b", listing="jobs.json")
    with pytest.raises(CompileError, match="SLURM status command 'qstat' is not supported"):
        smttask.export_snakemake(tasks, project.root / "b", slurm_status_command="qstat")
    with pytest.raises(CompileError, match="Unknown layout 'flat'"):
        smttask.export_snakemake(tasks, project.root / "b", layout="flat")
    with pytest.raises(CompileError, match=r"slurm_account=5 is not a valid option"):
        export(tasks, project.root / "b", slurm_account=5)
    assert not (project.root / "b").exists()


def test_registering_checks_the_backend(shell):  # type: ignore[no-untyped-def]
    backend = get_backend("shell")
    register_backend("shell", backend)  # the same one again: nothing changes
    with pytest.raises(CompileError, match="its name is 'shell'"):
        register_backend("bash", backend)
    with pytest.raises(CompileError, match="already registered"):
        register_backend("shell", type(backend)())
    register_backend("shell", type(backend)(), replace=True)
    assert get_backend("shell") is not backend

    class Half:
        name = "half"

        def render(self, plan: object, options: object) -> dict[str, str]:
            return {}

    with pytest.raises(CompileError, match="lacks options_type, validate_options, describe"):
        register_backend("half", Half())  # type: ignore[arg-type]
    assert "half" not in backends()


def test_the_snakemake_backend_describes_what_it_renders(project, tasks):  # type: ignore[no-untyped-def]
    from smttask.compile.plan import make_plan
    from smttask.graph import trace

    backend = get_backend("snakemake")
    plan = make_plan(trace(tasks), root=project.root, outdir=project.root / "b", batch=2)
    for layout in ("auto", "named", "wildcard"):
        options = backend.validate_options({"layout": layout})
        files = backend.render(plan, options)
        about = backend.describe(plan, options)
        rules = files["Snakefile"].count("\nrule ") - 1  # not `rule all`
        assert about.details["rules"] == rules
        assert about == Description(
            text=f"{about.details['layout']} layout, {rules} rules",
            entry="Snakefile",
            run="snakemake -s {entry} --cores 4 --rerun-triggers mtime",
            details={"layout": about.details["layout"], "rules": rules},
            notes=about.notes,
        )
        assert len(about.notes) == 1 and "--slurm-account" in about.notes[0]
    with_account = backend.validate_options({"slurm_account": "lab"})
    assert backend.describe(plan, with_account).notes == ()


def test_the_export_command_reads_its_choices_without_jinja2_or_networkx():
    code = (
        "import sys, smttask.cli.export as e; "
        "assert 'jinja2' not in sys.modules and 'networkx' not in sys.modules; "
        "params = {p.name: p for p in e.export_snakemake.params}; "
        "assert list(params['layout'].type.choices) == ['auto', 'named', 'wildcard']; "
        "assert list(params['slurm_status'].type.choices) == ['sacct', 'squeue']"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_the_shell_workflow_runs_every_task_once(smt_project, shell):  # type: ignore[no-untyped-def]
    from smttask.graph import trace
    from smttask.recording.store import open_store

    mod = smt_project.write_module("backend_tasks", TASKS)
    squares = [mod.square(x=float(i)) for i in range(3)]
    top = mod.total(xs=squares)
    export([top], smt_project.root / "out", backend="shell", batch=2)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(["sh", "out/run.sh"], cwd=smt_project.root, env=env, capture_output=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(open_store().records()) == 4  # one record per task, batched ones too
    for node in trace([top]).jobs():
        assert all(Path(p).is_file() for p in node.outputs), node.task
    assert top.run() == sum(float(i) ** 2 for i in range(3))
    assert len(open_store().records()) == 4  # loaded from disk, not run again
