"""The task-file form of parameter collections (scityping's ``Serializable`` protocol).

A collection is written ``["module.Class", {"field": value, ...}]``; an expanded field's value
is ``{"~expand": [values...]}`` or ``{"~draws": {"dist": ..., "size": ..., "seed": ...}}``
(a dict with one of those single keys is refused as a plain value, so nothing reads back
differently). Each subclass gets its own nested ``Data`` dataclass, so the serialized name
selects exactly one class, among those the annotation allows.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from scityping.base import Serializable
from scityping.utils import get_type_key

from ..errors import ParamError, SerializationError, short_repr
from .expand import Expandable, decode_expandable, is_encoded_expandable

if TYPE_CHECKING:
    from .collection import ParamColl

__all__ = ["BaseData", "decode", "encode", "forget_earlier_definition", "make_data_class"]


class BaseData:
    """ParamColl's own ``Data`` (scityping requires one); subclasses make theirs."""

    @staticmethod
    def encode(coll: ParamColl) -> Any:
        raise ParamError(f"{coll!r}: only subclasses of ParamColl are serialized.")


def make_data_class(cls: type[ParamColl]) -> type:
    """The nested ``Data`` of a subclass: a dataclass with one field per collection field
    (scityping reduces it to ``{"field": value, ...}`` and builds it back from that dict)."""

    def __init__(self: Any, **fields: Any) -> None:
        self.__dict__.update(fields)  # unknown or missing names are reported by decode

    def encode_data(data_cls: type, coll: ParamColl) -> Any:
        return data_cls(**encode(coll))

    def decode_data(data: Any) -> ParamColl:
        return decode(cls, dict(vars(data)))

    namespace = {
        "__init__": __init__,
        "encode": classmethod(encode_data),
        "decode": staticmethod(decode_data),
        "__qualname__": f"{cls.__qualname__}.Data",
        "__module__": cls.__module__,
    }
    names = cls._smttask_names
    fields = [(name, Any, dataclasses.field(default=None)) for name in names]
    data_cls = dataclasses.make_dataclass("Data", fields, namespace=namespace, init=False, eq=False)
    data_cls.__pydantic_model__ = None  # type: ignore[attr-defined]  # scityping: no field checks
    return data_cls


def encode(coll: ParamColl) -> dict[str, Any]:
    """The fields of `coll` by name, expanded ones in their marked form."""
    out: dict[str, Any] = {}
    for name in coll._smttask_names:
        value = getattr(coll, name)
        if isinstance(value, Expandable):
            out[name] = value.encode()
        elif is_encoded_expandable(value):
            raise SerializationError(
                f"{type(coll).__qualname__}.{name} = {short_repr(value)}: a dict with the "
                f"single key {next(iter(value))!r} would read back as expanded values. "
                f"Use another key."
            )
        else:
            out[name] = value
    return out


def decode(cls: type[ParamColl], data: dict[str, Any]) -> Any:
    """An instance of `cls` from its fields as read from a file (validated like a new one)."""
    raw = dict(data)
    where = f"serialized {cls.__qualname__}"
    names = cls._smttask_names
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ParamError(
            f"{where} has field {unknown[0]!r}, which {cls.__qualname__} does not define "
            f"(fields: {', '.join(names)}). Was the field renamed? Regenerate the file from the "
            f"current code."
        )
    for name, default, factory in cls._smttask_fields:
        if name not in raw and default is dataclasses.MISSING and factory is dataclasses.MISSING:
            raise ParamError(f"{where} lacks the required field {name!r}.")
    for name, value in raw.items():
        if is_encoded_expandable(value):
            raw[name] = decode_expandable(value, f"{where}, field {name!r}")
    return cls(**raw)


def forget_earlier_definition(cls: type) -> None:
    """A class redefined under the same name (module reloaded, workflow run again) replaces
    the earlier one in scityping's registries, so serialized values decode to the new one."""
    key = get_type_key(cls).lower()
    for base in type.mro(cls)[1:]:
        registry: Any = getattr(base, "_registry", None)
        if issubclass(base, Serializable) and registry is not None and key in registry:
            del registry[key]
