"""Parameter collections: immutable dataclasses whose fields may be expanded into sweeps.

::

    class Sim(ParamColl):
        tau: float
        sigma: float = 1.0
        seed: int = 0

    sweep = Sim(tau=expand([0.5, 1.0, 2.0]), seed=expand([1, 2]))
    sweep.outer()   # 6 points: every combination (the last field varies fastest)
    sweep.inner()   # zips the expanded fields (their lengths must match)

Every field value is validated against its annotation when a collection is made (and never
converted silently: ``1.5`` is refused for an ``int``). A point is an instance of the same
class with no expanded value left. Collections are digested and serialized as task inputs:
their digest covers the class's qualified name and every field (order never matters), and
their task-file form is ``["module.Class", {"field": value, ...}]``, an expanded field's value
written ``{"~expand": [values...]}`` or ``{"~draws": {"dist": ..., "size": ..., "seed": ...}}``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import typing
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from scityping.base import Serializable
from scityping.utils import get_type_key

from ..digest import hash_value
from ..errors import ParamError, short_repr
from .encoding import BaseData, forget_earlier_definition, make_data_class
from .expand import Draws, Expandable, Values
from .validation import validate_value

if TYPE_CHECKING:
    from .product import Points

__all__ = ["ParamColl"]

P = TypeVar("P", bound="ParamColl")
_MISSING: Any = dataclasses.MISSING


class ParamColl(Serializable):
    """Base class of parameter collections. Subclasses are immutable, keyword-only dataclasses
    (no decorator needed) whose fields may hold ``expand(...)`` values.

    A point (no expanded field) unpacks as keyword arguments: ``simulate(**point)``; it is also
    a task input of its own: ``simulate(params=point)`` with ``params: Sim``.
    """

    Data: Any = BaseData

    def __init_subclass__(cls, **kwargs: Any) -> None:
        user_post_init = cls.__dict__.get("__post_init__")
        if user_post_init is not None:
            cls.__post_init__ = _chain_post_init(user_post_init)  # type: ignore[method-assign]
        # ParamColl's own __init__ and __setattr__ (not dataclass's init=True, frozen=True), so
        # that a @dataclass decorator on top gets as far as __post_init__, which explains.
        dataclasses.dataclass(cls, init=False, kw_only=True, eq=False, repr=False)
        fields = dataclasses.fields(cls)
        names = tuple(f.name for f in fields)
        bad = [n for n in names if n.startswith("_") or n in _RESERVED]
        if bad:
            raise ParamError(
                f"{cls.__qualname__}: field name {bad[0]!r} is reserved (names starting with "
                f"'_' and {', '.join(sorted(_PUBLIC_RESERVED))} belong to ParamColl). Rename it."
            )
        cls._smttask_names = names
        cls._smttask_fields = tuple((f.name, f.default, f.default_factory) for f in fields)
        cls.Data = make_data_class(cls)
        forget_earlier_definition(cls)
        super().__init_subclass__(**kwargs)
        # Resolve annotations now, while the defining module is importable (a forward
        # reference to a class defined later is resolved on first use).
        types = {f.name: f.type for f in fields}
        with contextlib.suppress(ParamError):
            types = field_types(cls)
        cls.__signature__ = inspect.Signature(
            [
                inspect.Parameter(
                    f.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=inspect.Parameter.empty if f.default is _MISSING else f.default,
                    annotation=types[f.name],
                )
                for f in fields
            ]
        )

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is ParamColl:
            raise ParamError(
                "ParamColl is a base class: subclass it with annotated fields, e.g. "
                "class Sim(ParamColl): tau: float."
            )
        return super().__new__(cls)

    def __init__(self, *args: Any, **values: Any) -> None:
        cls = type(self)
        if args:
            raise ParamError(
                f"{cls.__qualname__} takes its fields by name: "
                f"{cls.__qualname__}({', '.join(f'{n}=...' for n in cls._smttask_names)})."
            )
        unknown = [k for k in values if k not in cls._smttask_names]
        if unknown:
            raise ParamError(
                f"{cls.__qualname__} has no field {unknown[0]!r}; its fields are "
                f"{', '.join(cls._smttask_names)}."
            )
        for name, default, factory in cls._smttask_fields:
            if name in values:
                value = values[name]
            elif default is not _MISSING:
                value = default
            elif factory is not _MISSING:
                value = factory()
            else:
                raise ParamError(
                    f"{cls.__qualname__}(...) needs a value for its field {name!r} (no default)."
                )
            object.__setattr__(self, name, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        cls = type(self)
        options = cls.__dict__.get("__dataclass_params__")
        if options is None or options.init or options.eq or options.frozen:
            raise ParamError(
                f"{cls.__qualname__} is decorated with @dataclass, which replaces the equality, "
                f"hashing and immutability ParamColl gives it. Remove the decorator: subclasses "
                f"of ParamColl are immutable, keyword-only dataclasses already."
            )
        for name, annotation in field_types(cls).items():
            value = _validate_field(cls, name, annotation, getattr(self, name))
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_smttask_digest", None)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_smttask_digest" in self.__dict__:  # set once __post_init__ has validated it all
            raise dataclasses.FrozenInstanceError(
                f"cannot assign to field {name!r}: {type(self).__qualname__} is immutable. Make "
                f"a changed copy: .replace({name}=...)."
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(
            f"cannot delete field {name!r}: {type(self).__qualname__} is immutable."
        )

    @classmethod
    def validate(cls, value: Any, field: Any = None) -> Any:
        """Validation as a task input (pydantic): an instance of `cls`, or its serialized
        form ``["module.Class", {...}]`` naming `cls` or a subclass. Nothing is converted."""
        if isinstance(value, cls):
            return value
        serialized = isinstance(value, (list, tuple)) and len(value) == 2
        if not (serialized and isinstance(value[0], str)) and not isinstance(value, cls.Data):
            raise TypeError(
                f"expected a {cls.__qualname__} (make one: {cls.__qualname__}(**values)), got "
                f"{type(value).__qualname__} {short_repr(value, 60)}"
            )
        target = cls._registry.get(value[0]) if serialized else None
        if serialized and (target is None or get_type_key(target).lower() != value[0].lower()):
            raise TypeError(
                f"expected a {cls.__qualname__}, got the serialized form of {value[0]!r}, which "
                f"is not {cls.__qualname__} or a subclass of it"
            )
        return super().validate(value)

    @classmethod
    def _point(cls: type[P], values: dict[str, Any]) -> P:
        """A point from values that are valid already (no validation: the fast path)."""
        obj = object.__new__(cls)
        state = obj.__dict__  # the fields live in the instance dict
        state.update(values)
        state["_smttask_digest"] = None
        return obj

    # -- the points ---------------------------------------------------------------------------

    def outer(self: P) -> Points[P]:
        """Every combination of the expanded fields' values (the last field varies fastest)."""
        from .product import Plan, Points

        return Points(Plan(self, "outer"))

    def inner(self: P) -> Points[P]:
        """The expanded fields' values taken together, like zip (their lengths must match)."""
        from .product import Plan, Points

        return Points(Plan(self, "inner"))

    @property
    def expanded(self) -> tuple[str, ...]:
        """Dotted paths of the expanded fields (``()`` for a point)."""
        out: list[str] = []
        for name in self.keys():
            value = getattr(self, name)
            if isinstance(value, Expandable):
                out.append(name)
            elif isinstance(value, ParamColl):
                out.extend(f"{name}.{path}" for path in value.expanded)
        return tuple(out)

    @property
    def outer_len(self) -> int:
        """``len(self.outer())``."""
        return len(self.outer())

    @property
    def inner_len(self) -> int | None:
        """``len(self.inner())``, or None when the expanded fields' lengths differ."""
        try:
            return len(self.inner())
        except ParamError:
            return None

    def replace(self: P, **changes: Any) -> P:
        """A copy with some fields changed (validated like a new collection)."""
        return dataclasses.replace(self, **changes)

    # -- as a mapping of field names to values ------------------------------------------------

    def keys(self) -> tuple[str, ...]:
        return type(self)._smttask_names

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, k) for k in self.keys())

    def items(self) -> tuple[tuple[str, Any], ...]:
        return tuple((k, getattr(self, k)) for k in self.keys())

    def __getitem__(self, name: str) -> Any:
        if not isinstance(name, str):
            raise TypeError(
                f"{type(self).__qualname__}[{name!r}]: fields are looked up by name "
                f"(point['tau']). For the points, index coll.outer() or coll.inner()."
            )
        if name not in self.keys():
            raise KeyError(
                f"{type(self).__qualname__} has no field {name!r}; its fields are "
                f"{', '.join(self.keys())}."
            )
        return getattr(self, name)

    def __contains__(self, name: object) -> bool:
        return name in self.keys()

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(
            f"{type(self).__qualname__} is not iterable: iterate over .outer() or .inner() for "
            f"the points, or over .keys() for the field names."
        )

    # -- identity -----------------------------------------------------------------------------

    def __smttask_digest__(self) -> str:
        cached: str | None = self.__dict__.get("_smttask_digest")
        if cached is None:
            fields = {name: getattr(self, name) for name in self.keys()}
            cached = hash_value(["smttask.params/1", _type_name(type(self)), fields]).hex()
            object.__setattr__(self, "_smttask_digest", cached)
        return cached

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParamColl):
            return NotImplemented
        return type(other) is type(self) and other.__smttask_digest__() == self.__smttask_digest__()

    def __hash__(self) -> int:
        return hash(self.__smttask_digest__())

    def __repr__(self) -> str:
        parts = [f"{k}={_value_repr(getattr(self, k))}" for k in self.keys()]
        return f"{type(self).__qualname__}({', '.join(parts)})"

    # -- serialized form ----------------------------------------------------------------------


def _chain_post_init(user: Any) -> Any:
    def __post_init__(self: ParamColl) -> None:
        ParamColl.__post_init__(self)
        user(self)

    return __post_init__


def field_names(coll: ParamColl) -> tuple[str, ...]:
    return type(coll)._smttask_names


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def field_types(cls: type) -> dict[str, Any]:
    types: dict[str, Any] | None = cls.__dict__.get("_smttask_types")
    if types is None:
        try:
            hints = typing.get_type_hints(cls)
        except NameError as exc:
            raise ParamError(
                f"{cls.__qualname__}: cannot resolve the annotation of a field ({exc}). Import "
                f"the type in the module that defines {cls.__qualname__}."
            ) from None
        types = {name: hints[name] for name in cls._smttask_names}  # type: ignore[attr-defined]
        type.__setattr__(cls, "_smttask_types", types)
    return types


def _validate_field(cls: type, name: str, annotation: Any, value: Any) -> Any:
    what = f"{cls.__qualname__}.{name}"
    if isinstance(value, Values):
        return Values(
            validate_value(annotation, v, f"{what}[{i}]") for i, v in enumerate(value.values)
        )
    if isinstance(value, Draws):
        return value  # drawn values are validated when drawn
    return validate_value(annotation, value, what)


def _value_repr(value: Any) -> str:
    if isinstance(value, (Expandable, ParamColl)):
        return repr(value)
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    return short_repr(value, 60)


# Names subclasses may not use for fields: everything ParamColl defines.
_RESERVED = frozenset(dir(ParamColl))
_PUBLIC_RESERVED = frozenset(n for n in _RESERVED if not n.startswith("_"))
