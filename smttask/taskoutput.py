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

A returned dict may carry an ``"outcome"`` string, stored in the provenance record.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import serialization
from .errors import OutputError, TaskDefinitionError, TaskInputError, short_repr


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


class TaskOutput:
    """Base class for named task outputs: annotate one class attribute per output."""

    output_types: ClassVar[dict[str, Any]] = {}
    __slots__ = ("_values",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = typing.get_type_hints(cls)
        cls.output_types = {
            k: v
            for k, v in hints.items()
            if typing.get_origin(v) is not ClassVar and not k.startswith("_")
        }
        if not cls.output_types:
            raise TaskDefinitionError(
                f"TaskOutput subclass {cls.__qualname__} declares no outputs. Annotate one class "
                f"attribute per output, e.g. `mean: float`."
            )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = list(self.output_types)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__qualname__} takes {len(names)} values, got {len(args)}")
        values = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in self.output_types:
                raise TypeError(f"{type(self).__qualname__} has no output named {k!r}")
            if k in values:
                raise TypeError(f"{type(self).__qualname__}: output {k!r} given twice")
            values[k] = v
        missing = [n for n in names if n not in values]
        if missing:
            raise TypeError(f"{type(self).__qualname__}: missing outputs {missing}")
        self._values = {
            n: serialization.validate(self.output_types[n], values[n], what=f"output {n!r}")
            for n in names
        }

    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return list(self._values.values())[key]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values.values())

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_equal(self._values[k], other._values[k]) for k in self._values)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={short_repr(v, 40)}" for k, v in self._values.items())
        return f"{type(self).__qualname__}({inner})"

    def _asdict(self) -> dict[str, Any]:
        return dict(self._values)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)


@dataclass(frozen=True)
class OutputSpec:
    """What a task returns, and how its result splits into stored outputs."""

    annotation: Any
    taskoutput: type[TaskOutput] | None

    @classmethod
    def from_annotation(cls, annotation: Any) -> OutputSpec:
        if isinstance(annotation, type) and issubclass(annotation, TaskOutput):
            return cls(annotation, annotation)
        return cls(annotation, None)

    @property
    def names(self) -> tuple[str, ...]:
        """Output names; a single unnamed output is called ``""``."""
        return tuple(self.taskoutput.output_types) if self.taskoutput else ("",)

    def type_of(self, name: str) -> Any:
        return self.taskoutput.output_types[name] if self.taskoutput else self.annotation

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
