"""Which task files an export loads back: one per kind of task that could fail to round-trip.

Loading a task file back (decoding every input under the strict rules) and comparing digests
shows whether the inputs survive serialization. Whether they do depends on the task type and
on the classes of its input values, not on each value: ``InputShapes`` names that class, the
*shape* of a task, so that an export loads back one task file per shape instead of every one.

A shape holds the task type and, for each input in order, the shape of its value:

- ``None``, bools and strings: their type (a subclass of str or int is its own type);
- ints: the type, and whether it needs more than 64 bits; floats (and their subclasses, e.g.
  ``numpy.float64``): the type, and whether the value is not finite or written with a
  three-digit exponent (the literals a task file's reader checks one by one);
- bytes: whether they are UTF-8 text (written as text) or not (written base85-encoded);
- Enum members: the type and the member; paths: the type and whether the path is absolute;
- lists, tuples and their subclasses: the type and the shapes of the items in order, a run of
  items of one shape counting once (the length of a list is not a class of value); sets: the
  type and the set of their items' shapes;
- dicts and their subclasses: the type, each string key itself (a key spelling a number, or the
  key marking an embedded task, decodes differently) and the shape of its value, in order;
- numpy arrays without Python objects: the type, dtype, number of dimensions and whether the
  array is empty; numpy scalars: the type and dtype;
- an upstream task: its own shape (its type and inputs), found once per task object;
- any other value (a pydantic model, a scityping type, an object array, ...): the object
  itself, by identity: every task holding a different such object has a shape of its own.

A task whose identity depends on a task output (``digest_from_output``, its own or upstream)
has a shape of its own too: its task file records no digest, so ``smttask run`` cannot refuse
it later, and the export check is the only one.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Hashable, Iterable
from pathlib import PurePath
from typing import Any

from ..task import Task
from ..taskfile import FORMAT_KEY

#: Floats written with a three-digit exponent (checked one by one by a task file's reader)
#: are at least this large, or smaller than its inverse.
_WIDE = 1e99


class InputShapes:
    """The shapes of tasks, each upstream task's found once (``shape(task)``)."""

    def __init__(self) -> None:
        self._tasks: dict[int, tuple[Task, int, bool]] = {}
        self._numbers: dict[Hashable, int] = {}  # a task's shape by number: nesting costs no more
        self._held: list[Any] = []  # objects named by identity stay alive as long as their name
        self._alone = False  # the task being shaped depends on a task output

    def shape(self, task: Task) -> int:
        """The shape of `task`, numbered: tasks of one shape load back alike (see the module's
        doc)."""
        return self._task(task)[0]

    def _task(self, task: Task) -> tuple[int, bool]:
        found = self._tasks.get(id(task))
        if found is not None:
            return found[1], found[2]
        outer, self._alone = self._alone, bool(task.digest_from_output)
        try:
            inputs = tuple((name, self._value(v)) for name, v in task.inputs.items())
            alone = self._alone
        finally:
            self._alone = outer
        key: Hashable = ("alone", id(task)) if alone else (type(task), inputs)
        shape = self._numbers.setdefault(key, len(self._numbers))
        self._tasks[id(task)] = (task, shape, alone)
        return shape, alone

    def _value(self, v: Any) -> object:  # hashable: types, and tuples of shapes
        t = type(v)
        if v is None or t is bool or t is str:
            return t
        if isinstance(v, enum.Enum):  # before int and str: IntEnum and (str, Enum) are both
            return (t, v.name)
        if isinstance(v, float):
            return (t, v != 0.0 and not 1 / _WIDE <= abs(v) < _WIDE)  # also inf and nan
        if isinstance(v, int):
            return (t, v.bit_length() > 64)
        if isinstance(v, str):
            return t
        if isinstance(v, Task):
            shape, alone = self._task(v)
            self._alone = self._alone or alone
            return (Task, shape)
        if isinstance(v, (list, tuple)):
            return (t, _runs(self._value(x) for x in v))
        if isinstance(v, (set, frozenset)):
            return (t, frozenset(self._value(x) for x in v))
        if isinstance(v, dict) and not getattr(v, "__smttask_unordered__", False):
            return (
                t,
                FORMAT_KEY in v,
                tuple(
                    (k if type(k) is str else self._value(k), self._value(x)) for k, x in v.items()
                ),
            )
        if isinstance(v, bytes) and t is bytes:
            return (t, _utf8(v))
        if isinstance(v, PurePath):
            return (t, v.is_absolute())
        np = sys.modules.get("numpy")  # no value is a numpy one unless numpy was imported
        if np is not None:
            if isinstance(v, np.ndarray) and not v.dtype.hasobject:
                return (t, v.dtype, v.ndim, v.size == 0)
            if isinstance(v, np.generic) and not v.dtype.hasobject:
                return (t, v.dtype)
        self._held.append(v)
        return ("object", id(v))


def _runs(shapes: Iterable[object]) -> tuple[object, ...]:
    """`shapes` in order, each run of equal ones once."""
    out: list[object] = []
    for s in shapes:
        if not out or out[-1] != s:
            out.append(s)
    return tuple(out)


def _utf8(b: bytes) -> bool:
    try:
        b.decode()
    except UnicodeDecodeError:
        return False
    return True
