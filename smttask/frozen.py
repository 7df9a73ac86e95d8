"""A base for small immutable value classes.

A subclass names its fields in ``__slots__`` and, in constructor order, in ``FIELDS``; its
``__init__`` hands the values to ``_set``. Instances of one class are equal when their fields
are, hash by them, show like a dataclass and refuse assignment. (A plain class: cheaper to
define than a frozen dataclass, whose generated code ``import smttask`` would pay for.)
"""

from __future__ import annotations

from typing import ClassVar


class Frozen:
    __slots__ = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def _set(self, *values: object) -> None:
        for name, value in zip(self.FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Frozen)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__name__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")
