"""Field values that stand for several values: the axes of a parameter sweep.

``expand(values)`` lists the values a field takes; ``expand(dist, size=N, seed=S)`` draws N
values from a frozen ``scipy.stats`` distribution; ``expand(dist, seed=S)`` draws one value
for each point of the product the collection is iterated in.

Random values come from a PCG64 generator whose entropy is
``hash_value(["smttask.params.draws/1", seed, field_name])`` (smttask's stable digest): the
same seed and field name give the same values in every process and on every machine (for a
given numpy and scipy), and each field has its own stream, so changing one field's
distribution never changes another's values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from typing import Any

import numpy as np

from ..digest import hash_value
from ..errors import ParamError, short_repr
from .distributions import dist_spec, dist_text, is_distribution, is_scipy, make_dist

__all__ = ["Draws", "Expandable", "Values", "expand"]

#: The keys that mark expanded values in serialized collections.
VALUES_KEY = "~expand"
DRAWS_KEY = "~draws"


class Expandable:
    """A field value standing for several values. Immutable; equal when digests are equal."""

    __slots__ = ()
    #: How many values (None: one per point of the product, decided when iterating).
    size: int | None

    def _token(self) -> list[Any]:
        raise NotImplementedError

    def encode(self) -> dict[str, Any]:
        """The form written into task files: ``{"~expand": [...]}`` or ``{"~draws": {...}}``
        (a JSON object with one key that is never a field name; leaves encoded by smttask)."""
        raise NotImplementedError

    def __smttask_digest__(self) -> str:
        return hash_value(self._token()).hex()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expandable):
            return NotImplemented
        return type(other) is type(self) and other.__smttask_digest__() == self.__smttask_digest__()

    def __hash__(self) -> int:
        return hash(self.__smttask_digest__())


class Values(Expandable):
    """The listed values of one field: ``expand([0.5, 1.0, 2.0])``."""

    __slots__ = ("size", "values")
    values: tuple[Any, ...]
    size: int

    def __init__(self, values: Iterable[Any]) -> None:
        items = tuple(values)
        object.__setattr__(self, "values", items)
        object.__setattr__(self, "size", len(items))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self!r} is immutable: make a new one with expand([...]).")

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> Any:
        return self.values[index]

    def _token(self) -> list[Any]:
        return ["smttask.params.values/1", list(self.values)]

    def encode(self) -> dict[str, Any]:
        return {VALUES_KEY: list(self.values)}

    def __repr__(self) -> str:
        shown = ", ".join(short_repr(v, 30) for v in self.values[:6])
        more = f", … ({len(self.values)} values)" if len(self.values) > 6 else ""
        return f"expand([{shown}{more}])"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Values, (self.values,))


class Draws(Expandable):
    """Seeded draws from a frozen scipy.stats distribution: ``expand(dist, size=10, seed=1)``."""

    __slots__ = ("_cache", "dist", "seed", "size", "spec")
    _cache: dict[tuple[str, int], list[Any]]
    dist: Any
    seed: int
    spec: dict[str, Any]

    def __init__(self, dist: Any, *, size: int | None, seed: int) -> None:
        spec = dist_spec(dist)
        for name, value in (("dist", dist), ("size", size), ("seed", seed), ("spec", spec)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_cache", {})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self!r} is immutable: make a new one with expand(dist, ...).")

    def draw(self, field: str, n: int) -> list[Any]:
        """The first `n` values of field `field`'s stream (the same in every process)."""
        key = (field, n)
        cached = self._cache.get(key)
        if cached is None:
            entropy = int.from_bytes(
                hash_value(["smttask.params.draws/1", self.seed, field]), "little"
            )
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
            raw = np.asarray(self.dist.rvs(size=n, random_state=rng))
            if self.spec["dist"] == "multivariate_normal":
                cached = list(raw.reshape(n, len(self.spec["mean"])))
            else:
                cached = raw.reshape(n).tolist()
            self._cache[key] = cached
        return list(cached)

    def _token(self) -> list[Any]:
        return ["smttask.params.draws/1", self.spec, self.size, self.seed]

    def encode(self) -> dict[str, Any]:
        return {DRAWS_KEY: {**self.spec, "size": self.size, "seed": self.seed}}

    def __repr__(self) -> str:
        size = "" if self.size is None else f", size={self.size}"
        return f"expand({dist_text(self.spec)}{size}, seed={self.seed})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_draws_from_spec, (self.encode(),))


def expand(values: Any, /, *, size: int | None = None, seed: int | None = None) -> Expandable:
    """Let a field take several values: a list (or any ordered iterable, numpy array rows...),
    or seeded draws from a frozen scipy.stats distribution.

    >>> expand([0.5, 1.0, 2.0])
    expand([0.5, 1.0, 2.0])

    ``expand(scipy.stats.lognorm(1), size=20, seed=1)`` draws 20 values (an axis of 20, like a
    list); without `size`, one value is drawn for each point of the product being iterated.
    """
    if is_distribution(values):
        dist_spec(values)  # a clear error for unfrozen or unsupported distributions first
        if seed is None:
            raise ParamError(
                f"expand({short_repr(values)}) draws random values, so it needs a seed: "
                f"expand(dist, size=..., seed=1). The same seed gives the same values in every "
                f"process; use different seeds for independent samples."
            )
        return Draws(values, size=_check_size(size), seed=_check_seed(seed))
    if size is not None or seed is not None:
        raise ParamError(
            f"expand({short_repr(values)}, size=..., seed=...): size and seed apply to random "
            f"draws from a frozen scipy.stats distribution; a list of values takes neither."
        )
    return Values(_ordered_values(values))


def _ordered_values(values: Any) -> tuple[Any, ...]:
    if isinstance(values, Expandable):
        raise ParamError(f"expand({values!r}): the value is expanded already; expand it once.")
    if isinstance(values, (str, bytes)):
        raise ParamError(
            f"expand({values!r}) would sweep over the characters of a string. Pass a list: "
            f"expand([{values!r}, ...])."
        )
    if isinstance(values, (Set, Mapping)):
        raise ParamError(
            f"expand({short_repr(values)}): a {type(values).__name__} has no stable order, so "
            f"the points would be numbered differently in each process. Pass a list, e.g. "
            f"expand(sorted(values))."
        )
    if isinstance(values, np.ndarray) and values.ndim == 0:
        raise ParamError(f"expand({values!r}): a 0-d array holds one value; pass a list.")
    if not isinstance(values, Iterable) or is_scipy(type(values)):
        raise ParamError(
            f"expand({short_repr(values)}) takes a list of values (or any ordered iterable) or "
            f"a frozen scipy.stats distribution, e.g. expand([1, 2, 3]) or "
            f"expand(scipy.stats.norm(0, 1), size=10, seed=1); got a {type(values).__name__}."
        )
    items = tuple(values)
    if not items:
        raise ParamError("expand([]) gives no value at all: list at least one value.")
    return items


def _check_size(size: Any) -> int | None:
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size > 0:
        return int(size)
    raise ParamError(f"expand(dist, size={size!r}): size must be a positive integer or omitted.")


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    raise ParamError(f"expand(dist, seed={seed!r}): the seed must be an integer.")


def _draws_from_spec(data: Mapping[str, Any]) -> Draws:
    return decode_expandable(data, "a pickled value")  # type: ignore[return-value]


def is_encoded_expandable(value: Any) -> bool:
    """Whether `value` has the serialized form of expanded values (``{"~expand": ...}``)."""
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _KEYS


_KEYS = (VALUES_KEY, DRAWS_KEY)


def decode_expandable(data: Mapping[str, Any], where: str) -> Expandable:
    """The Values or Draws that ``Expandable.encode()`` described (raw values not yet
    validated: the collection validates them against the field's annotation)."""
    values = data.get(VALUES_KEY)
    if isinstance(values, list) and values:
        return Values(values)
    draws = data.get(DRAWS_KEY)
    if isinstance(draws, Mapping) and {"size", "seed"} <= set(draws):
        spec = {k: v for k, v in draws.items() if k not in ("size", "seed")}
        return Draws(
            make_dist(spec), size=_check_size(draws["size"]), seed=_check_seed(draws["seed"])
        )
    raise ParamError(
        f"{where}: {short_repr(data)} does not describe expanded values: expected "
        f'{{"{VALUES_KEY}": [...]}} or {{"{DRAWS_KEY}": {{"dist": ..., "size": ..., "seed": ...}}}}.'
    )
