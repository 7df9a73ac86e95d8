"""The points of a parameter collection: outer (crossed) and inner (zipped) products.

A product is a lazy sequence: ``len()``, indexing and slicing compute only the points asked
for (the i-th point of an outer product is found by mixed-radix counting, the last expanded
field varying fastest). Nested collections contribute their expanded fields as axes of their
own, named by dotted paths (``model.tau``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import numpy as np

from ..errors import ParamError
from .collection import ParamColl, field_names, field_types
from .expand import Draws, Values
from .validation import validate_value

__all__ = ["Plan", "Points"]

P = TypeVar("P", bound=ParamColl)


class Plan(Generic[P]):
    """How the points of one product of `coll` are made: its axes and per-point draws."""

    def __init__(self, coll: P, kind: str) -> None:
        self.coll = coll
        self.kind = kind
        self.axes: list[tuple[str, Sequence[Any]]] = []
        per_point: list[tuple[str, Draws, Any, str]] = []
        self.nested: set[str] = set()  # dotted prefixes of nested collections with axes
        self._collect(coll, "", per_point)
        if kind == "outer":
            self.length = math.prod(len(values) for _, values in self.axes)
        else:
            lengths = {path: len(values) for path, values in self.axes}
            if len(set(lengths.values())) > 1:
                listed = ", ".join(f"{path} has {n}" for path, n in lengths.items())
                raise ParamError(
                    f"{type(coll).__qualname__}.inner() takes the expanded fields together, "
                    f"so they need equal lengths, but {listed} values. Give them equal "
                    f"lengths, or use outer() for every combination."
                )
            self.length = next(iter(lengths.values()), 1)
        if per_point and not self.axes:
            path = per_point[0][0]
            raise ParamError(
                f"{type(coll).__qualname__}.{path} draws one value per point, but no other field "
                f"is expanded to set how many points there are. Give it a size: "
                f"expand(dist, size=N, seed=...)."
            )
        self.columns = {
            path: _checked_draws(draws, path.rpartition(".")[2], self.length, ann, what)
            for path, draws, ann, what in per_point
        }
        self._radix = [len(values) for _, values in self.axes]

    def _collect(self, coll: ParamColl, prefix: str, per_point: list[Any]) -> None:
        types = field_types(type(coll))
        for name in field_names(coll):
            value = getattr(coll, name)
            path = prefix + name
            what = f"{type(coll).__qualname__}.{name}"
            if isinstance(value, Values):
                self.axes.append((path, value.values))
            elif isinstance(value, Draws):
                if value.size is None:
                    per_point.append((path, value, types[name], what))
                else:
                    drawn = _checked_draws(value, name, value.size, types[name], what)
                    self.axes.append((path, drawn))
            elif isinstance(value, ParamColl) and value.expanded:
                self.nested.add(path + ".")
                self._collect(value, path + ".", per_point)

    def point(self, index: int) -> P:
        assign: dict[str, Any] = {}
        if self.kind == "outer":
            rest = index
            for (path, values), n in zip(reversed(self.axes), reversed(self._radix)):
                rest, j = divmod(rest, n)
                assign[path] = values[j]
        else:
            for path, values in self.axes:
                assign[path] = values[index]
        for path, column in self.columns.items():
            assign[path] = column[index]
        return self._build(self.coll, assign, "")

    def _build(self, coll: Any, assign: dict[str, Any], prefix: str) -> Any:
        values = {}
        for name in field_names(coll):
            path = prefix + name
            if path in assign:
                values[name] = assign[path]
            elif path + "." in self.nested:
                values[name] = self._build(getattr(coll, name), assign, path + ".")
            else:
                values[name] = getattr(coll, name)
        return type(coll)._point(values)


def _checked_draws(draws: Draws, field: str, n: int, annotation: Any, what: str) -> list[Any]:
    return [
        validate_value(annotation, v, f"{what} (draw {i})")
        for i, v in enumerate(draws.draw(field, n))
    ]


class Points(Sequence[P]):
    """The points of a product: a lazy, indexable sequence of plain collections."""

    def __init__(self, plan: Plan[P], indices: range | None = None) -> None:
        self._plan = plan
        self._indices = range(plan.length) if indices is None else indices

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, index: int) -> P: ...

    @overload
    def __getitem__(self, index: slice) -> Points[P]: ...

    def __getitem__(self, index: int | slice) -> P | Points[P]:
        if isinstance(index, slice):
            return Points(self._plan, self._indices[index])
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"Points are indexed by integers or slices, not {index!r}.")
        try:
            i = self._indices[index]
        except IndexError:
            raise IndexError(
                f"Point {index} does not exist: this product has {len(self)} points."
            ) from None
        return self._plan.point(i)

    def __iter__(self) -> Iterator[P]:
        point = self._plan.point
        for i in self._indices:
            yield point(i)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Points, list, tuple)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        n = len(self)
        title = f"{type(self._plan.coll).__qualname__}.{self._plan.kind}()"
        if self._indices != range(self._plan.length):
            r = self._indices
            title += f"[{r.start}:{r.stop}:{r.step}]"
        shown = list(range(n)) if n <= 6 else [0, 1, 2, None, n - 2, n - 1]
        lines = ["  …" if i is None else f"  {self[i]!r}" for i in shown]
        return "\n".join([f"{title}: {n} point{'s' if n != 1 else ''}", *lines])
