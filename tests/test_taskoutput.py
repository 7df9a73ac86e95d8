"""Named outputs: construction, validation, access."""

from __future__ import annotations

from typing import Tuple

import numpy as np
import pytest
from scityping.numpy import Array

from smttask import TaskOutput
from smttask.errors import OutputError, TaskDefinitionError, TaskInputError
from smttask.taskoutput import OutputSpec


class Fit(TaskOutput):
    slope: float
    residuals: Array[float, 1]


def test_values_by_name_position_and_unpacking() -> None:
    fit = Fit(2, residuals=np.zeros(3))
    assert fit.slope == 2.0 and type(fit.slope) is float
    assert fit["slope"] == fit[0] == 2.0
    slope, residuals = fit
    assert slope == 2.0
    assert len(fit) == 2 and residuals.shape == (3,)
    assert fit == Fit(slope=2.0, residuals=np.zeros(3))
    assert "Fit(slope=2.0" in repr(fit)


def test_wrong_values_are_reported() -> None:
    with pytest.raises(TaskInputError, match=r"output 'slope' = 'steep'"):
        Fit(slope="steep", residuals=np.zeros(1))
    with pytest.raises(TypeError, match=r"missing outputs \['residuals'\]"):
        Fit(slope=1.0)
    with pytest.raises(TypeError, match=r"no output named 'offset'"):
        Fit(slope=1.0, residuals=np.zeros(1), offset=0.0)


def test_a_taskoutput_needs_fields() -> None:
    with pytest.raises(TaskDefinitionError, match="declares no outputs"):

        class Empty(TaskOutput):
            pass


def test_output_spec_accepts_tuples_dicts_and_instances_and_takes_the_outcome() -> None:
    spec = OutputSpec.from_annotation(Fit)
    assert spec.names == ("slope", "residuals")
    from_tuple, _ = spec.make_result((1.0, np.ones(2)), "fit")
    from_dict, outcome = spec.make_result(
        {"slope": 1.0, "residuals": np.ones(2), "outcome": "converged"}, "fit"
    )
    assert from_tuple == from_dict and outcome == "converged"
    assert spec.join(spec.split(from_dict)) == from_dict
    with pytest.raises(OutputError, match=r"fit returned .* does not fit its declared outputs"):
        spec.make_result((1.0,), "fit")


def test_single_outputs() -> None:
    spec = OutputSpec.from_annotation(Tuple[float, float])
    assert spec.names == ("",)
    result, outcome = spec.make_result([1, 2], "pair")
    assert result == (1.0, 2.0) and outcome == ""
    with pytest.raises(OutputError, match=r"pair.*Tuple\[float, float\]"):
        spec.make_result("x", "pair")
