"""Task types made from other things: ``Create`` (a task that constructs an object) and
``Join`` (one recorded task gathering the results of many tasks of one type).

Both make ordinary task types, so their tasks save, load, digest and run like any other:

- ``CreateModel = Create(Model)`` at the top level of a tasks module is a ``MemoizedTask``
  type named ``CreateModel`` whose inputs are the parameters of ``Model``'s constructor
  (each annotated) and whose result is ``Model(**inputs)``. Its task files name it like any
  task (module + name), so it must be bound to that name in the module: saving refuses
  otherwise.
- ``Join(tasks)`` (or ``Join(t1, t2, ...)``) is a ``RecordedTask`` whose input is the list of
  tasks and whose result is the list of their results, in order. Its type is made from the
  joined task type (``Join[simulate]`` in task files, found again from ``simulate``), so it
  needs no declaration.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Iterable
from typing import Any, cast

from . import taskfile
from .errors import TaskDefinitionError, TaskInputError, short_repr
from .kinds import MemoizedTask, RecordedTask
from .node import TaskNode
from .task import Task

__all__ = ["Create", "Join", "join_type"]


def Create(cls: type, *, name: str | None = None, module: str | None = None) -> type[Task]:
    """A ``MemoizedTask`` type constructing `cls`: ``Create(Model)(a=1, b=2)`` is a task
    whose result is ``Model(a=1, b=2)``.

    Bind it at the top level of a module: ``CreateModel = Create(Model)``. `name` (default
    ``Create<ClassName>``) is the name it is bound to and `module` (default: the calling
    module) where; both identify its task files and enter its digest.
    """
    if not isinstance(cls, type):
        raise TaskDefinitionError(f"Create() takes a class, not {short_repr(cls)}.")
    name = name or f"Create{cls.__name__}"
    if not name.isidentifier():
        raise TaskDefinitionError(
            f"Create({cls.__qualname__}, name={name!r}): the name must be a Python identifier "
            f"(the module-level name the task type is bound to)."
        )
    if module is None:
        module = sys._getframe(1).f_globals.get("__name__", cls.__module__)
    try:
        sig = inspect.signature(cls)
        # Fields declared on the class (dataclasses, pydantic models), then the constructor's.
        hints = {**typing.get_type_hints(cls), **typing.get_type_hints(cls.__init__)}  # type: ignore[misc]
    except (TypeError, ValueError, NameError) as exc:
        raise TaskDefinitionError(
            f"Create({cls.__qualname__}): cannot read the constructor's signature ({exc}). "
            f"Write a MemoizedTask that builds the object instead."
        ) from None

    def create(**inputs: Any) -> Any:
        return cls(**inputs)

    create.__signature__ = sig.replace(return_annotation=cls)  # type: ignore[attr-defined]
    create.__annotations__ = {
        **{p: hints[p] for p in sig.parameters if p in hints},
        "return": cls,
    }
    create.__name__ = create.__qualname__ = name
    create.__module__ = module
    create.__doc__ = f"Create a {cls.__qualname__} (from {cls.__module__})."
    task_type = cast("type[Task]", MemoizedTask(create))
    task_type._generated = True  # type: ignore[attr-defined]  # checked by taskfile.describe
    return task_type


_join_types: dict[type, type[Task]] = {}


def join_type(task_type: type[TaskNode]) -> type[Task]:
    """The ``RecordedTask`` type joining tasks of `task_type` (made once per type)."""
    made = _join_types.get(task_type)
    if made is not None:
        return made
    spec = task_type._spec
    if spec.output.taskoutput is not None:
        raise TaskDefinitionError(
            f"Join() of {spec.taskname}: its result has named outputs "
            f"({', '.join(spec.output.names)}), which a list of results cannot store. Join "
            f"tasks that return one value (e.g. a task per output), or write a RecordedTask "
            f"taking the list of results it needs."
        )
    result = spec.output.annotation

    def join(tasks: Any) -> Any:
        return list(tasks)

    join.__annotations__ = {"tasks": list[result], "return": list[result]}  # type: ignore[valid-type]
    join.__name__ = f"Join_{spec.name}"
    join.__qualname__ = f"Join[{spec.qualname}]"
    join.__module__ = spec.module
    join.__doc__ = f"The results of tasks {spec.taskname}, in order."
    new = cast("type[Task]", RecordedTask(join))
    _join_types[task_type] = new
    return new


def Join(*tasks: Any) -> Task:
    """One recorded task whose result is the list of the results of `tasks` (all of one task
    type), in order: ``Join(tasks)`` or ``Join(t1, t2, ...)``."""
    if len(tasks) == 1 and isinstance(tasks[0], Iterable) and not isinstance(tasks[0], TaskNode):
        tasks = tuple(tasks[0])
    if not tasks:
        raise TaskInputError("Join() needs at least one task to join.")
    not_tasks = [t for t in tasks if not isinstance(t, TaskNode)]
    if not_tasks:
        raise TaskInputError(f"Join() joins tasks; got {short_repr(not_tasks[0])}.")
    types = {type(t) for t in tasks}
    if len(types) > 1:
        names = sorted(t._spec.taskname for t in types)
        raise TaskInputError(
            f"Join() joins tasks of one type; got {', '.join(names)}. Join each type on its "
            f"own, or write a task taking the results of both."
        )
    return join_type(types.pop())(tasks=list(tasks))


taskfile.register_generated("Join", join_type)
