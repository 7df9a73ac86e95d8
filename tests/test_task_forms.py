"""Tasks from callable classes, Create and Join, parameter sets; per-call run options, the
task logger and the worker number."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import smttask
from smttask import Task, TaskDefinitionError, TaskInputError

TASKS = """
from dataclasses import dataclass
from typing import Dict, List

import smttask
from smttask import Create, MemoizedTask, RecordedTask


@RecordedTask
class Affine:
    \"\"\"a * x + b, through a helper method.\"\"\"

    def scale(self, a: float, x: float) -> float:
        return a * x

    def __call__(self, a: float, x: float, b: float = 0.0) -> float:
        smttask.task_logger().info("affine with a=%s", a)
        return self.scale(a, x) + b


@dataclass
class Plant:
    gain: float
    name: str = "m"


CreatePlant = Create(Plant)


@RecordedTask
def response(model: Plant, x: float) -> float:
    return model.gain * x


@RecordedTask
def square(x: float) -> float:
    smttask.current_task().logger.info("squaring %s", x)
    return x * x


@RecordedTask
def total(weights: Dict[str, float], scale: float) -> float:
    return scale * sum(weights.values())


@RecordedTask
def worker(x: int) -> int:
    return x * 100 + smttask.config.process_number


@MemoizedTask
def half(x: float) -> float:
    return x / 2


class Pair(smttask.TaskOutput):
    a: float
    b: float


@RecordedTask
def pair(x: float) -> Pair:
    return Pair(a=x, b=-x)
"""


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    return project.write_module("form_tasks", TASKS)


def _fresh_process(project, code: str) -> str:  # type: ignore[no-untyped-def]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_callable_class_task_runs_saves_and_reloads(project, tasks, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    t = tasks.Affine(a=2.0, x=3.0, b=1.0)
    assert t.name == "Affine" and t.taskname == "form_tasks.Affine"
    assert t.run() == 7.0 and t.computed
    path = t.save(tmp_path)
    desc = json.loads(path.read_text())
    assert desc["task"] == "Affine" and desc["kind"] == "RecordedTask"
    code = (
        f"from smttask import Task; t = Task.from_desc({str(path)!r}); "
        f"print(t.digest, t.run(), t.computed)"
    )
    digest, value, computed = _fresh_process(project, code).split()
    assert (digest, float(value), computed) == (t.digest, 7.0, "False")  # loaded from disk


def test_class_tasks_need_a_call_method_and_no_constructor_arguments() -> None:
    with pytest.raises(TaskDefinitionError, match="__call__"):

        @smttask.RecordedTask
        class NoCall:
            pass

    with pytest.raises(TaskDefinitionError, match="without arguments"):

        @smttask.RecordedTask
        class NeedsArgs:
            def __init__(self, k: int) -> None:
                self.k = k

            def __call__(self, x: float) -> float:
                return x


def test_create_task_builds_an_object_used_downstream(project, tasks, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make = tasks.CreatePlant(gain=3.0)
    assert make.run() == tasks.Plant(gain=3.0)
    down = tasks.response(model=make, x=2.0)
    assert down.run() == 6.0
    path = down.save(tmp_path)
    code = (
        f"from smttask import Task; t = Task.from_desc({str(path)!r}); "
        f"print(t.digest, t.inputs['model'].name, t.run())"
    )
    digest, name, value = _fresh_process(project, code).split()
    assert (digest, name, float(value)) == (down.digest, "CreatePlant", 6.0)
    assert tasks.CreatePlant(gain=3.0).digest != tasks.CreatePlant(gain=4.0).digest


def test_create_types_must_be_bound_to_their_name(project, tasks) -> None:  # type: ignore[no-untyped-def]
    loose = smttask.Create(tasks.Plant, name="Elsewhere")
    with pytest.raises(TaskDefinitionError, match="Elsewhere = Create"):
        loose(gain=1.0).desc  # noqa: B018


def test_join_gathers_results_and_reloads_in_a_fresh_process(
    project, tasks, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    parts = [tasks.square(x=float(x)) for x in range(3)]
    joined = smttask.Join(parts)
    assert smttask.Join(*parts) == joined
    assert joined.run() == [0.0, 1.0, 4.0]
    assert joined.name == "Join_square" and joined.recorded
    path = joined.save(tmp_path)
    assert json.loads(path.read_text())["task"] == "Join[square]"
    code = (
        f"from smttask import Task; t = Task.from_desc({str(path)!r}); "
        f"print(t.digest, t.run(), t.computed)"
    )
    digest, *rest = _fresh_process(project, code).split(maxsplit=1)
    assert digest == joined.digest and rest[0].strip() == "[0.0, 1.0, 4.0] False"
    with pytest.raises(TaskInputError, match="one type"):
        smttask.Join([tasks.square(x=1.0), tasks.Affine(a=1.0, x=1.0)])
    with pytest.raises(TaskDefinitionError, match="named outputs"):
        smttask.Join([tasks.pair(x=1.0)])


def test_tasks_from_a_dict_or_a_sumatra_parameter_set(project, tasks) -> None:  # type: ignore[no-untyped-def]
    from sumatra.parameters import NTParameterSet

    plain = tasks.Affine(a=2.0, x=3.0)
    assert tasks.Affine({"a": 2.0, "x": 3.0}) == plain
    assert tasks.Affine({"a": 2.0, "x": 5.0}, x=3.0) == plain  # keywords override
    assert tasks.Affine.from_params(NTParameterSet({"a": 2.0, "x": 3.0})) == plain
    with pytest.raises(TaskInputError, match="no input named 'c'"):
        tasks.Affine.from_params({"a": 2.0, "x": 3.0, "c": 1.0})
    # A first input that takes a mapping keeps its positional meaning.
    weights = {"weights": 1.0, "scale": 2.0}
    assert tasks.total(weights, scale=1.0).run() == 3.0


def test_run_options_record_and_cache(smt_project) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording.store import open_store
    from smttask.runner import store_records

    tasks = smt_project.write_module("form_tasks", TASKS)
    t = tasks.square(x=3.0)
    assert t.run(record=False, cache=True) == 9.0
    assert smttask.task.memory_cache[t.key] == 9.0
    store_records(smt_project.root)
    assert open_store().records() == []  # not recorded
    u = tasks.square(x=4.0)
    assert u.run(reason="why") == 16.0
    store_records(smt_project.root)
    assert [r.reason for r in open_store().records()] == ["why"]
    assert u.key not in smttask.task.memory_cache  # cache=False is the decorator's default
    m = tasks.half(x=1.0)
    assert m.run(cache=False) == 0.5 and m.key not in smttask.task.memory_cache


def test_record_true_is_refused_when_recording_is_off(project, tasks, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(smttask.config.settings, "record", False)
    with pytest.raises(smttask.ConfigError, match="recording is off"):
        tasks.square(x=2.0).run(record=True)


def test_task_logger_says_loaded_or_computed(project, tasks, caplog) -> None:  # type: ignore[no-untyped-def]
    t = tasks.square(x=5.0)
    assert t.logger.name == "smttask.task.square"
    with caplog.at_level(logging.DEBUG, logger="smttask.task"):
        t.run(record=False)
        tasks.square(x=5.0).run(record=False)
        tasks.Affine(a=1.0, x=2.0).run(record=False)
    messages = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("smttask.task.square", "squaring 5.0") in messages
    assert ("smttask.task.square", f"{t!r}: computing") in messages
    assert ("smttask.task.square", f"{t!r}: loaded from disk") in messages
    assert ("smttask.task.Affine", "affine with a=1.0") in messages
    assert smttask.current_task() is None


def test_worker_number_reaches_task_code(smt_project) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from smttask.cli import cli

    tasks = smt_project.write_module("form_tasks", TASKS)
    folder = smt_project.root / "taskdir"
    for x in range(4):
        tasks.worker(x=x).save(folder)
    result = CliRunner().invoke(cli, ["run", "-n", "2", "--no-record", str(folder)])
    assert result.exit_code == 0, result.output
    numbers = {tasks.worker(x=x).run() % 100 for x in range(4)}
    assert numbers <= {1, 2} and numbers
    assert smttask.config.process_number >= 1


def test_process_number_refuses_a_bad_value(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SMTTASK_PROCESS_NUM", "zero")
    with pytest.raises(smttask.ConfigError, match="SMTTASK_PROCESS_NUM"):
        smttask.config.process_number  # noqa: B018


def test_abstract_base_keeps_refusing() -> None:
    with pytest.raises(TaskDefinitionError):
        Task.from_params({"a": 1})
