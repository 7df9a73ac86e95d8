"""Hostile files stay data: a task file, a record's task description or a stored result never
makes smttask import a module outside the project, resolve a name into a module, or call
anything but the constructors of data types the task's signature allows (docs/security.md).

Each attack here worked before smttask decoded in a closed world.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import smttask
from smttask import Task, config, serialization
from smttask.errors import TaskFileError, TaskInputError, UnsafeContentError
from smttask.taskfile import FORMAT_VERSION

SMTTASK = str(Path(sys.executable).with_name("smttask"))

TASKS = """
from scityping.numpy import Array, RNGenerator
from smttask import MemoizedTask, RecordedTask

@MemoizedTask
def total(arr: Array, n: int) -> float:
    return float(arr.sum()) * n

@RecordedTask
def ramp(n: int) -> Array:
    import numpy as np
    return np.arange(n) * 1.0

@MemoizedTask
def draw(rng: RNGenerator) -> float:
    return float(rng.uniform())
"""


@pytest.fixture
def tasks(project):  # type: ignore[no-untyped-def]
    return project.write_module("hostile_tasks", TASKS)


def truncating(target: Path) -> list[Any]:
    """An encoded array whose data class is ``open`` reached through ``__main__``: before the
    closed world, decoding it called ``open(target, "w")``."""
    return [
        "scityping.numpy._ArrayType",
        {
            "data": [
                "scityping.numpy.ListArrayData",
                [
                    [
                        "scityping.base_types.Type",
                        {"module": "__main__", "name": "__builtins__.open"},
                    ],
                    {"file": str(target), "mode": "w"},
                ],
            ]
        },
    ]


def evil_desc(target: Path) -> dict[str, Any]:
    return {
        "smttask_format": FORMAT_VERSION,
        "task": "total",
        "module": "hostile_tasks",
        "kind": "MemoizedTask",
        "inputs": {"arr": truncating(target), "n": 2},
    }


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


def refused_intact(action: Callable[[], Any], victim: Path, message: str) -> None:
    """`action` raises UnsafeContentError matching `message`, and `victim` is intact (checked
    first: the damage is the failure that matters)."""
    try:
        action()
    except Exception as exc:
        assert victim.read_text() == "precious\n"
        assert isinstance(exc, UnsafeContentError), repr(exc)
        assert re.search(message, str(exc)), str(exc)
    else:
        raise AssertionError("not refused")


def test_a_type_reference_into_main_is_refused_by_from_desc(tasks, project, victim) -> None:  # type: ignore[no-untyped-def]
    path = project.root / "evil.json"
    path.write_text(json.dumps(evil_desc(victim)))
    for source in (path, path.read_text(), evil_desc(victim)):  # file, JSON text, a record's dict
        refused_intact(
            lambda source=source: Task.from_desc(source),  # type: ignore[misc]
            victim,
            r"'__builtins__\.open' of module '__main__'",
        )


def test_smttask_run_of_a_hostile_file_fails_cleanly(tasks, project, victim) -> None:  # type: ignore[no-untyped-def]
    path = project.root / "evil.json"
    path.write_text(json.dumps(evil_desc(victim)))
    done = subprocess.run(
        [SMTTASK, "run", "--no-record", str(path)],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert victim.read_text() == "precious\n"
    assert "Traceback" not in out
    assert "'__builtins__.open' of module '__main__'" in out and "task.save()" in out


def test_exporting_a_folder_with_a_hostile_file_refuses_it(tasks, project, victim) -> None:  # type: ignore[no-untyped-def]
    from smttask.targets import load_targets

    folder = project.root / "taskdir"
    folder.mkdir()
    (folder / "evil.json").write_text(json.dumps(evil_desc(victim)))
    refused_intact(
        lambda: load_targets([str(folder)]), victim, r"'__builtins__\.open' of module '__main__'"
    )


def test_a_hostile_stored_result_is_not_loaded(tasks, project, victim) -> None:  # type: ignore[no-untyped-def]
    task = tasks.ramp(n=3)
    assert task.run().tolist() == [0.0, 1.0, 2.0]
    stored = task.output_paths[""]
    os.chmod(os.path.realpath(stored), 0o644)
    Path(os.path.realpath(stored)).write_text(json.dumps(truncating(victim)))
    smttask.clear_memory_cache()
    refused_intact(
        lambda: tasks.ramp(n=3).run(), victim, r"stored result .* is not loaded.*__main__"
    )


def test_a_record_with_hostile_parameters_rebuilds_no_task(smt_project, victim) -> None:  # type: ignore[no-untyped-def]
    """A record store merged from elsewhere holds any parameters its writer chose."""
    import sqlite3

    from smttask.view import RSView

    tasks = smt_project.write_module("hostile_tasks", TASKS)
    tasks.total(arr=np.ones(2), n=1)  # the type exists; its record is made below
    recorded = tasks.ramp(n=2)
    recorded.run()
    assert len(RSView()) == 1  # moves the journaled record into the store
    with sqlite3.connect(smt_project.root / ".smt" / "records") as db:
        db.execute(
            "UPDATE django_store_parameterset SET content = ?", [json.dumps(evil_desc(victim))]
        )
    record = RSView().latest
    refused_intact(lambda: record.task, victim, r"'__builtins__\.open' of module '__main__'")


def test_a_task_file_cannot_import_a_module_outside_the_project(tasks, project) -> None:  # type: ignore[no-untyped-def]
    desc = {"smttask_format": FORMAT_VERSION, "task": "x", "module": "this", "inputs": {}}
    path = project.root / "zen.json"
    path.write_text(json.dumps(desc))
    code = (
        "import sys\n"
        "from smttask import Task\n"
        "from smttask.errors import UnsafeContentError\n"
        "try:\n"
        f"    Task.from_desc({str(path)!r})\n"
        "except UnsafeContentError as exc:\n"
        "    print('REFUSED', exc)\n"
        "print('IMPORTED' if 'this' in sys.modules else 'NOT IMPORTED')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True, timeout=120
    )
    assert "Beautiful is better than ugly" not in done.stdout
    assert "NOT IMPORTED" in done.stdout, done.stdout + done.stderr
    assert "REFUSED" in done.stdout and "import module 'this'" in done.stdout
    assert "trusted packages" in done.stdout


def test_a_bit_generator_name_must_name_a_bit_generator(tasks, project) -> None:  # type: ignore[no-untyped-def]
    desc = tasks.draw(rng=np.random.default_rng(1)).desc
    assert Task.from_desc(desc).run() == tasks.draw(rng=np.random.default_rng(1)).run()
    evil = copy.deepcopy(desc)
    evil["inputs"]["rng"][1]["bit_generator"] = "seed"  # np.random.seed(): reseeds the global RNG
    np.random.seed(123)
    before = np.random.get_state()
    try:
        Task.from_desc(evil)
    except Exception as exc:
        after = np.random.get_state()  # first: np.random.seed() must not have run
        assert before[0] == after[0] and np.array_equal(before[1], after[1])  # type: ignore[index]
        assert isinstance(exc, UnsafeContentError), repr(exc)
        assert re.search(r"'seed' as the bit generator.*PCG64", str(exc)), str(exc)
    else:
        raise AssertionError("not refused")


DISTRIBUTIONS = """
import json
from scipy import stats
from scityping.scipy import Distribution, UniDistribution
from smttask import serialization
from smttask.errors import UnsafeContentError

norm = serialization.validate(Distribution, json.loads(serialization.dumps(stats.norm(0, 1))))
assert norm.mean() == 0.0

class AnyName(UniDistribution):
    # A distribution type whose data accepts any name (as a project's own might).
    class Data(UniDistribution.Data):
        @staticmethod
        def valid_distname(dist_name):
            return True

payload = ["__main__.AnyName", {"dist": "describe", "args": [[1, 2]], "kwds": {}}]
try:
    print("DECODED", serialization.validate(Distribution, payload, what="input 'dist'"))
except UnsafeContentError as exc:
    print("REFUSED", exc)
"""


def test_a_distribution_name_must_name_a_distribution(project) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("scipy")
    done = subprocess.run(
        [sys.executable, "-c", DISTRIBUTIONS], capture_output=True, text=True, timeout=120
    )
    assert "REFUSED input 'dist': it names 'describe' as a SciPy distribution" in done.stdout, (
        done.stdout + done.stderr
    )


def test_functions_are_never_built_from_source(project) -> None:  # type: ignore[no-untyped-def]
    from scityping.functions import PureFunction

    with pytest.raises(UnsafeContentError, match=r"function as source code"):
        serialization.validate(
            PureFunction, ["scityping.functions.PureFunction", {"func": "def f(x): return x"}]
        )
    with pytest.raises(UnsafeContentError, match=r"'os\.system'.*trusted packages"):
        serialization.validate(
            PureFunction, ["scityping.functions.PureFunction", {"func": "os.system"}]
        )


def test_refusals_swallowed_by_scityping_still_surface(project) -> None:  # type: ignore[no-untyped-def]
    """scityping keeps the raw value when decoding a field annotated ``Any`` fails for any
    reason (a bare ``except:``); the refusal is re-raised all the same."""
    from scityping.numpy import Array

    system = ["scityping.base_types.Type", {"module": "os", "name": "system"}]
    payload = [
        "scityping.numpy._ArrayType",
        {
            "data": [
                "scityping.numpy.ListArrayData",
                [
                    [
                        "scityping.base_types.Type",
                        {"module": "scityping.numpy", "name": "ListArrayData"},
                    ],
                    {"data": [1.0], "dtype": system},
                ],
            ]
        },
    ]
    with pytest.raises(UnsafeContentError, match=r"'system' of module 'os'"):
        serialization.validate(Array, payload)


def test_scityping_outside_smttask_keeps_its_own_rules() -> None:
    from scityping.base_types import Type
    from scityping.utils import TypeRegistry

    registry = ["scityping.base_types.Type", {"module": "scityping.utils", "name": "TypeRegistry"}]
    assert Type.validate(registry) is TypeRegistry  # scityping trusts its own package
    with pytest.raises(UnsafeContentError, match=r"'TypeRegistry' of module 'scityping\.utils'"):
        serialization.validate(Type, registry)


PACKAGE_INIT = """
import pathlib
pathlib.Path({marker!r}).write_text("the package ran")
"""

PACKAGE_TASKS = """
from smttask import MemoizedTask

@MemoizedTask
def double(x: float) -> float:
    return 2 * x
"""


def test_a_task_type_in_an_untrusted_package_is_refused_until_trusted(project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site" / "site-packages"
    marker = tmp_path / "marker.txt"
    (site / "labtasks").mkdir(parents=True)
    (site / "labtasks" / "__init__.py").write_text(PACKAGE_INIT.format(marker=str(marker)))
    (site / "labtasks" / "tasks.py").write_text(PACKAGE_TASKS)
    path = project.root / "double.json"
    env = {**os.environ, "PYTHONPATH": str(site)}
    make = f"from labtasks.tasks import double\ndouble(x=1.5).save({str(path)!r})\n"
    subprocess.run([sys.executable, "-c", make], cwd=project.root, env=env, check=True)
    marker.unlink()
    load = (
        "from smttask import Task\n"
        "from smttask.errors import UnsafeContentError\n"
        "try:\n"
        f"    print('RESULT', Task.from_desc({str(path)!r}).run())\n"
        "except UnsafeContentError as exc:\n"
        "    print('REFUSED', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", load], cwd=project.root, env=env, capture_output=True, text=True
    )
    assert "REFUSED" in done.stdout, done.stdout + done.stderr
    assert "import module 'labtasks'" in done.stdout and "add 'labtasks'" in done.stdout
    assert not marker.exists()  # labtasks/__init__.py never ran: checked before importing
    trusted = {**env, "SMTTASK_TRUSTED_PACKAGES": "otherlib:labtasks"}
    done = subprocess.run(
        [sys.executable, "-c", load], cwd=project.root, env=trusted, capture_output=True, text=True
    )
    assert "RESULT 3.0" in done.stdout, done.stdout + done.stderr


def test_a_virtual_environment_inside_the_project_is_not_the_project(project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    site = project.root / ".venv" / "lib" / "site-packages"
    (site / "vendored").mkdir(parents=True)
    (site / "vendored" / "__init__.py").write_text(PACKAGE_TASKS)
    monkeypatch.syspath_prepend(str(site))
    desc = {
        "smttask_format": FORMAT_VERSION,
        "task": "double",
        "module": "vendored",
        "inputs": {"x": 1.0},
    }
    with pytest.raises(UnsafeContentError, match=r"import module 'vendored'"):
        Task.from_desc(desc)
    assert "vendored" not in sys.modules
    monkeypatch.setattr(config.settings, "trusted_packages", ("vendored",))
    try:
        assert Task.from_desc(desc).run() == 2.0
    finally:
        sys.modules.pop("vendored", None)


def test_the_task_name_is_looked_up_in_classes_only(tasks) -> None:  # type: ignore[no-untyped-def]
    desc = tasks.total(arr=np.ones(2), n=1).desc
    for name in ("np.random.seed", "total.__init__", "MemoizedTask", "__builtins__"):
        with pytest.raises(TaskFileError, match=r"defines no task of that name"):
            Task.from_desc({**desc, "task": name})


def test_pydantic_no_longer_coerces_what_a_file_gives(tasks, project) -> None:  # type: ignore[no-untyped-def]
    desc = tasks.total(arr=np.ones(2), n=1).desc
    path = project.root / "edited.json"
    path.write_text(json.dumps(desc).replace('"n": 1', '"n": 2.5'))
    with pytest.raises(TaskFileError, match=r"input 'n' = 2\.5 does not fit the declared type int"):
        Task.from_desc(path)
    path.write_text(json.dumps(desc).replace('"n": 1', '"n": true'))
    with pytest.raises(TaskFileError, match=r"input 'n' = True .* a bool never becomes a number"):
        Task.from_desc(path)
    path.write_text(json.dumps(desc).replace('"n": 1', '"n": 1e999'))
    with pytest.raises(TaskFileError, match=r"1e999 is too large for a float"):
        Task.from_desc(path)
    with pytest.raises(TaskInputError, match=r"a float never becomes an int"):
        tasks.total(arr=np.ones(2), n=2.0)
