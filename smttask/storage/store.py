"""``FileOutputStore``: task results as files under the project's data stores.

One file per output, named and placed by ``layout``, encoded by the output's ``formats``
entry, written by ``smttask.fileio``: a killed process never leaves a file a later run would load,
and two processes computing the same task both end with one complete file. Results are read
through the link (falling back to the unnumbered archive).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import serialization
from ..errors import OutputError, TaskInputError, UnsafeContentError
from ..fileio import publish_new, replace_symlink
from . import formats, layout
from .formats import OutputFormat
from .layout import DataRoots

if TYPE_CHECKING:
    from ..task import Task


@dataclass(frozen=True)
class _Output:
    name: str  # "" for a single unnamed output
    annotation: Any
    format: OutputFormat
    suffix: str  # of its file name after the key (``layout.suffix``), for the hot path


class FileOutputStore:
    """The default output store (``hooks.OutputStore``): one file per output, under the data
    stores `roots` (a session makes one for its project). With `fsync`, results are on disk
    when ``save`` returns (survives a power cut; ~1 ms a file)."""

    def __init__(self, roots: DataRoots, *, fsync: bool = True) -> None:
        self._roots = DataRoots(Path(roots[0]), Path(roots[1]))
        self._text_roots = (str(self._roots[0]), str(self._roots[1]))  # for the hot path
        self._fsync = fsync
        self._outputs_of: dict[type, tuple[_Output, ...]] = {}
        self._generation = formats.generation()

    def roots(self) -> DataRoots:
        return self._roots

    def _outputs(self, task: Task) -> tuple[_Output, ...]:
        if self._generation != formats.generation():  # a format was (un)registered
            self._outputs_of.clear()
            self._generation = formats.generation()
        outputs = self._outputs_of.get(type(task))
        if outputs is None:
            spec = task._spec.output
            outputs = tuple(_output(out, spec.type_of(out)) for out in spec.names)
            self._outputs_of[type(task)] = outputs
        return outputs

    def paths(self, task: Task) -> dict[str, Path]:
        folder = layout.link_dir(self.roots(), task.name)
        key = task.key
        return {
            o.name: folder / layout.file_name(key, o.name, o.format.extension)
            for o in self._outputs(task)
        }

    def archive_paths(self, task: Task) -> dict[str, Path]:
        folder = layout.archive_dir(self.roots(), task.name)
        key = task.key
        return {
            o.name: folder / layout.file_name(key, o.name, o.format.extension)
            for o in self._outputs(task)
        }

    # -- reading ------------------------------------------------------------------------------

    def load(self, task: Task) -> Any | None:
        roots = self._text_roots
        key, name = task.key, task.name
        values = {}
        for o in self._outputs(task):
            link, archive = layout.read_order(roots, name, key + o.suffix)
            try:
                data, path = _read(link), link
            except FileNotFoundError:
                try:
                    data, path = _read(archive), archive
                except FileNotFoundError:
                    return None
            values[o.name] = _decode(data, o, path, task)
        return task._spec.output.join(values)

    def iterations(self, task: Task) -> list[int]:
        param = getattr(task, "iteration_param", None)
        if param is None:
            return []
        family = task.family_digest  # type: ignore[attr-defined]
        found = layout.iterations_on_disk(self.roots(), task.name, family, param)
        complete = []
        for n in sorted(found):
            other = type(task)(**{**task.inputs, param: n})
            if all(
                p.exists() or a.exists()
                for p, a in zip(self.paths(other).values(), self.archive_paths(other).values())
            ):
                complete.append(n)
        return complete

    # -- writing ------------------------------------------------------------------------------

    def save(self, task: Task, result: Any, *, recompute: bool) -> dict[str, Path]:
        roots = self.roots()
        key, fsync = task.key, self._fsync
        archive_dir = layout.archive_dir(roots, task.name)
        link_dir = layout.link_dir(roots, task.name)
        values = task._spec.output.split(result)
        archives = {}
        for o in self._outputs(task):
            data = _encode(values[o.name], o, task)
            ext, number = o.format.extension, 0
            while True:
                path = archive_dir / layout.file_name(key, o.name, ext, number)
                if publish_new(path, data, fsync=fsync):
                    break
                if not recompute:
                    break  # an equal result is already there (tasks are pure)
                number += 1
            archives[o.name] = path
            link = link_dir / layout.file_name(key, o.name, ext)
            if link_dir != archive_dir and (recompute or not os.path.lexists(link)):
                replace_symlink(link, path)
        return archives


def _output(name: str, annotation: Any, fmt: OutputFormat | None = None) -> _Output:
    fmt = fmt or formats.format_for(annotation)
    return _Output(name, annotation, fmt, layout.suffix(name, fmt.extension))


def decode_output(task: Task, output: str, data: bytes, origin: str | Path) -> Any:
    """Output `output` of `task` read from `data`, the bytes of one stored output file (e.g.
    an archive named by a record); `origin` names that file, whose extension tells its format.
    """
    annotation = task._spec.output.type_of(output)
    ext = Path(origin).suffix[1:]
    fmt = formats.format_with_extension(ext)
    if fmt is None:
        raise OutputError(
            f"{origin} is in a format no registered output format reads (.{ext}; registered: "
            f"{formats.format_names()}). Import the module that registers its format first."
        )
    return _decode(data, _output(output, annotation, fmt), str(origin), task)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _encode(value: Any, output: _Output, task: Task) -> bytes:
    what = output.name or "result"
    try:
        data = output.format.encode(value, output.annotation)
    except Exception as exc:
        raise OutputError(
            f"Cannot serialize output {what!r} of {task!r} ({output.format.name}): {exc} Make the "
            f"return type serializable (see scityping) or return a different type."
        ) from None
    if not data:
        raise OutputError(
            f"Output format {output.format.name!r} encoded output {what!r} of {task!r} as 0 "
            f"bytes. A stored result is never empty (an empty file marks an interrupted "
            f"write); make the format write at least one byte, e.g. a header."
        )
    return data


def _decode(data: bytes, output: _Output, path: str, task: Task) -> Any:
    if not data:
        raise OutputError(
            f"The stored result {os.path.realpath(path)} of {task!r} is empty: a process "
            f"writing it was killed before it finished. Delete it (or run with "
            f"recompute=True) to compute it again."
        )
    annotation = output.annotation
    try:
        raw = output.format.decode(data, annotation)
        what = f"stored output {Path(path).name}"
        return serialization.validate(annotation, raw, what=what, json_source=True)
    except UnsafeContentError as exc:
        raise UnsafeContentError(
            f"The stored result {os.path.realpath(path)} of {task!r} is not loaded: {exc} "
            f"Delete it (or run with recompute=True) to compute it again."
        ) from None
    except (ValueError, TaskInputError) as exc:
        raise OutputError(
            f"The stored result {os.path.realpath(path)} of {task!r} cannot be read as "
            f"{serialization.type_name(annotation)}: {exc}. It may have been edited or "
            f"written by an incompatible version; delete it (or run with recompute=True) to "
            f"compute it again."
        ) from None
