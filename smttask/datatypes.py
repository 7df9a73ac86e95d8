"""Which classes a file may name: scityping's data classes and the types of an annotation.

A type reference in a file (scityping's ``Type``: a module and a qualified name) resolves, while
smttask decodes (``smttask.decoding``), only through these tables: nothing is imported and no
module attribute is read to find it, and nothing in ``__main__`` or ``builtins`` is in them.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

__all__ = ["FORBIDDEN_MODULES", "data_classes", "reachable_types"]

FORBIDDEN_MODULES = frozenset({"__main__", "builtins", "__builtin__"})
_data_class_table: dict[tuple[str, str], type] = {}
_data_class_count = -1


def data_classes() -> dict[tuple[str, str], type]:
    """scityping's data types by (module, qualified name): the registered ``Serializable``
    classes and their ``Data`` classes (rebuilt when a module registers new ones)."""
    global _data_class_count
    from scityping.base import Serializable

    registry = Serializable._registry
    if len(registry) != _data_class_count:
        table: dict[tuple[str, str], type] = {}
        for cls in [*registry.values(), Serializable]:
            for c in (cls, getattr(cls, "Data", None)):
                if isinstance(c, type) and c.__module__ not in FORBIDDEN_MODULES:
                    table[(c.__module__, c.__qualname__)] = c
        _data_class_table.clear()
        _data_class_table.update(table)
        _data_class_count = len(registry)
    return _data_class_table


def reachable_types(annotation: Any) -> dict[tuple[str, str], type]:
    """The classes `annotation` names, with those of their fields (dataclasses, pydantic
    models, task outputs), by (module, qualified name); ``builtins`` and ``__main__`` left out."""
    out: dict[tuple[str, str], type] = {}
    seen: set[int] = set()
    stack = [annotation]
    while stack:
        a = stack.pop()
        if id(a) in seen or len(seen) > 10_000:
            continue
        seen.add(id(a))
        stack.extend(typing.get_args(a))
        origin = typing.get_origin(a)
        if origin is not None:
            stack.append(origin)
        if not isinstance(a, type):
            continue
        if a.__module__ not in FORBIDDEN_MODULES:
            out[(a.__module__, a.__qualname__)] = a
        stack.extend(_field_types(a))
    return out


def _field_types(cls: type) -> list[Any]:
    found: list[Any] = []
    if dataclasses.is_dataclass(cls):
        try:
            found.extend(typing.get_type_hints(cls).values())
        except Exception:  # unresolvable forward references: the plain annotations
            found.extend(f.type for f in dataclasses.fields(cls))
    fields = cls.__dict__.get("__fields__")
    if isinstance(fields, dict):  # pydantic models
        found.extend(getattr(f, "outer_type_", None) for f in fields.values())
    outputs = getattr(cls, "output_types", None)
    if isinstance(outputs, dict):  # TaskOutput subclasses
        found.extend(outputs.values())
    return found
