"""Every data type scityping serialises, as a task input and as a task output.

One table (``VALUES`` below, written into the project as a module) drives the round trip:
digest → task file → ``smttask run`` in a fresh process → result file → load in another fresh
process (same digest, result read from its file, equal to the input), and the record's view
of it. Then strict decoding: a task file whose value validation would change is refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smttask.digest import compute_digest
from smttask.errors import SmttaskError

SMTTASK = str(Path(sys.executable).with_name("smttask"))

TYPES = """
from __future__ import annotations

import dataclasses
import enum

import numpy as np
import pydantic
import xarray as xr
from scityping.functions import PureFunction
from scityping.numpy import Array
from scityping.scipy import Distribution


class Colour(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class Mode(enum.Enum):
    FAST = 1
    SLOW = 2


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float


class Reading(pydantic.BaseModel):
    a: int
    b: float


def square(x: float) -> float:
    return x * x
"""

TASKS = """
from __future__ import annotations

from smttask import RecordedTask
from types_ import *


@RecordedTask
def t_array(x: Array) -> Array:
    return x


@RecordedTask
def t_ints(x: Array[np.int64, 1]) -> Array[np.int64, 1]:
    return x


@RecordedTask
def t_dataarray(x: xr.DataArray) -> xr.DataArray:
    return x


@RecordedTask
def t_dataset(x: xr.Dataset) -> xr.Dataset:
    return x


@RecordedTask
def t_colour(x: Colour) -> Colour:
    return x


@RecordedTask
def t_mode(x: Mode) -> Mode:
    return x


@RecordedTask
def t_point(x: Point) -> Point:
    return x


@RecordedTask
def t_model(x: Reading) -> Reading:
    return x


@RecordedTask
def t_rng(x: np.random.Generator) -> np.random.Generator:
    return x


@RecordedTask
def t_dist(x: Distribution) -> Distribution:
    return x


@RecordedTask
def t_function(x: PureFunction) -> PureFunction:
    return x
"""

VALUES = """
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats
from scityping.functions import PureFunction

from types_ import *

_coords = {"t": [0.0, 0.5, 1.0]}
CASES = {
    "float64": ("t_array", np.linspace(0, 1, 7)),
    "float32 2-d": ("t_array", np.arange(6, dtype=np.float32).reshape(2, 3)),
    "int8": ("t_array", np.array([-3, 0, 127], dtype=np.int8)),
    "uint64": ("t_array", np.array([0, 2**64 - 1], dtype=np.uint64)),
    "bool": ("t_array", np.array([True, False])),
    "complex128": ("t_array", np.array([1 + 2j, -0.5j])),
    "float16": ("t_array", np.array([0.1, 2.5], dtype=np.float16)),
    "longdouble": ("t_array", np.array([1 / 3], dtype=np.longdouble)),
    "unicode": ("t_array", np.array(["a", "ÿ€"])),
    "bytes": ("t_array", np.array([b"ab", b"\\xff"])),
    "datetime64": ("t_array", np.array(["2020-01-01", "2021-06-30"], dtype="datetime64[D]")),
    "timedelta64": ("t_array", np.array([1, 90], dtype="timedelta64[s]")),
    "structured": ("t_array", np.array([(1, 2.5), (3, -1.0)], dtype=[("n", "<i4"), ("v", "<f8")])),
    "big-endian": ("t_array", np.arange(3, dtype=">i4")),
    "large": ("t_array", np.random.default_rng(0).random(50_000)),
    "int64 1-d": ("t_ints", np.arange(4)),
    "DataArray": (
        "t_dataarray",
        xr.DataArray([1.0, 2.0, 4.0], dims=["t"], coords=_coords, name="v", attrs={"u": "m"}),
    ),
    "Dataset": (
        "t_dataset",
        xr.Dataset({"v": ("t", [1.0, 2.0, 3.0]), "n": ("t", [1, 2, 3])}, coords=_coords),
    ),
    "(str, Enum)": ("t_colour", Colour.BLUE),
    "Enum": ("t_mode", Mode.SLOW),
    "dataclass": ("t_point", Point(1.5, -2.0)),
    "pydantic model": ("t_model", Reading(a=3, b=0.25)),
    "Generator": ("t_rng", np.random.default_rng(42)),
    "frozen distribution": ("t_dist", stats.norm(loc=1.0, scale=2.0)),
    "PureFunction": ("t_function", PureFunction(square)),
    "CompositePureFunction": ("t_function", 2 * PureFunction(square) + 1),
}


def same(a, b):
    \"\"\"Whether `a` and `b` are the same value of the same type.\"\"\"
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.all(a == b))
    if isinstance(a, (xr.DataArray, xr.Dataset)):
        return a.identical(b)
    if isinstance(a, np.random.Generator):
        return a.bit_generator.state == b.bit_generator.state
    if hasattr(a, "dist") and hasattr(a, "kwds"):  # a frozen distribution
        return (a.dist.name, a.args, a.kwds) == (b.dist.name, b.args, b.kwds)
    if isinstance(a, PureFunction):
        return all(a(x) == b(x) for x in (0.0, 1.5, -2.0))
    return a == b
"""

# What a fresh process reports for each case: the digest of the task built from the value,
# the digest of the task file, whether the result came from its file, and equality.
CHECK = """
import json, sys
import tasks, values
from smttask import RSView, Task
digests = json.loads(sys.argv[1])
report = {}
for case, (name, value) in values.CASES.items():
    task = getattr(tasks, name)(x=value)
    loaded = Task.from_desc(f"tf/{case}.json")
    result = task.run()
    record = RSView().filter.where(lambda r: r.params.get("digest") == task.digest).latest
    report[case] = {
        "digest": task.digest == digests[case] == loaded.digest,
        "loaded": not task.computed,
        "result": values.same(result, value),
        "record": values.same(record.get_output(), value),
        "file": task.output_paths[""].suffix,
    }
print(json.dumps(report))
"""


def _write(project):  # type: ignore[no-untyped-def]
    project.write_module("types_", TYPES)
    tasks = project.write_module("tasks", TASKS)
    values = project.write_module("values", VALUES)
    return tasks, values


def test_every_type_round_trips_through_files_in_fresh_processes(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks, values = _write(smt_project)
    folder = smt_project.root / "tf"
    folder.mkdir()
    digests = {}
    for case, (name, value) in values.CASES.items():
        task = getattr(tasks, name)(x=value)
        digests[case] = task.digest
        assert getattr(tasks, name)(x=value).digest == task.digest, case
        text = json.dumps(task.desc, indent=1)
        (folder / f"{case}.json").write_text(text)
        assert json.loads(text)["inputs"]["x"] is not None
    assert len(set(digests.values())) == len(digests)  # different values, different tasks
    done = subprocess.run(
        [SMTTASK, "run", *sorted(str(p) for p in folder.iterdir())],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(digests)} ran, 0 loaded, 0 failed" in done.stdout + done.stderr
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, json.dumps(digests)],
        cwd=smt_project.root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    wrong = {c: r for c, r in report.items() if not all(v for k, v in r.items() if k != "file")}
    assert wrong == {}
    # Arrays as .npy, xarray objects as netCDF, the rest as JSON.
    files = {c: r["file"] for c, r in report.items()}
    assert files["large"] == files["structured"] == files["int64 1-d"] == ".npy"
    assert files["DataArray"] == files["Dataset"] == ".nc"
    assert files["Generator"] == files["(str, Enum)"] == files["PureFunction"] == ".json"


def test_functions_are_written_by_name(project) -> None:  # type: ignore[no-untyped-def]
    tasks, values = _write(project)
    desc = tasks.t_function(x=values.CASES["CompositePureFunction"][1]).desc
    assert "def square" not in json.dumps(desc)
    assert "types_.square" in json.dumps(desc)


# Digests are an on-disk format: pinned (they depend on the value only, not on the process;
# digest layout v2, which covers code identity).
PINNED = {
    "structured": "8284ee2d1c75c2a1b7de",
    "datetime64": "8d5224bdf40e94a39b48",
    "DataArray": "b30e6126b2ef6407e271",
    "Dataset": "a47cced7cf4d476d389e",
    "Generator": "7a96e743e2392c76803d",
    "frozen distribution": "24b2f8a618264a35a602",
    "(str, Enum)": "40970a69dd6c5dc54668",
    "longdouble": "8299ad844a6cf52ad1bc",  # x86 (x87 extended precision)
}


@pytest.mark.parametrize("case", PINNED)
def test_pinned_digests(project, case: str) -> None:  # type: ignore[no-untyped-def]
    if case == "longdouble" and np.finfo(np.longdouble).nmant != 63:
        pytest.skip("np.longdouble is not x87 extended precision here")
    _, values = _write(project)
    value = values.CASES[case][1]
    assert compute_digest("mod.task", {"x": value}) == PINNED[case]


# Strict decoding: a task file whose value validation would change is refused.
TAMPERED = {
    "float in an int array": ("int64 1-d", lambda x: _array_list(x, [1, 2.5, 3, 4])),
    "int array as floats": ("int64 1-d", lambda x: _array_list(x, [1.0, 2.0, 3.0, 4.0])),
    "enum member by name": ("(str, Enum)", lambda x: "Colour.BLUE"),
    "unknown enum value": ("Enum", lambda x: 3),
    "dataclass field as text": ("dataclass", lambda x: _set_field(x, "x", "1.5")),
    "model int truncated": ("pydantic model", lambda x: {**x, "a": 3.5}),
    "model int as text": ("pydantic model", lambda x: {**x, "a": "3"}),
    "model unknown field": ("pydantic model", lambda x: {**x, "c": 1}),
    "function as source code": (
        "PureFunction",
        lambda x: ["scityping.functions.PureFunction", {"func": "def f(x): return x"}],
    ),
    "distribution from elsewhere": (
        "frozen distribution",
        lambda x: [x[0], {**x[1], "dist": "os.system"}],
    ),
}


def _array_list(x: Any, values: list[object]) -> object:
    """The list form of an array with other `values`."""
    key, data = x
    listed, (cls, fields) = data["data"]
    assert listed == "scityping.numpy.ListArrayData", x
    return [key, {"data": [listed, [cls, {**fields, "data": values}]]}]


def _set_field(x: object, name: str, value: object) -> object:
    assert isinstance(x, list)
    key, (cls, fields) = x
    return [key, [cls, {**fields, name: value}]]


@pytest.mark.parametrize("what", TAMPERED)
def test_task_files_are_decoded_strictly(project, what: str) -> None:  # type: ignore[no-untyped-def]
    from smttask import Task

    tasks, values = _write(project)
    case, tamper = TAMPERED[what]
    name, value = values.CASES[case]
    desc = getattr(tasks, name)(x=value).desc
    assert Task.from_desc(desc).digest == desc["digest"]  # untouched, it loads
    bad = {**desc, "inputs": {"x": tamper(desc["inputs"]["x"])}}
    bad.pop("digest")
    with pytest.raises(SmttaskError, match=r"input 'x'|os\.system"):
        Task.from_desc(bad)


def test_the_untampered_array_form_loads(project) -> None:  # type: ignore[no-untyped-def]
    from smttask import Task

    tasks, _ = _write(project)
    desc = tasks.t_ints(x=np.arange(4)).desc
    good = {**desc, "inputs": {"x": _array_list(desc["inputs"]["x"], [0, 1, 2, 3])}}
    good.pop("digest")
    assert Task.from_desc(good).digest == desc["digest"]
