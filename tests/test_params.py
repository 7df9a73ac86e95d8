"""smttask.params: parameter collections, expanded and random fields, seeds, workflows."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
from scipy import stats
from scityping.numpy import Array

import smttask
from smttask import ParamColl, ParamError, SeedGenerator, Task, TaskInputError, expand
from smttask.digest import compute_digest, hash_value
from smttask.errors import SerializationError, TaskFileError, WorkflowError
from smttask.params import Draws, Values, run_workflow, set_workflow_args, workflow_args
from smttask.serialization import encode

REPO = Path(__file__).resolve().parent.parent


class Sim(ParamColl):
    tau: float
    sigma: float = 1.0
    seed: int = 0


class Model(ParamColl):
    tau: float
    gain: float = 1.0


class Big(ParamColl):
    model: Model
    n: int = 10


class Tagged(ParamColl):
    name: str
    weights: List[float] = dataclasses.field(default_factory=list)
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)


class SubSim(Sim):
    extra: int = 0


class Noisy(ParamColl):
    x: float
    count: int = 0


# ---------------------------------------------------------------------------
# Fields: validated, never converted silently, frozen


def test_fields_are_validated_and_ints_become_floats() -> None:
    p = Sim(tau=1, seed=3)
    assert p.tau == 1.0 and type(p.tau) is float
    assert (p.sigma, p.seed) == (1.0, 3)
    assert type(Sim(tau=np.float64(0.5)).tau) is float


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Sim(tau="fast"), r"Sim\.tau = 'fast' does not fit the declared type float"),
        (
            lambda: Sim(tau=1.0, seed=1.5),
            r"Sim\.seed = 1\.5 does not fit .* int: a float never becomes an int",
        ),
        (
            lambda: Sim(tau=1.0, seed="2"),
            r"Sim\.seed = '2' does not fit .* int: a str never becomes an int",
        ),
        (
            lambda: Sim(tau=1.0, seed=True),
            r"Sim\.seed = True does not fit .* int: a bool never becomes a number",
        ),
        (lambda: Sim(tau=expand([0.5, "x"])), r"Sim\.tau\[1\] = 'x' does not fit"),
        (lambda: Tagged(name="a", weights=[expand([1.0])]), r"expand\(\.\.\.\) must be a field's"),
        (lambda: Big(model=1.0), r"Big\.model = 1\.0 does not fit .*expected a Model"),
        (lambda: Big(model=Sim(tau=1.0)), r"expected a Model .*got Sim"),
    ],
)
def test_wrong_field_values_are_refused(make: Any, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        make()


def test_missing_unknown_and_positional_fields_are_errors() -> None:
    with pytest.raises(ParamError, match=r"Sim\(\.\.\.\) needs a value for its field 'tau'"):
        Sim()
    with pytest.raises(ParamError, match=r"no field 'bogus'; its fields are tau, sigma, seed"):
        Sim(tau=1.0, bogus=2)
    with pytest.raises(ParamError, match=r"takes its fields by name: Sim\(tau=\.\.\., sigma"):
        Sim(1.0)
    assert str(inspect.signature(Sim)) == "(*, tau: float, sigma: float = 1.0, seed: int = 0)"


def test_a_class_default_may_be_expanded() -> None:
    class Grid(ParamColl):
        x: float = expand([1, 2, 3])
        y: int = 0

    assert Grid().x == expand([1.0, 2.0, 3.0]) and len(Grid().outer()) == 3
    assert Grid(x=0.5).expanded == ()


def test_collections_are_frozen_and_replace_makes_validated_copies() -> None:
    p = Sim(tau=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.tau = 2.0  # type: ignore[misc]
    q = p.replace(tau=2)
    assert (q.tau, p.tau) == (2.0, 1.0)
    assert dataclasses.replace(p, seed=4).seed == 4
    with pytest.raises(ParamError):
        p.replace(seed=0.5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("keys: int", r"field name 'keys' is reserved"),
        ("outer: float", r"field name 'outer' is reserved"),
        ("_hidden: int", r"field name '_hidden' is reserved"),
    ],
)
def test_reserved_field_names_are_refused(body: str, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        exec(f"class Bad(ParamColl):\n    {body}\n", {"ParamColl": ParamColl})


def test_a_dataclass_decorator_on_top_is_refused() -> None:
    for options in ({}, {"frozen": True}, {"eq": False}):

        @dataclasses.dataclass(**options)
        class Decorated(ParamColl):
            tau: float

        with pytest.raises(ParamError, match=r"decorated with @dataclass.*Remove the decorator"):
            Decorated(tau=1.0)


def test_subclasses_decode_through_their_base_annotation() -> None:
    point = SubSim(tau=1.0, extra=2)
    assert point.keys() == ("tau", "sigma", "seed", "extra")
    assert Sim.validate(encode(point)) == point and ParamColl.validate(encode(point)) == point
    with pytest.raises(TypeError, match=r"serialized form of 'other\.SubSim'"):
        Sim.validate(["other.SubSim", encode(point)[1]])


def test_paramcoll_itself_cannot_be_instantiated() -> None:
    with pytest.raises(ParamError, match="subclass it"):
        ParamColl()


def test_user_post_init_runs_after_validation() -> None:
    class Positive(ParamColl):
        tau: float

        def __post_init__(self) -> None:
            if isinstance(self.tau, float) and self.tau <= 0:
                raise ParamError(f"tau must be positive, got {self.tau}")

    assert Positive(tau=1).tau == 1.0
    with pytest.raises(ParamError, match="positive"):
        Positive(tau=-1)
    with pytest.raises(ParamError, match="does not fit"):
        Positive(tau="x")


# ---------------------------------------------------------------------------
# expand(): what it accepts


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("abc",), {}, r"characters of a string"),
        (({1, 2},), {}, r"no stable order"),
        (({"a": 1},), {}, r"no stable order"),
        (([],), {}, r"no value at all"),
        ((5,), {}, r"takes a list of values"),
        ((np.array(1.0),), {}, r"0-d array"),
        (([1, 2],), {"size": 2}, r"size and seed apply to random draws"),
        (([1, 2],), {"seed": 2}, r"size and seed apply to random draws"),
        ((stats.norm(0, 1),), {"size": 3}, r"needs a seed"),
        ((stats.norm,), {"seed": 1}, r"without parameters: freeze it"),
        ((stats.norm(0, 1),), {"size": 0, "seed": 1}, r"size must be a positive integer"),
        ((stats.norm(0, 1),), {"seed": 1.5}, r"seed must be an integer"),
        ((stats.norm(loc=[0, 1]),), {"seed": 1}, r"finite numbers"),
        ((stats.rv_discrete(values=([0, 1], [0.5, 0.5]))(),), {"seed": 1}, r"frozen univariate"),
    ],
)
def test_expand_refuses(args: tuple[Any, ...], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        expand(*args, **kwargs)


def test_expand_refuses_an_expanded_value() -> None:
    with pytest.raises(ParamError, match="expanded already"):
        expand(expand([1, 2]))


def test_expand_takes_ordered_iterables() -> None:
    assert expand(range(3)).values == (0, 1, 2)
    assert expand(x for x in "ab").values == ("a", "b")
    rows = expand(np.arange(6.0).reshape(3, 2))
    assert len(rows) == 3 and np.array_equal(rows[1], [2.0, 3.0])
    assert repr(expand([0.5, 1.0, 2.0])) == "expand([0.5, 1.0, 2.0])"
    assert repr(expand(range(10))) == "expand([0, 1, 2, 3, 4, 5, … (10 values)])"
    assert repr(expand(stats.lognorm(1), size=5, seed=2)) == (
        "expand(lognorm(s=1, loc=0, scale=1), size=5, seed=2)"
    )


# ---------------------------------------------------------------------------
# Points: outer and inner products


def tau_sigma(points: Any) -> list[tuple[float, float]]:
    return [(p.tau, p.sigma) for p in points]


PRODUCTS = [  # (collection, kind, expected (tau, sigma) of every point)
    (Sim(tau=1.0), "outer", [(1.0, 1.0)]),
    (Sim(tau=1.0), "inner", [(1.0, 1.0)]),
    (Sim(tau=expand([1, 2])), "outer", [(1.0, 1.0), (2.0, 1.0)]),
    (
        Sim(tau=expand([1, 2]), sigma=expand([5, 6, 7])),
        "outer",
        [(1.0, 5.0), (1.0, 6.0), (1.0, 7.0), (2.0, 5.0), (2.0, 6.0), (2.0, 7.0)],
    ),
    (Sim(tau=expand([1, 2]), sigma=expand([5, 6])), "inner", [(1.0, 5.0), (2.0, 6.0)]),
    (Sim(tau=expand([1, 2, 3]), sigma=4), "inner", [(1.0, 4.0), (2.0, 4.0), (3.0, 4.0)]),
]


@pytest.mark.parametrize(("coll", "kind", "expected"), PRODUCTS)
def test_products(coll: Sim, kind: str, expected: list[tuple[float, float]]) -> None:
    points = getattr(coll, kind)()
    assert len(points) == len(expected)
    assert tau_sigma(points) == expected
    assert tau_sigma(points[i] for i in range(len(points))) == expected  # indexing = iterating
    assert all(type(p) is Sim and p.expanded == () for p in points)


def test_inner_needs_equal_lengths_and_says_which_differ() -> None:
    coll = Sim(tau=expand([1, 2, 3]), sigma=expand([5, 6]))
    with pytest.raises(ParamError, match=r"tau has 3, sigma has 2 values.*outer\(\)"):
        coll.inner()
    assert coll.inner_len is None
    assert coll.outer_len == len(coll.outer()) == 6


def test_indexing_and_slicing() -> None:
    points = Sim(tau=expand([1, 2, 3]), seed=expand([7, 8])).outer()
    assert points[-1] == Sim(tau=3, seed=8)
    assert points[np.int64(1)] == Sim(tau=1, seed=8)
    part = points[1:5:2]
    assert len(part) == 2 and list(part) == [points[1], points[3]]
    assert part == [Sim(tau=1, seed=8), Sim(tau=2, seed=8)]
    assert points[::-1][0] == points[-1]
    with pytest.raises(IndexError, match="Point 6 does not exist: this product has 6 points"):
        points[6]
    with pytest.raises(TypeError, match="integers or slices"):
        points["tau"]  # type: ignore[call-overload]


def test_nested_collections_expand_as_axes_named_by_paths() -> None:
    big = Big(model=Model(tau=expand([1, 2]), gain=expand([10, 20])), n=expand([5, 6]))
    assert big.expanded == ("model.tau", "model.gain", "n")
    outer = big.outer()
    assert len(outer) == 8
    assert outer[0] == Big(model=Model(tau=1, gain=10), n=5)
    assert outer[7] == Big(model=Model(tau=2, gain=20), n=6)
    assert all(p.expanded == () and type(p.model) is Model for p in outer)
    inner = big.inner()
    assert list(inner) == [
        Big(model=Model(tau=1, gain=10), n=5),
        Big(model=Model(tau=2, gain=20), n=6),
    ]
    with pytest.raises(ParamError, match=r"model\.tau has 2, model\.gain has 2, n has 3 values"):
        big.replace(n=expand([1, 2, 3])).inner()
    fixed = Big(model=Model(tau=1.0), n=expand([1, 2]))
    assert [p.model for p in fixed.outer()] == [Model(tau=1.0)] * 2


def test_a_thousand_point_outer_product() -> None:
    coll = Sim(tau=expand(np.linspace(0.1, 1, 10)), sigma=expand(range(10)), seed=expand(range(10)))
    points = coll.outer()
    assert len(points) == 1000
    everything = list(points)
    assert len({p.__smttask_digest__() for p in everything}) == 1000
    assert everything[999] == points[999] == Sim(tau=1.0, sigma=9, seed=9)
    assert everything[123] == Sim(tau=np.linspace(0.1, 1, 10)[1], sigma=2, seed=3)


def test_a_point_unpacks_as_keyword_arguments() -> None:
    point = Sim(tau=2.0, seed=3)

    def simulate(tau: float, sigma: float, seed: int) -> tuple[float, float, int]:
        return (tau, sigma, seed)

    assert simulate(**point) == (2.0, 1.0, 3)
    assert dict(point) == {"tau": 2.0, "sigma": 1.0, "seed": 3}
    assert point.keys() == ("tau", "sigma", "seed")
    assert point.values() == (2.0, 1.0, 3) and point.items()[0] == ("tau", 2.0)
    assert point["seed"] == 3 and "tau" in point and "x" not in point
    with pytest.raises(KeyError, match="fields are tau, sigma, seed"):
        point["x"]
    with pytest.raises(TypeError, match=r"iterate over \.outer\(\) or \.inner\(\)"):
        list(point)
    with pytest.raises(TypeError, match="looked up by name"):
        point[0]  # type: ignore[index]


def test_reprs_are_readable() -> None:
    coll = Sim(tau=expand([0.5, 1.0]), seed=expand(range(4)))
    assert repr(coll) == "Sim(tau=expand([0.5, 1.0]), sigma=1.0, seed=expand([0, 1, 2, 3]))"
    assert repr(coll.outer()[:2]) == (
        "Sim.outer()[0:2:1]: 2 points\n  Sim(tau=0.5, sigma=1.0, seed=0)\n"
        "  Sim(tau=0.5, sigma=1.0, seed=1)"
    )
    lines = repr(coll.outer()).splitlines()
    assert lines[0] == "Sim.outer(): 8 points" and lines[4] == "  …" and len(lines) == 7
    assert repr(Big(model=Model(tau=1.0))) == "Big(model=Model(tau=1.0, gain=1.0), n=10)"


# ---------------------------------------------------------------------------
# Random fields


def test_random_fields_are_reproducible_and_validated() -> None:
    coll = Noisy(x=expand(stats.lognorm(1), size=5, seed=3))
    first = [p.x for p in coll.outer()]
    assert len(set(first)) == 5 and all(type(v) is float and v > 0 for v in first)
    assert [p.x for p in Noisy(x=expand(stats.lognorm(s=1.0), size=5, seed=3)).outer()] == first
    assert [p.x for p in coll.inner()] == first
    assert [p.x for p in Noisy(x=expand(stats.lognorm(1), size=5, seed=4)).outer()] != first
    counts = Noisy(x=0.0, count=expand(stats.poisson(3), size=20, seed=1)).outer()
    assert all(type(p.count) is int for p in counts)
    with pytest.raises(
        ParamError, match=r"Noisy\.count \(draw 0\) = .* float never becomes an int"
    ):
        Noisy(x=0.0, count=expand(stats.norm(5, 1), size=3, seed=1)).outer()


# The first draws of Noisy(x=expand(lognorm(1), size=5, seed=3)): the same on every machine
# (for the numpy and scipy versions in use; if an upgrade changes them, say so in the CHANGELOG).
PINNED_DRAWS = [3.799991532518134, 0.4167190795125436, 1.5291602612828814]


def test_random_draws_are_pinned() -> None:
    drawn = [p.x for p in Noisy(x=expand(stats.lognorm(1), size=5, seed=3)).outer()]
    assert drawn[:3] == pytest.approx(PINNED_DRAWS, rel=1e-12)


def test_each_field_has_its_own_stream() -> None:
    a = Sim(tau=expand(stats.norm(), size=4, seed=1), sigma=expand(stats.norm(), size=4, seed=1))
    taus, sigmas = zip(*tau_sigma(a.inner()))
    assert taus != sigmas  # same seed and distribution, other field: other values
    b = a.replace(sigma=expand(stats.uniform(0, 10), size=4, seed=1))
    assert [p.tau for p in b.inner()] == list(taus)  # another field's distribution changed
    c = a.replace(sigma=expand([1, 2, 3, 4]))
    assert [p.tau for p in c.inner()] == list(taus)


def test_draws_without_a_size_give_one_value_per_point() -> None:
    coll = Sim(
        tau=expand([1, 2, 3]), sigma=expand(stats.uniform(0, 1), seed=5), seed=expand([1, 2])
    )
    outer = coll.outer()
    assert len(outer) == 6 and len({p.sigma for p in outer}) == 6
    assert [p.sigma for p in coll.outer()] == [p.sigma for p in outer]
    inner = Sim(tau=expand([1, 2, 3]), sigma=expand(stats.uniform(0, 1), seed=5)).inner()
    assert len(inner) == 3
    with pytest.raises(ParamError, match=r"Sim\.sigma draws one value per point.*Give it a size"):
        Sim(tau=1.0, sigma=expand(stats.uniform(0, 1), seed=5)).outer()


def test_multivariate_normal_draws_arrays() -> None:
    class Vec(ParamColl):
        x: Array[float, 1]

    mvn = stats.multivariate_normal(mean=[0.0, 10.0], cov=[[1.0, 0.0], [0.0, 1.0]])
    for size in (1, 3):
        points = Vec(x=expand(mvn, size=size, seed=2)).outer()
        assert len(points) == size and all(p.x.shape == (2,) for p in points)
    assert Vec(x=expand(mvn, size=3, seed=2)).outer()[2].x[1] > 5


# ---------------------------------------------------------------------------
# Identity: digests and equality


def test_equality_and_hashing_follow_the_digest() -> None:
    assert Sim(tau=1) == Sim(tau=1.0) and hash(Sim(tau=1)) == hash(Sim(tau=1.0))
    assert Sim(tau=1.0) != Sim(tau=2.0)
    assert Sim(tau=1.0) != Model(tau=1.0)
    assert len({Sim(tau=1.0), Sim(tau=1), Sim(tau=2.0)}) == 2
    assert Sim(tau=expand([1, 2])) == Sim(tau=expand([1.0, 2.0]))
    assert Sim(tau=expand([1, 2])) != Sim(tau=expand([2, 1]))
    assert Noisy(x=expand(stats.norm(0, 1), seed=1)) == Noisy(x=expand(stats.norm(), seed=1))
    assert Noisy(x=expand(stats.norm(0, 1), seed=1)) != Noisy(x=expand(stats.norm(0, 2), seed=1))
    assert Noisy(x=expand(stats.norm(), seed=1)) != Noisy(x=expand(stats.norm(), seed=2))
    assert Noisy(x=expand(stats.norm(), seed=1)) != Noisy(x=expand(stats.norm(), size=3, seed=1))


def test_dict_order_never_changes_the_digest() -> None:
    a = Tagged(name="a", extra={"x": 1, "y": [1, 2]})
    b = Tagged(name="a", extra={"y": [1, 2], "x": 1})
    assert a.__smttask_digest__() == b.__smttask_digest__()
    assert hash_value(a) == hash_value(b)


def test_pickle_round_trip() -> None:
    for value in [
        Sim(tau=2.0, seed=1),
        Big(model=Model(tau=expand([1, 2])), n=expand([3, 4])),
        Noisy(x=expand(stats.lognorm(1), size=3, seed=1)),
    ]:
        back = pickle.loads(pickle.dumps(value))
        assert back == value and list(back.outer()) == list(value.outer())


def test_serialized_form_is_readable_and_decodes_to_an_equal_value() -> None:
    coll = Big(model=Model(tau=expand([1, 2])), n=expand(stats.poisson(4), size=2, seed=7))
    encoded = json.loads(json.dumps(encode(coll)))
    assert encoded == [
        "test_params.Big",
        {
            "model": ["test_params.Model", {"tau": {"~expand": [1.0, 2.0]}, "gain": 1.0}],
            "n": {
                "~draws": {
                    "dist": "poisson",
                    "params": {"mu": 4, "loc": 0},
                    "size": 2,
                    "seed": 7,
                }
            },
        },
    ]
    assert Big.validate(encoded) == coll
    assert encode(Sim(tau=0.5)) == ["test_params.Sim", {"tau": 0.5, "sigma": 1.0, "seed": 0}]


@pytest.mark.parametrize(
    ("serialized", "message"),
    [
        ({"tau": 1.0}, r"expected a Sim \(make one: Sim\(\*\*values\)\), got dict"),
        (["test_params.Model", {"tau": 1.0}], r"serialized form of 'test_params.Model'"),
        (["test_params.Sim", {"tau": 1.0, "bogus": 1}], r"has field 'bogus'.*does not define"),
        (["test_params.Sim", {"sigma": 1.0}], r"lacks the required field 'tau'"),
        (
            ["test_params.Sim", {"tau": "1.0"}],
            r"Sim\.tau = '1\.0' does not fit .* float: a str never becomes a float",
        ),
        (["test_params.Sim", {"tau": {"~expand": []}}], r"does not describe expanded values"),
        (
            [
                "test_params.Sim",
                {"tau": {"~draws": {"dist": "eval", "params": {}, "size": 1, "seed": 1}}},
            ],
            r"Unknown distribution description",
        ),
    ],
)
def test_decoding_refuses_what_does_not_fit(serialized: Any, message: str) -> None:
    with pytest.raises((TypeError, ParamError), match=message):
        Sim.validate(serialized)


def test_a_dict_that_would_read_back_as_expanded_values_is_not_written() -> None:
    with pytest.raises(SerializationError, match="would read back as expanded values"):
        encode(Tagged(name="a", extra={"~expand": [1, 2]}))


# ---------------------------------------------------------------------------
# As task inputs: validated, digested, written and read back in a fresh process

TASKS = """
from dataclasses import field
from typing import List

import numpy as np
from scityping.numpy import Array

from smttask import MemoizedTask, ParamColl, RecordedTask, expand


class Model(ParamColl):
    tau: float
    weights: Array[float, 1] = field(default_factory=lambda: np.array([1.0, 2.0]))


class Sim(ParamColl):
    model: Model
    sigma: float = 1.0
    seed: int = 0


@RecordedTask
def simulate(params: Sim, n: int = 3) -> float:
    return params.model.tau * params.sigma + params.seed + n


@MemoizedTask
def count(points: List[Sim], sweep: Sim) -> int:
    return len(points) + len(sweep.outer())
"""

SWEEP = "Sim(model=Model(tau=expand([1.0, 2.0])), sigma=expand(stats.norm(), seed=1), seed=expand([1, 2]))"

# Pinned: a point's digest, and the input digest of a task taking it (compute_digest: what
# task digests are built from). If one changes, users' cached results are orphaned.
PINNED_POINT = "3392e62bc0e6541c0e844ec08eeb8f0e"
PINNED_INPUTS = "c2de5108035500a18fb7"


def run_python(project: Any, code: str) -> str:
    env = {**os.environ, "SMTTASK_PROJECT_ROOT": str(project.root), "PYTHONHASHSEED": "123"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=project.root, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def ptasks(project: Any) -> Any:
    return project.write_module("ptasks", TASKS)


def test_a_point_is_a_task_input(ptasks: Any) -> None:
    point = ptasks.Sim(model=ptasks.Model(tau=2.0), sigma=0.5, seed=1)
    task = ptasks.simulate(params=point)
    assert task.inputs["params"] is point
    assert point.__smttask_digest__() == PINNED_POINT
    assert compute_digest("ptasks.simulate", {"params": point, "n": 3}) == PINNED_INPUTS
    assert ptasks.simulate(params=point.replace(sigma=0.5)).digest == task.digest
    assert ptasks.simulate(params=point.replace(sigma=0.25)).digest != task.digest
    with pytest.raises(TaskInputError, match=r"input 'params' = \{'model'.*expected a Sim"):
        ptasks.simulate(params={"model": {"tau": 2.0}})
    with pytest.raises(TaskInputError, match=r"expected a Sim.*got Model"):
        ptasks.simulate(params=ptasks.Model(tau=2.0))
    assert task.run() == 2.0 * 0.5 + 1 + 3


def test_points_and_collections_round_trip_through_task_files_in_a_fresh_process(
    ptasks: Any, project: Any
) -> None:
    sweep = eval(SWEEP, {"stats": stats, "expand": expand, **vars(ptasks)})
    tasks = [ptasks.simulate(params=p) for p in sweep.outer()]
    tasks.append(ptasks.count(points=list(sweep.inner()), sweep=sweep))
    paths = [t.save(project.root / "taskdir") for t in tasks]
    text = paths[0].read_text()
    assert '"ptasks.Sim"' in text and '"sigma": ' in text
    assert '"~draws"' in paths[-1].read_text()
    code = f"""
import json, sys
from scipy import stats
from scityping.numpy import Array
from smttask import Task, expand
from ptasks import Model, Sim
sweep = {SWEEP}
loaded = [Task.from_desc(p) for p in {[str(p) for p in paths]!r}]
points = list(sweep.outer())
assert [t.inputs["params"] for t in loaded[:-1]] == points
assert loaded[-1].inputs["sweep"] == sweep and loaded[-1].inputs["points"] == list(sweep.inner())
print(json.dumps([t.digest for t in loaded]))
print(json.dumps([p.sigma for p in points]))
"""
    digests, sigmas = (json.loads(line) for line in run_python(project, code).splitlines())
    assert digests == [t.digest for t in tasks]
    assert sigmas == [p.sigma for p in sweep.outer()]  # the same draws in another process


def test_a_task_file_with_a_tampered_collection_is_refused(ptasks: Any, project: Any) -> None:
    task = ptasks.simulate(params=ptasks.Sim(model=ptasks.Model(tau=2.0)))
    desc = task.desc
    desc["inputs"]["params"][1]["sigma"] = "big"
    with pytest.raises(TaskFileError, match=r"Sim\.sigma = 'big' does not fit"):
        Task.from_desc(desc)
    desc = task.desc
    desc["inputs"]["params"][0] = "ptasks.Model"
    with pytest.raises(TaskFileError, match=r"serialized form of 'ptasks.Model'"):
        Task.from_desc(desc)


def test_class_field_order_and_redefinition_keep_digests(project: Any) -> None:
    a = project.write_module(
        "pdefs", "from smttask import ParamColl\nclass P(ParamColl):\n    a: int\n    b: float\n"
    )
    digest = a.P(a=1, b=2.0).__smttask_digest__()
    b = project.write_module(
        "pdefs", "from smttask import ParamColl\nclass P(ParamColl):\n    b: float\n    a: int\n"
    )
    assert b.P(a=1, b=2.0).__smttask_digest__() == digest
    assert b.P.validate(encode(a.P(a=1, b=2.0))).__class__ is b.P  # the new class decodes


# ---------------------------------------------------------------------------
# SeedGenerator


def test_seeds_are_reproducible_and_derived_as_documented() -> None:
    import hashlib

    seeds = SeedGenerator(2024)
    point = Sim(tau=1.0, seed=3)
    s = seeds(point)
    assert s == seeds(Sim(tau=1, seed=3)) == seeds.seed(point) and 0 <= s < 2**32
    assert seeds(point) != seeds(point.replace(seed=4))
    assert seeds(1, "a") != seeds("a", 1)
    assert seeds(1) != seeds(1.0)
    assert seeds([1, 2]) == seeds((1, 2))
    assert seeds(a=1, b=2) == seeds(b=2, a=1) != seeds(a=2, b=1)
    assert SeedGenerator(2025)(point) != s
    material = hash_value([2024, "", [point], {}])
    word = int.from_bytes(hashlib.shake_256(b"smttask.seeds/1" + material).digest(8), "little")
    assert s == word >> 32
    assert SeedGenerator(2024, bits=64)(point) == word
    assert seeds.seeds(3, point)[0] == s and len(set(seeds.seeds(3, point))) == 3
    assert seeds("x") == 4276808606  # pinned: every user's seeds depend on this derivation
    assert seeds.seed("x", stream="noise") != seeds("x")


def test_seeds_are_the_same_in_a_fresh_process(project: Any) -> None:
    seeds = SeedGenerator("sweep-1")
    keys = [("a", 1.5), (Sim(tau=1.0),), ({"b": 1, "a": [1, 2]},)]
    code = """
import json
from smttask import SeedGenerator
from test_params import Sim
seeds = SeedGenerator("sweep-1")
print(json.dumps([seeds("a", 1.5), seeds(Sim(tau=1.0)), seeds({"a": [1, 2], "b": 1})]))
"""
    env_path = str(Path(__file__).parent)
    out = run_python(project, f"import sys; sys.path.insert(0, {env_path!r})\n{code}")
    assert json.loads(out) == [seeds(*k) for k in keys]


def test_named_seed_streams() -> None:
    class Seeds(SeedGenerator):
        noise: int
        init: Tuple[int, int]

    seeds = Seeds(7)
    values = seeds("run", 1)
    assert values.noise == seeds.noise("run", 1) and isinstance(values.noise, int)
    assert values.init == seeds.init("run", 1) and len(values.init) == 2
    assert values.noise not in values.init
    assert Seeds(7)("run", 1) == values and Seeds(8)("run", 1) != values


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SeedGenerator(1.5), r"entropy is an int or a str"),  # type: ignore[arg-type]
        (lambda: SeedGenerator(1, bits=0), r"bits must be an integer in 1\.\.64"),
        (lambda: SeedGenerator(1).seeds(0, "a"), r"asked for 0 seeds"),
        (lambda: type("S", (SeedGenerator,), {"__annotations__": {"x": float}}), r"int or Tuple"),
        (lambda: type("S", (SeedGenerator,), {"__annotations__": {"seed": int}}), r"method"),
    ],
)
def test_seed_generator_errors(make: Any, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        make()


# ---------------------------------------------------------------------------
# run_workflow


WORKFLOW = """
from smttask import workflow_args

TAUS = [0.5, 1.0]
SEEDS: list[int] = [1, 2]
label = "default"
workflow_args(globals())

runs = [(t, s) for t in TAUS for s in SEEDS]
main_ran = False
if __name__ == "__main__":
    main_ran = True
"""


def test_run_workflow_replaces_declared_globals(project: Any) -> None:
    project.write("wf/sweep.py", WORKFLOW)
    project.write("wf/__init__.py", "")
    a = run_workflow("wf/sweep.py", TAUS=[4.0])
    b = run_workflow("wf.sweep", SEEDS=[9], label="other")
    assert a.runs == [(4.0, 1), (4.0, 2)] and a.label == "default"
    assert b.runs == [(0.5, 9), (1.0, 9)] and b.label == "other"
    assert a.__name__ == b.__name__ == "wf.sweep" and not a.main_ran
    import wf.sweep as imported  # the module imported the usual way keeps its own values

    assert imported.runs == [(0.5, 1), (0.5, 2), (1.0, 1), (1.0, 2)]
    assert run_workflow(imported).runs == imported.runs
    assert "wf.sweep" in sys.modules and sys.modules["wf.sweep"] is imported
    sys.modules.pop("wf.sweep", None)
    sys.modules.pop("wf", None)


@pytest.mark.parametrize(
    ("module", "values", "message"),
    [
        ("wf2/sweep.py", {"TAU": [1.0]}, r"does not declare 'TAU'.*declares TAUS, SEEDS, label"),
        ("wf2/sweep.py", {"SEEDS": [1.5]}, r"SEEDS\[0\]|wf2\.sweep\.SEEDS"),
        ("wf2/plain.py", {"X": 2}, r"never called workflow_args"),
        ("wf2/twice.py", {"X": 2}, r"calls workflow_args\(\) twice"),
        ("wf2/named.py", {"Y": 2}, r"does not declare 'Y'.*declares X"),
        ("wf2/undefined.py", {}, r"declares 'Z', which is not defined"),
        ("wf2/missing.py", {}, r"there is no file"),
        ("no_such_module_x", {}, r"no module 'no_such_module_x' can be imported"),
    ],
)
def test_run_workflow_errors(
    project: Any, module: str, values: dict[str, Any], message: str
) -> None:
    project.write("wf2/sweep.py", WORKFLOW)
    project.write("wf2/plain.py", "X = 1\n")
    project.write(
        "wf2/twice.py",
        "from smttask import workflow_args\nX = 1\nworkflow_args(globals())\nworkflow_args(globals())\n",
    )
    project.write(
        "wf2/named.py",
        "from smttask import workflow_args\nX = 1\nY = 2\nworkflow_args(globals(), 'X')\n",
    )
    project.write(
        "wf2/undefined.py", "from smttask import workflow_args\nworkflow_args(globals(), 'Z')\n"
    )
    with pytest.raises((WorkflowError, ParamError), match=message):
        run_workflow(module, **values)


def test_set_workflow_args_keeps_sumatratasks_meaning(project: Any) -> None:
    project.write(
        "legacy.py",
        "from smttask.workflows import set_workflow_args\n"
        "a1 = 0\nset_workflow_args(__name__, globals())\n",
    )
    project.write(
        "strict.py",
        "from smttask.workflows import set_workflow_args\n"
        "a1 = 0\nset_workflow_args(__name__, globals(), existing_only=True)\n",
    )
    assert run_workflow("legacy.py", a1=1, exenv="workflow").exenv == "workflow"
    assert run_workflow("strict.py", a1=1).a1 == 1
    with pytest.raises(WorkflowError, match="does not declare 'b1'"):
        run_workflow("strict.py", b1=1)
    assert workflow_args({"__name__": "x", "A": 1}) == {}  # not under run_workflow: no effect
    set_workflow_args("x", {"A": 1})


# ---------------------------------------------------------------------------
# Package surface


def test_importing_smttask_does_not_import_scipy() -> None:
    code = (
        "import sys, smttask; smttask.ParamColl; smttask.expand([1]); print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sumatratask_names() -> None:
    from smttask import workflows

    assert workflows.ParamColl is ParamColl and workflows.expand is expand
    assert workflows.SeedGenerator is SeedGenerator and workflows.run_workflow is run_workflow
    assert isinstance(expand([1]), workflows.Expandable)
    assert {"ParamColl", "expand", "SeedGenerator", "run_workflow", "workflow_args"} <= set(
        smttask.__all__
    )
    assert isinstance(expand([1]), Values) and isinstance(expand(stats.norm(), seed=1), Draws)
