"""Task results: one value, or several named outputs (``TaskOutput``).

A task returning ``Tuple[float, float]`` has one output (the tuple, stored in one file). A task
whose return annotation is a ``TaskOutput`` subclass has one output per field, each stored in
its own file and reachable by name::

    class Fit(TaskOutput):
        slope: float
        residuals: Array[float, 1]

    @RecordedTask
    def fit(x: Array, y: Array) -> Fit:
        ...
        return slope, residuals            # or a dict, or Fit(slope=..., residuals=...)

A returned dict may carry an ``"outcome"`` string, stored in the provenance record. An output
of a variable number of values, one file each, is annotated with ``smttask.typing``'s
``SeparateOutputs[T]`` or ``separate_outputs(T, get_names)``, as the whole result or as a field.
"""

from __future__ import annotations

import operator
import sys
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, SupportsIndex

from . import serialization
from .errors import OutputError, TaskDefinitionError, TaskInputError, short_repr
from .frozen import Frozen
from .typing import Separate, output_annotation, separate_of


class OutputDir(type(Path())):  # type: ignore[misc]  # PosixPath (or WindowsPath)
    """A folder of files that a task writes: annotate one parameter and the return type with it.

    ::

        @RecordedTask
        def plot(x: Array, out: OutputDir) -> OutputDir:
            fig.savefig(out / "trace.svg")
            return out

    The function gets a fresh, empty folder (the parameter is not an input: it is neither in
    the digest nor in the task file) and may return it or None. Once the function returns,
    the store lists and hashes the files in a manifest and moves the folder to its final
    name, ``<task>/<digest>.files`` in the output data store, in one rename: a run that
    crashes leaves nothing that loads. The task's result is that folder (an ``OutputDir``,
    a ``pathlib.Path``); later runs load it, without calling the function.
    """


def is_output_dir(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, OutputDir)


class TaskOutput(tuple[Any, ...]):
    """Base class for named task outputs: annotate one class attribute per output.

    A result behaves like the named tuple it stands for: it is a ``tuple`` of its values
    (unpacking, indexing, slicing, ``len``), equal to any tuple of equal values (arrays compare
    with ``np.array_equal``), hashable when its values are (as a tuple of them is, with the
    same hash), with ``_fields``, ``_asdict()``, ``_replace(**values)`` and ``_make(values)``;
    ``result.name`` and ``result["name"]`` give one output.
    """

    output_types: ClassVar[dict[str, Any]] = {}
    _fields: ClassVar[tuple[str, ...]] = ()
    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = typing.get_type_hints(cls, include_extras=True)
        cls.output_types = {
            k: output_annotation(v)
            for k, v in hints.items()
            if typing.get_origin(v) is not ClassVar and not k.startswith("_")
        }
        if not cls.output_types:
            raise TaskDefinitionError(
                f"TaskOutput subclass {cls.__qualname__} declares no outputs. Annotate one class "
                f"attribute per output, e.g. `mean: float`."
            )
        cls._fields = tuple(cls.output_types)
        for i, name in enumerate(cls._fields):
            setattr(cls, name, property(operator.itemgetter(i), doc=f"Output {name!r}."))

    def __new__(cls, *args: Any, **kwargs: Any) -> TaskOutput:
        names = cls._fields
        if len(args) > len(names):
            raise TypeError(f"{cls.__qualname__} takes {len(names)} values, got {len(args)}")
        values = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in cls.output_types:
                raise TypeError(f"{cls.__qualname__} has no output named {k!r}")
            if k in values:
                raise TypeError(f"{cls.__qualname__}: output {k!r} given twice")
            values[k] = v
        missing = [n for n in names if n not in values]
        if missing:
            raise TypeError(f"{cls.__qualname__}: missing outputs {missing}")
        validated = (
            serialization.validate(cls.output_types[n], values[n], what=f"output {n!r}")
            for n in names
        )
        return super().__new__(cls, validated)

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    @classmethod
    def _make(cls, values: Iterable[Any]) -> TaskOutput:
        return cls(*values)

    def _replace(self, **values: Any) -> TaskOutput:
        return type(self)(**{**self._asdict(), **values})

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self))

    @typing.overload
    def __getitem__(self, key: SupportsIndex | str) -> Any: ...

    @typing.overload
    def __getitem__(self, key: slice) -> tuple[Any, ...]: ...

    def __getitem__(self, key: SupportsIndex | str | slice) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._fields.index(key))
            except ValueError:
                raise KeyError(key) from None
        return tuple.__getitem__(self, key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, tuple):
            return NotImplemented
        return len(self) == len(other) and all(_equal(a, b) for a, b in zip(self, other))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__  # equal results (and the equal tuple) hash alike

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={short_repr(v, 40)}" for k, v in zip(self._fields, self))
        return f"{type(self).__qualname__}({inner})"


def _equal(a: Any, b: Any) -> bool:
    np = sys.modules.get("numpy")  # no value is an array unless numpy was imported
    if np is not None and (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)):
        return bool(np.array_equal(a, b))
    if type(a) is tuple and type(b) is tuple:  # e.g. variable outputs holding arrays
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


class OutputSpec(Frozen):
    """What a task returns, and how its result splits into stored outputs (immutable; equal
    when both fields are)."""

    __slots__ = ("annotation", "taskoutput")
    FIELDS = ("annotation", "taskoutput")
    annotation: Any
    taskoutput: type[TaskOutput] | None

    def __init__(self, annotation: Any, taskoutput: type[TaskOutput] | None) -> None:
        self._set(annotation, taskoutput)

    @classmethod
    def from_annotation(cls, annotation: Any) -> OutputSpec:
        annotation = output_annotation(annotation)
        if isinstance(annotation, type) and issubclass(annotation, TaskOutput):
            return cls(annotation, annotation)
        return cls(annotation, None)

    @property
    def names(self) -> tuple[str, ...]:
        """Output names; a single unnamed output is called ``""``."""
        return tuple(self.taskoutput.output_types) if self.taskoutput else ("",)

    def type_of(self, name: str) -> Any:
        return self.taskoutput.output_types[name] if self.taskoutput else self.annotation

    def value_type(self, name: str) -> Any | None:
        """The type of output `name`, or of value `name` of a variable output (named
        ``"<output>_<value>"``, or ``"<value>"`` for a task's only output); None if neither."""
        if name in self.names:
            return self.type_of(name)
        for out in self.names:
            sep = self.separate(out)
            if sep is not None and (not out or name.startswith(out + "_")):
                return sep.item_type
        return None

    def separate(self, name: str) -> Separate | None:
        """How output `name` splits into files, if it is a variable number of values."""
        return separate_of(self.type_of(name))

    def check_names_params(self, params: tuple[str, ...], where: str) -> None:
        """Raise if the names function of a variable output takes something not an input."""
        for name in self.names:
            sep = self.separate(name)
            unknown = [p for p in sep.params if p not in params] if sep else []
            if unknown:
                raise TaskDefinitionError(
                    f"{where}: the names function of output {name or 'result'!r} takes "
                    f"{unknown}, which are not inputs of the task (inputs: {list(params)})."
                )

    @property
    def is_folder(self) -> bool:
        """Whether the task's result is an ``OutputDir`` (a folder of files)."""
        return is_output_dir(self.annotation)

    def make_result(
        self, raw: Any, taskname: str, folder: OutputDir | None = None
    ) -> tuple[Any, str]:
        """Validate what the function returned; return (result, outcome). `folder`: the
        folder given to a task returning an ``OutputDir``."""
        outcome = ""
        if folder is not None:
            if raw is not None and (not isinstance(raw, Path) or Path(raw) != folder):
                raise OutputError(
                    f"Task {taskname} returned {short_repr(raw)}; a task returning OutputDir "
                    f"returns the folder it was given ({folder}) or None, after writing its "
                    f"files into that folder."
                )
            return folder, outcome
        if self.taskoutput is None:
            return self._validate(self.annotation, raw, taskname, "the result"), outcome
        if isinstance(raw, self.taskoutput):
            return raw, outcome
        try:
            if isinstance(raw, Mapping):
                values = dict(raw)
                if "outcome" not in self.taskoutput.output_types and "outcome" in values:
                    outcome = str(values.pop("outcome"))
                return self.taskoutput(**values), outcome
            if isinstance(raw, (tuple, list)):
                return self.taskoutput(*raw), outcome
            return self.taskoutput(raw), outcome
        except (TypeError, TaskInputError) as exc:
            raise OutputError(
                f"Task {taskname} returned {short_repr(raw)}, which does not fit its declared "
                f"outputs {self.taskoutput.__qualname__}{tuple(self.names)}: {exc}. Return a "
                f"tuple in that order, a dict with those keys, or a {self.taskoutput.__qualname__}."
            ) from None

    def split(self, result: Any) -> dict[str, Any]:
        if self.taskoutput is None:
            return {"": result}
        return result._asdict()

    def join(self, values: Mapping[str, Any]) -> Any:
        if self.taskoutput is None:
            return values[""]
        return self.taskoutput(**values)

    @staticmethod
    def _validate(annotation: Any, value: Any, taskname: str, what: str) -> Any:
        try:
            return serialization.validate(annotation, value, what=what)
        except TaskInputError as exc:
            raise OutputError(
                f"Task {taskname}: {exc} The function's return annotation must describe what it "
                f"returns."
            ) from None
