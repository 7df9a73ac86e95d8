"""The task node: a lazy, typed call of a pure function, identified by a digest of its inputs.

A task *kind* (``RecordedTask``, ``MemoizedTask``...) is a decorator: applied to a function it
returns a task *type*, a subclass of the kind named after the function. Calling the type
validates the arguments and returns a lazy *task*; ``task.run()`` computes or loads the result.

``TaskNode`` holds all of that and nothing about where results and task files live:
``smttask.task.Task`` adds those on top (``desc``, ``save``, ``from_desc``, ``get_output``,
``output_paths``), and the kinds derive from ``Task``.
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from . import digest as _digest
from . import serialization
from .errors import (
    GraphError,
    SmttaskError,
    TaskDefinitionError,
    TaskExecutionError,
    TaskInputError,
    short_repr,
)
from .taskspec import TaskSpec, build_spec

_MISSING = object()
_SCALARS = frozenset({float, int, str, bool, type(None)})

#: In-memory results by task key (shared by equal tasks).
memory_cache: dict[str, Any] = {}


#: The task whose function is running in this thread (or asyncio context), if any.
_running: ContextVar[TaskNode | None] = ContextVar("smttask_running_task", default=None)


def current_task() -> TaskNode | None:
    """The task whose function is running now (None outside task code).

    Task code reaches its own task through it, e.g. ``current_task().logger.info(...)``
    (see ``task_logger``).
    """
    return _running.get()


def task_logger() -> logging.Logger:
    """The logger of the task whose function is running now (``smttask.task.<name>``); outside
    task code, the ``smttask.task`` logger."""
    task = _running.get()
    return task.logger if task is not None else logging.getLogger("smttask.task")


def clear_memory_cache() -> None:
    """Forget every result kept in memory (MemoizedTask results, RecordedTask(cache=True))."""
    memory_cache.clear()


def is_task(value: Any) -> bool:
    """Whether `value` is a task: its class is made by ``TaskKind`` (a plain type check:
    ``isinstance(value, TaskNode)`` would first walk every task type for a value of a new
    type, since ``TaskNode`` is an abstract base class)."""
    return isinstance(type(value), TaskKind)


#: Each task type's logger, by the type's name (see ``TaskNode.logger``).
_loggers: dict[str, logging.Logger] = {}


class _Visits(threading.local):
    """The tasks this thread is in the middle of (digesting, running, describing...)."""

    def __init__(self) -> None:
        self.stack: list[TaskNode] = []


def enter(visits: _Visits, task: TaskNode, doing: str) -> list[TaskNode]:
    """Mark `task` as being worked on (pop it from the returned stack when done); meeting it
    again before is a dependency cycle, reported with the tasks that form it (instead of a
    RecursionError)."""
    stack = visits.stack
    if any(seen is task for seen in stack):
        raise GraphError(_cycle_message(task, doing))
    stack.append(task)
    return stack


def _cycle_message(task: TaskNode, doing: str) -> str:
    cycle = " -> ".join(t._spec.name for t in _cycle_through(task))
    return (
        f"Task {task._spec.name} depends on itself ({cycle}), found while {doing}: the "
        f"inputs of a task were changed after it was created. Create new tasks instead of "
        f"changing task.inputs."
    )


def _cycle_through(task: TaskNode) -> list[TaskNode]:
    """A path of upstream tasks from `task` back to itself (searched without recursion)."""
    stack: list[tuple[TaskNode, list[TaskNode]]] = [(task, [task])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        for up in node.upstream():
            if up is task:
                return [*path, task]
            if id(up) not in seen:
                seen.add(id(up))
                stack.append((up, [*path, up]))
    return [task, task]


@contextmanager
def visiting(visits: _Visits, task: TaskNode, doing: str) -> Iterator[None]:
    """``enter`` as a context manager."""
    stack = enter(visits, task, doing)
    try:
        yield
    finally:
        stack.pop()


_resolving = _Visits()


class TaskKind(abc.ABCMeta):
    """Metaclass: calling a *kind* decorates a function; calling a *task type* makes a task.

    A class whose own namespace sets ``_is_kind`` is a kind; one that also sets ``_is_base``
    is an abstract base of the kinds (``TaskNode``, ``Task``), which refuses both.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls.__dict__.get("_is_kind", False):
            if cls.__dict__.get("_is_base", False):
                raise TaskDefinitionError(_not_a_kind(cls, args, kwargs))
            return cls._decorate(*args, **kwargs)  # type: ignore[attr-defined]
        return super().__call__(*args, **kwargs)


def _not_a_kind(base: type, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    name = base.__name__
    if len(args) == 1 and not kwargs and callable(args[0]):
        fn = args[0]
        call = f"@{name} on {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"
    else:
        parts = [short_repr(a, 30) for a in args] + [
            f"{k}={short_repr(v, 30)}" for k, v in kwargs.items()
        ]
        call = f"{'@' if kwargs and not args else ''}{name}({', '.join(parts)})"
    kinds = ", ".join(f"@{k}" for k in dict.fromkeys(_kinds_below(base))) or "a task kind"
    return (
        f"{call}: {name} is the abstract base of the task kinds: it neither decorates functions nor makes "
        f"tasks. Decorate the function with one of the kinds: {kinds} (e.g. `from smttask "
        f"import RecordedTask`). To rebuild a task from a task file, use Task.from_desc(path)."
    )


def _kinds_below(cls: type) -> list[str]:
    """Names of the kinds derived from `cls`, depth first in the order they were defined."""
    found: list[str] = []
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        if sub.__dict__.get("_is_kind", False):
            if not sub.__dict__.get("_is_base", False):
                found.append(sub.__name__)
            found.extend(_kinds_below(sub))
    return found


class TaskNode(metaclass=TaskKind):
    """Base of all tasks, without a file format. Task kinds derive from ``smttask.Task``."""

    _spec: ClassVar[TaskSpec]
    _is_kind: ClassVar[bool] = True
    _is_base: ClassVar[bool] = True
    #: Whether downstream tasks see the digest of this task's *output* instead of its own
    #: (its result may change between processes). A task file then records no digest for this
    #: task nor for any task downstream of it: none is known before the task runs.
    digest_from_output: ClassVar[bool] = False

    inputs: dict[str, Any]
    computed: bool
    _key: str | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if TaskNode in cls.__bases__ and not cls.__dict__.get("_is_base", False):
            raise TaskDefinitionError(
                f"{cls.__module__}.{cls.__qualname__} derives from TaskNode directly. Derive a "
                f"new task kind from smttask.Task or from one of its kinds (e.g. MemoizedTask), "
                f"which add task files and stored results to the node."
            )

    # -- creating task types ------------------------------------------------------------------

    @classmethod
    def _decorate(cls, *args: Any, **options: Any) -> Any:
        if len(args) == 1 and not options and callable(args[0]):
            return cls._make_type(args[0], options)
        if args:
            raise TaskDefinitionError(
                f"@{cls.__name__} takes only keyword options, got {short_repr(args)}. Write "
                f"`@{cls.__name__}` or `@{cls.__name__}(cache=True)`."
            )
        return lambda fn: cls._make_type(fn, options)

    @classmethod
    def _make_type(cls, fn: Callable[..., Any], options: Mapping[str, Any]) -> type[TaskNode]:
        options = dict(options)
        kind_options = {k: options.pop(k) for k in list(options) if k.startswith("_")}
        spec = build_spec(fn, cls.__name__, options, cls._kind_identity(kind_options))
        if spec.folder_param is not None and not getattr(cls, "recorded", False):
            raise TaskDefinitionError(
                f"@{cls.__name__} {spec.taskname}: parameter {spec.folder_param!r} is an "
                f"OutputDir, but a {cls.__name__} keeps its result in memory only. Files need "
                f"a task whose results live on disk: use @RecordedTask."
            )
        namespace = {
            "_spec": spec,
            "_is_kind": False,
            "__module__": spec.module,
            "__qualname__": spec.qualname,
            "__doc__": fn.__doc__,
            "__wrapped__": fn,
        }
        namespace.update(cls._type_namespace(spec, kind_options))
        return TaskKind(spec.name, (cls,), namespace)  # type: ignore[return-value]

    @classmethod
    def _type_namespace(cls, spec: TaskSpec, kind_options: Mapping[str, Any]) -> dict[str, Any]:
        """Extra class attributes for a new task type (kinds with their own options)."""
        return {}

    @classmethod
    def _kind_identity(cls, kind_options: Mapping[str, Any]) -> str:
        """What the kind's own options add to the identity of a task type (those that change
        what its tasks compute)."""
        return ""

    # -- creating tasks -----------------------------------------------------------------------

    @classmethod
    def bind(cls, **inputs: Any) -> PartialTask:
        """Fix some inputs now (validated at once); supply the others when calling the result.

        >>> step = simulate.bind(dt=0.01)          # doctest: +SKIP
        >>> tasks = [step(seed=s) for s in range(10)]  # doctest: +SKIP
        """
        if cls.__dict__.get("_is_kind", False):
            raise TaskDefinitionError(
                f"{cls.__name__}.bind() was called on {cls.__name__} itself: bind() fixes inputs "
                f"of a task type (a decorated function), e.g. `simulate.bind(dt=0.01)`."
            )
        return PartialTask(cls, {})._bind(inputs)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], /, **overrides: Any) -> TaskNode:
        """The task with inputs taken from `params` (a dict or a Sumatra ParameterSet), with
        `overrides` replacing some of them. Unknown names are refused, like keywords are."""
        if cls.__dict__.get("_is_kind", False):
            raise TaskDefinitionError(
                f"{cls.__name__}.from_params() was called on {cls.__name__} itself: it makes a "
                f"task of a task type (a decorated function), e.g. `simulate.from_params(p)`."
            )
        if not isinstance(params, Mapping):
            raise TaskInputError(
                f"{cls.__name__}.from_params() takes a mapping of inputs (a dict or a Sumatra "
                f"ParameterSet), not {short_repr(params)}."
            )
        return cls(**{**dict(params), **overrides})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        spec = self._spec
        if len(args) == 1 and _is_parameter_set(spec, args[0]):
            # A dict (or Sumatra ParameterSet) of inputs; keywords override its entries.
            kwargs = {**dict(args[0]), **kwargs}
            args = ()
        given = kwargs
        if args:
            if len(args) > len(spec.params):
                self._bad_call(args, given, f"it takes {len(spec.params)} inputs")
            given = dict(kwargs)
            for name, value in zip(spec.params, args):
                if name in kwargs:
                    self._bad_call(args, kwargs, f"{name!r} is given twice")
                given[name] = value
        inputs: dict[str, Any] = {}
        for name in spec.params:
            value = given.get(name, _MISSING)
            if value is _MISSING:
                value = spec.defaults.get(name, _MISSING)
                if value is _MISSING:
                    self._bad_call(args, kwargs, f"input {name!r} is missing")
                inputs[name] = value
            else:
                inputs[name] = self._validate_input(name, value)
        unknown = [k for k in given if k not in inputs]
        if unknown:
            self._bad_call(args, kwargs, f"it has no input named {', '.join(map(repr, unknown))}")
        self.inputs = inputs
        self._key = None
        self._upstream: tuple[TaskNode, ...] | None = None
        #: The digest; while being computed, the id of the computing thread (meeting it again
        #: in that thread is a dependency cycle).
        self._digest: str | int | None = None
        #: True once run() has called the function in this process (False: result was loaded).
        self.computed = False

    def _bad_call(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], why: str) -> None:
        given = [short_repr(a, 30) for a in args] + [
            f"{k}={short_repr(v, 30)}" for k, v in kwargs.items()
        ]
        raise TaskInputError(
            f"Wrong arguments for {self._spec.signature_text()}: "
            f"{self._spec.name}({', '.join(given)}) was called, but {why}."
        )

    def _validate_input(self, name: str, value: Any) -> Any:
        spec = self._spec
        if type(value) in _SCALARS:
            return spec.validate(name, value)
        if serialization.contains(value, is_task):
            return serialization.validate_around(
                spec.annotations[name],
                value,
                is_task,
                what=f"{spec.name}: input {name!r}",
                check_lazy=_check_upstream,
            )
        return spec.validate(name, value)

    # -- identity -----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def taskname(self) -> str:
        return self._spec.taskname

    @property
    def logger(self) -> logging.Logger:
        """This task type's logger, ``smttask.task.<name>``: what smttask says about loading
        and computing it (at DEBUG level), and a logger for the task's own code (reached from
        inside it with ``smttask.task_logger()``)."""
        name = self._spec.name
        found = _loggers.get(name)
        if found is None:  # (logging keeps one logger per name: it is kept here too)
            found = _loggers[name] = logging.getLogger(f"smttask.task.{name}")
        return found

    @property
    def digest(self) -> str:
        """Hex digest of the task name, its kind, the fingerprint of its code (or its
        ``version``) and its inputs (upstream tasks by their digest).

        Computed once: do not mutate a task's input values after creating it.
        """
        d = self._digest
        if type(d) is str:
            return d
        thread = threading.get_ident()  # stands for the digest while this thread computes it
        if d == thread:
            raise GraphError(_cycle_message(self, "computing its digest"))
        self._digest = thread
        try:
            value = _digest.compute_digest(
                self._spec.taskname, self.inputs, self._spec.digest_extra
            )
        except BaseException:
            if self._digest == thread:
                self._digest = None
            raise
        self._digest = value
        return value

    @property
    def key(self) -> str:
        """Identifies the task's results: its digest (plus the iteration for iterative tasks)."""
        if self._key is None:
            self._key = self.digest
        return self._key

    def __smttask_digest__(self) -> str:
        """What a downstream task's digest covers for this task (see ``digest_from_output``)."""
        if self.digest_from_output:
            return _digest.compute_digest(self._spec.taskname, {"output": self.run()})
        return self.key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskNode):
            return NotImplemented
        return type(other) is type(self) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_input_repr(v)}" for k, v in self.inputs.items())
        return f"{self._spec.name}({args})"

    # -- upstream tasks -----------------------------------------------------------------------

    def upstream(self) -> Sequence[TaskNode]:
        """The tasks this task's inputs depend on directly (in input order, deduplicated).

        Found once, like the digest: do not mutate a task's input values after creating it."""
        known = self._upstream
        if known is None:
            known = self._upstream = tuple(self._find_upstream())
        return list(known)

    def _find_upstream(self) -> list[TaskNode]:
        found: dict[int, TaskNode] = {}

        def collect(v: Any) -> Any:
            found.setdefault(id(v), v)
            return v

        for value in self.inputs.values():
            serialization.substitute(value, is_task, collect)
        return list(found.values())

    def resolved_inputs(self) -> dict[str, Any]:
        """Inputs with every upstream task replaced by its result (running it if needed)."""
        out = {}
        with visiting(_resolving, self, "running its upstream tasks"):
            for name, value in self.inputs.items():
                if serialization.contains(value, is_task):
                    value = serialization.substitute(value, is_task, lambda t: t.run())
                    value = self._spec.validate(name, value)
                out[name] = value
        return out

    # -- running ------------------------------------------------------------------------------

    @abc.abstractmethod
    def run(
        self,
        *,
        recompute: bool = False,
        reason: str | None = None,
        record: bool | None = None,
        cache: bool | None = None,
        progress: bool | None = None,
    ) -> Any:
        """Compute the result, or load it if it exists; return it.

        Per call: `recompute` (compute even if a result exists), `reason` (stored in the
        record), `record` (False: no records for this call), `cache` (keep the result in
        memory, overriding the decorator's ``cache=``), `progress` (show progress).
        """

    def _call(self, inputs: Mapping[str, Any], folder: Any = None) -> tuple[Any, str]:
        """Call the function; return (validated result, outcome). `folder`: the fresh output
        folder given to a task with an ``OutputDir`` parameter."""
        spec = self._spec
        self.computed = True
        token = _running.set(self)
        if spec.folder_param is not None:
            if folder is None:  # pragma: no cover - the recorded kinds always pass one
                _running.reset(token)
                raise TaskExecutionError(f"Task {self!r} needs an output folder to run.")
            inputs = {**inputs, spec.folder_param: folder}
        try:
            raw = spec.fn(**inputs)
        except SmttaskError:
            raise
        except Exception as exc:
            raise TaskExecutionError(
                f"Task {self!r} (digest {self.key[:10]}) failed with "
                f"{type(exc).__name__}: {exc}. Its traceback (chained to this error; "
                f"`smttask run -v` prints it) shows where in {spec.taskname}; fix the function or its inputs and run it again. Nothing was "
                f"written for this task."
            ) from exc
        finally:
            _running.reset(token)
        return spec.output.make_result(raw, spec.name, folder)


class PartialTask:
    """A task type with some inputs fixed. Call it with the remaining inputs to get a task."""

    def __init__(self, task_type: type[TaskNode], bound: Mapping[str, Any]) -> None:
        self.task_type = task_type
        self.bound = dict(bound)

    def _bind(self, inputs: Mapping[str, Any]) -> PartialTask:
        spec = self.task_type._spec
        unknown = [k for k in inputs if k not in spec.params]
        if unknown:
            raise TaskInputError(
                f"{spec.name}.bind(): unknown input {', '.join(map(repr, unknown))}. "
                f"The inputs are {spec.signature_text()}."
            )
        checker = self.task_type.__new__(self.task_type)
        validated = {k: checker._validate_input(k, v) for k, v in inputs.items()}
        return PartialTask(self.task_type, {**self.bound, **validated})

    def bind(self, **inputs: Any) -> PartialTask:
        return self._bind(inputs)

    def __call__(self, **inputs: Any) -> TaskNode:
        clash = [k for k in inputs if k in self.bound]
        if clash:
            raise TaskInputError(
                f"{self!r}: input {', '.join(map(repr, clash))} is already bound. Use "
                f".bind({clash[0]}=...) on the original task type to change it."
            )
        return self.task_type(**self.bound, **inputs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_input_repr(v)}" for k, v in self.bound.items())
        return f"{self.task_type._spec.name}.bind({args})"


def _is_parameter_set(spec: TaskSpec, value: Any) -> bool:
    """Whether `value`, the only positional argument of a task, is a mapping of its inputs (a
    dict or a Sumatra ParameterSet) rather than the value of its first input.

    Only when it cannot be the first input: a mapping whose keys are all input names, given to
    a task whose first input is not annotated as a mapping (or anything that takes one).
    """
    if not isinstance(value, Mapping) or not value or not spec.params:
        return False
    if not all(isinstance(k, str) and k in spec.params for k in value):
        return False
    return serialization.annotation_compatible(dict, spec.annotations[spec.params[0]]) is False


def _check_upstream(expected: Any, task: TaskNode, what: str) -> None:
    """Raise if upstream `task` certainly returns something that cannot fill `expected`."""
    produced = task._spec.output.annotation
    if serialization.annotation_compatible(produced, expected) is False:
        raise TaskInputError(
            f"{what} expects {serialization.type_name(expected)}, but the task {task._spec.name} "
            f"given for it returns {serialization.type_name(produced)}. Pass a task with a "
            f"matching return type, or change one of the annotations."
        )


def _input_repr(value: Any) -> str:
    import numpy as np

    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, TaskNode):
        return f"<{value._spec.name} {value.key[:8]}>"
    return short_repr(value, 40)
