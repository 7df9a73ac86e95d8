"""Output types: a variable number of outputs, each stored in its own file.

``SeparateOutputs[T]`` and ``separate_outputs(T, get_names)`` annotate a task's result (or one
field of a ``TaskOutput``) as a tuple of values of type ``T`` whose length depends on the run::

    @RecordedTask
    def split(data: Array, n: int) -> separate_outputs(Array, lambda n: [f"part{i}" for i in range(n)]):
        return np.array_split(data, n)

    class Powers(TaskOutput):
        square: float
        higher: separate_outputs(float, lambda pmax: [str(p) for p in range(3, pmax + 1)])

Each value is a file of its own, named ``<key>_<name>`` (``<key>_<field>_<name>`` in a
``TaskOutput``) in the format of ``T`` (``.npy`` for arrays, ``.nc`` for xarray objects, JSON
otherwise), and is one output of its own: ``task.get_output("part1")``,
``task.get_output("higher_4")``. A small JSON index file (``<key>.json``, ``<key>_<field>.json``)
lists the files with their SHA-1 and is written last: a result is complete when its index is
there.

- ``separate_outputs(T, get_names)``: the names come from the task's inputs (the parameters of
  `get_names` are input names); a workflow export lists every file, as long as those inputs
  are values rather than upstream tasks.
- ``SeparateOutputs[T]``: the number is known only after running; the values are named
  ``"0"``, ``"1"``... by position, and a workflow export lists the index file only.

Names are strings of ASCII letters, digits and underscores (at most 64, not starting with an
underscore), unique within the output.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from .errors import OutputError, TaskDefinitionError, short_repr

__all__ = ["Separate", "SeparateOutputs", "output_annotation", "separate_of", "separate_outputs"]

_NAME = r"[A-Za-z0-9][A-Za-z0-9_]{0,63}"  # compiled on first use


@dataclass(frozen=True)
class Separate:
    """The metadata in ``Annotated[tuple[T, ...], Separate(...)]``: values of `item_type`, one
    file each, named by `get_names` (called with the inputs named `params`) or by position."""

    item_type: Any
    get_names: Callable[..., Iterable[str]] | None = None
    params: tuple[str, ...] = ()

    def __repr__(self) -> str:
        item = getattr(self.item_type, "__qualname__", None) or repr(self.item_type)
        if self.get_names is None:
            return f"SeparateOutputs[{item}]"
        return f"separate_outputs({item}, names from {', '.join(self.params) or 'no input'})"

    def names_from_inputs(self, inputs: Mapping[str, Any], where: str) -> tuple[str, ...]:
        """The names `get_names` gives for `inputs` (values, not tasks), checked."""
        assert self.get_names is not None
        try:
            names = tuple(self.get_names(**{p: inputs[p] for p in self.params}))
        except Exception as exc:
            raise OutputError(
                f"{where}: the names function of its variable outputs failed with "
                f"{type(exc).__name__}: {exc}. Fix the function given to separate_outputs."
            ) from exc
        return check_names(names, where)

    def names_for(self, count: int) -> tuple[str, ...]:
        """Positional names for `count` values: "0", "1"..."""
        return tuple(str(i) for i in range(count))


def check_names(names: tuple[Any, ...], where: str) -> tuple[str, ...]:
    bad = [n for n in names if not isinstance(n, str) or not re.fullmatch(_NAME, n)]
    if bad:
        raise OutputError(
            f"{where}: {short_repr(bad[0])} cannot name a variable output: names are strings of "
            f"ASCII letters, digits and underscores (at most 64, not starting with _), "
            f"e.g. str(p) for a number p."
        )
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise OutputError(f"{where}: variable outputs are named twice: {twice}.")
    return names


def element_name(output: str, name: str) -> str:
    """The output name of value `name` of variable output `output` ("" for a task's only one)."""
    return f"{output}_{name}" if output else name


class SeparateOutputs:
    """``SeparateOutputs[T]``: a tuple of values of type T, one file each, named by position;
    their number is known only after the task ran."""

    def __class_getitem__(cls, item_type: Any) -> Any:
        return Annotated[tuple[item_type, ...], Separate(item_type)]

    def __init__(self) -> None:
        raise TypeError("SeparateOutputs is an annotation: write SeparateOutputs[T].")


def separate_outputs(item_type: Any, get_names: Callable[..., Iterable[str]]) -> Any:
    """A tuple of values of type `item_type`, one file each, named by ``get_names``: its
    parameters are input names of the task, its result the names (strings), one per value."""
    if not callable(get_names):
        raise TaskDefinitionError(
            f"separate_outputs({item_type!r}, ...) takes a function of task inputs returning "
            f"the names of the values, not {get_names!r}."
        )
    params = []
    for p in inspect.signature(get_names).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise TaskDefinitionError(
                f"separate_outputs: the names function takes '{p}': name each task input it "
                f"needs as a parameter (e.g. lambda n: [str(i) for i in range(n)])."
            )
        params.append(p.name)
    return Annotated[tuple[item_type, ...], Separate(item_type, get_names, tuple(params))]


def separate_of(annotation: Any) -> Separate | None:
    """The ``Separate`` metadata of an output annotation, if it has one."""
    if typing.get_origin(annotation) is not Annotated:
        return None
    for meta in annotation.__metadata__:
        if isinstance(meta, Separate):
            return meta
    return None


def output_annotation(annotation: Any) -> Any:
    """`annotation` as an output annotation: ``Annotated`` metadata dropped (as
    ``typing.get_type_hints`` does), except the ``Separate`` of variable outputs."""
    if typing.get_origin(annotation) is Annotated and separate_of(annotation) is None:
        return typing.get_args(annotation)[0]
    return annotation
