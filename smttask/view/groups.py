"""Splitting records into groups by the values of parameters (``RSView.splitby``)."""

from __future__ import annotations

import json
import keyword
from collections.abc import Hashable, Sequence
from typing import Any

from . import keys
from .errors import FilterError
from .record import Record


def group_names(split: Sequence[keys.Key], names: Sequence[str] | None) -> list[str]:
    """The field names of the group keys: `names`, or the last part of each key."""
    chosen = list(names) if names is not None else [keys.parts(k)[-1] for k in split]
    if len(chosen) != len(split):
        raise FilterError(
            f"splitby() was given {len(split)} keys but {len(chosen)} names ({chosen}); give "
            f"one name per key."
        )
    bad = [n for n in chosen if not n.isidentifier() or keyword.iskeyword(n)]
    if bad or len(set(chosen)) != len(chosen):
        problem = f"{bad} are not Python names" if bad else f"{chosen} are not all different"
        raise FilterError(
            f"The names of splitby()'s group keys {problem}. Give names=[...] "
            f"(e.g. splitby({[keys.show(k) for k in split]}, names={['a', 'b'][: len(split)]}))."
        )
    return chosen


def hashable(value: Any) -> Hashable:
    """`value` (JSON data) as a dict key: lists as tuples, mappings as sorted item tuples."""
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), hashable(v)) for k, v in value.items()))
    return value


def _canonical(value: Any) -> str:
    """Text equal for equal JSON values only (1, 1.0 and true differ)."""
    if value is keys.MISSING:
        return "\0missing"
    return json.dumps(value, sort_keys=True, default=repr)


def split(
    records: Sequence[Record], split_keys: Sequence[keys.Key], drop_unused: bool
) -> tuple[list[int], list[tuple[tuple[Any, ...], list[Record]]]]:
    """The groups of `records` (each in their order) by their values at `split_keys`:
    (the positions of the keys kept, [(values at those keys, records)]), groups ordered by
    their values where these compare. With `drop_unused`, only the keys that tell groups
    apart are kept: not those with one value in every group, and, of the others, the
    first ones that are enough."""
    groups: dict[tuple[str, ...], tuple[tuple[Any, ...], list[Record]]] = {}
    for record in records:
        values = tuple(keys.resolve(record.params, k) for k in split_keys)
        found = groups.setdefault(tuple(_canonical(v) for v in values), (values, []))
        found[1].append(record)
    columns = list(range(len(split_keys)))
    if drop_unused and groups:
        columns = _needed(list(groups), columns)
    keyed: dict[tuple[Any, ...], tuple[str, ...]] = {}
    result = []
    for canon, (values, members) in groups.items():
        shown = tuple(hashable(values[i]) for i in columns)
        other = keyed.setdefault(shown, canon)
        if other != canon:
            k = next(i for i in columns if other[i] != canon[i])
            raise FilterError(
                f"Records have {keys.show(split_keys[k])} = {other[k]} and = {canon[k]}: "
                f"different values that Python counts as equal, so they cannot be told apart "
                f"as group keys. Filter the records first (e.g. by task)."
            )
        result.append((shown, members))
    return columns, _ordered(result)


def _needed(groups: list[tuple[str, ...]], columns: list[int]) -> list[int]:
    """Columns of `groups` that are not the same in every group, then only the first of
    them that are enough to tell every group apart."""
    varying = [i for i in columns if len({g[i] for g in groups}) > 1]
    total = len(set(groups))
    for n in range(len(varying) + 1):
        if len({tuple(g[i] for i in varying[:n]) for g in groups}) == total:
            return varying[:n]
    return varying


def _ordered(
    groups: list[tuple[tuple[Any, ...], list[Record]]],
) -> list[tuple[tuple[Any, ...], list[Record]]]:
    """Groups sorted by their key values when they compare, else in the order first seen;
    groups lacking a value (MISSING) last."""

    def order(item: tuple[tuple[Any, ...], list[Record]]) -> tuple[Any, ...]:
        return tuple((v is keys.MISSING, None if v is keys.MISSING else v) for v in item[0])

    try:
        return sorted(groups, key=order)
    except TypeError:
        return groups
