"""Which classes a file may name: scityping's data classes and the types of an annotation.

A type reference in a file (scityping's ``Type``: a module and a qualified name) resolves, while
smttask decodes (``smttask.decoding``), only through these tables: nothing is imported and no
module attribute is read to find it, and nothing in ``__main__`` or ``builtins`` is in them.

scityping's support of some libraries lives in modules of its own (``scityping.scipy``,
``scityping.xarray``...), which import the library. ``load_support(cls)`` imports the one for
the library `cls` comes from, once that library is imported: a value or an annotation of a
library type brings in the serializers of that library, and ``import smttask`` stays light.
``serializer_for(cls)`` is then scityping's serializer of a plain class (``np.random.Generator``
→ ``scityping.numpy.RNGenerator``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys
import typing
from typing import Any

__all__ = [
    "FORBIDDEN_MODULES",
    "data_classes",
    "load_support",
    "reachable_types",
    "serializer_for",
]

#: scityping's modules for libraries it supports, by the library's top-level package. The
#: table is fixed: a name read from a file never chooses what is imported.
_SUPPORT = {
    "scipy": "scityping.scipy",
    "xarray": "scityping.xarray",
    "pint": "scityping.pint",
    "quantities": "scityping.quantities",
    "torch": "scityping.torch",
}

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


def load_support(cls: Any) -> None:
    """Import scityping's support of the library class `cls` belongs to (if it has one and
    the library is imported)."""
    if not isinstance(cls, type):
        return
    top = cls.__module__.partition(".")[0]
    module = _SUPPORT.get(top)
    if module is not None and module not in sys.modules and top in sys.modules:
        # scityping's module may need something this installation lacks
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def serializer_for(cls: Any) -> type | None:
    """scityping's serializer of the plain (non-scityping) class `cls`, or None."""
    from scityping.base import Serializable

    if not isinstance(cls, type) or issubclass(cls, Serializable):
        return None
    load_support(cls)
    registry = Serializable._registry
    for base in cls.__mro__[:-1]:  # not `object`
        found = registry.get(base)
        if found is not None:
            return found
    return None
