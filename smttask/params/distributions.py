"""Frozen scipy.stats distributions as canonical, JSON-compatible descriptions, and back.

``dist_spec(scipy.stats.lognorm(1))`` is ``{"dist": "lognorm", "params": {"s": 1, "loc": 0,
"scale": 1}}``: every parameter by name, positional ones and defaults too, so equal
distributions have equal descriptions (and digests). ``make_dist`` looks the name up in
scipy.stats only, and calls nothing else. Nothing here imports scipy until it is needed.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ParamError, short_repr

__all__ = ["dist_spec", "dist_text", "is_distribution", "is_scipy", "make_dist"]


def is_scipy(t: type) -> bool:
    return t.__module__.startswith("scipy.")


def is_distribution(value: Any) -> bool:
    return "scipy.stats" in sys.modules and is_scipy(type(value)) and hasattr(value, "rvs")


def dist_spec(dist: Any) -> dict[str, Any]:
    """``{"dist": name, "params": {...}}`` for a frozen scipy.stats distribution: every
    parameter by name (positional ones too, and loc/scale defaults), so equal distributions
    have equal descriptions."""
    from scipy import stats

    generic = (stats.rv_continuous, stats.rv_discrete)
    if isinstance(dist, generic):
        raise ParamError(
            f"expand({dist.name}) is a distribution family without parameters: freeze it, "
            f"e.g. scipy.stats.{dist.name}(...) with its parameters."
        )
    if isinstance(dist, stats._multivariate.multivariate_normal_frozen):
        return {
            "dist": "multivariate_normal",
            "mean": [_number(v, "mean") for v in np.asarray(dist.mean).tolist()],
            "cov": [[_number(v, "cov") for v in row] for row in np.asarray(dist.cov).tolist()],
        }
    family: Any = getattr(dist, "dist", None)
    named = getattr(stats, str(getattr(family, "name", "")), None)
    if not _is_family(family, generic, named):
        raise ParamError(
            f"expand({short_repr(dist)}): random fields take the frozen univariate "
            f"distributions of scipy.stats (scipy.stats.norm(0, 1), scipy.stats.poisson(3), "
            f"...) and scipy.stats.multivariate_normal(mean, cov)."
        )
    names = [s.strip() for s in (family.shapes or "").split(",") if s.strip()]
    names += ["loc", "scale"] if isinstance(family, stats.rv_continuous) else ["loc"]
    if len(dist.args) > len(names):
        raise ParamError(f"{short_repr(dist)}: too many parameters for {family.name}.")
    given = dict(zip(names, dist.args))
    for key, value in dist.kwds.items():
        if key not in names or key in given:
            raise ParamError(f"{short_repr(dist)}: unexpected parameter {key!r}.")
        given[key] = value
    defaults = {"loc": 0, "scale": 1}
    params = {}
    for name in names:
        if name not in given and name not in defaults:
            raise ParamError(f"{family.name} needs its parameter {name!r}: {family.name}(...).")
        params[name] = _number(given.get(name, defaults.get(name)), name)
    return {"dist": family.name, "params": params}


def _is_family(value: Any, generic: tuple[type, ...], named: Any) -> bool:
    """Whether `value` is a scipy.stats distribution family (the one named like it)."""
    return isinstance(value, generic) and type(named) is type(value)


def _number(value: Any, name: str) -> int | float:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return value
    raise ParamError(
        f"Distribution parameter {name} = {short_repr(value)}: random fields take distributions "
        f"whose parameters are finite numbers (one distribution per field)."
    )


def make_dist(spec: Mapping[str, Any]) -> Any:
    """The frozen distribution `spec` (from ``dist_spec``) describes. Only scipy.stats
    distributions are looked up; nothing else is called."""
    try:
        from scipy import stats
    except ModuleNotFoundError:
        raise ParamError(
            "This parameter collection draws random values, which needs scipy: "
            "pip install 'smttask[params]'."
        ) from None
    name = spec.get("dist")
    if name == "multivariate_normal" and set(spec) == {"dist", "mean", "cov"}:
        mean = np.array(spec["mean"], dtype=float)
        cov = np.array(spec["cov"], dtype=float)
        return stats.multivariate_normal(mean=mean, cov=cov)
    family = getattr(stats, name, None) if isinstance(name, str) else None
    params = spec.get("params")
    if (
        not isinstance(family, (stats.rv_continuous, stats.rv_discrete))
        or set(spec) != {"dist", "params"}
        or not isinstance(params, Mapping)
    ):
        raise ParamError(
            f"Unknown distribution description {short_repr(dict(spec))}: expected "
            f'{{"dist": <a scipy.stats distribution>, "params": {{...}}}}.'
        )
    return family(**{str(k): _number(v, str(k)) for k, v in params.items()})


def dist_text(spec: Mapping[str, Any]) -> str:
    if spec["dist"] == "multivariate_normal":
        return f"multivariate_normal(mean={spec['mean']}, cov={spec['cov']})"
    args = ", ".join(f"{k}={v!r}" for k, v in spec["params"].items())
    return f"{spec['dist']}({args})"
