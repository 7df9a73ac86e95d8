"""Task results on disk.

Layout (Sumatra's data stores; roots from ``smttask.config``)::

    data/run_dump/<task name>/<key>[_<output>][.<n>].<ext>   archive (output store)
    data/<task name>/<key>[_<output>].<ext>                  link to the newest archive (input store)

``<key>`` is the task digest (plus ``__<param><n>`` for iterative tasks), ``<output>`` the
output's name for tasks with named outputs, ``<n>`` a number added by ``recompute=True``:
archives are never overwritten. Results are read through the link (falling back to the
unnumbered archive). Arrays are stored as ``.npy``, everything else as JSON.

Writes are atomic and exclusive (see ``fileio``): a killed process never leaves a file a later
run would load, and two processes computing the same task both end with one complete file.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import config, serialization
from .errors import OutputError, TaskInputError
from .fileio import publish_new, replace_symlink
from .task import Task


def is_array_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, np.ndarray)


class FileOutputStore:
    """The default output store: one file per output under the project's data stores."""

    def __init__(self) -> None:
        #: task type -> [(output name, "_<output>" or "", extension)]
        self._layouts: dict[type, list[tuple[str, str, str]]] = {}

    def _layout(self, task: Task) -> list[tuple[str, str, str]]:
        layout = self._layouts.get(type(task))
        if layout is None:
            spec = task._spec.output
            layout = [
                (
                    out,
                    f"_{out}" if out else "",
                    ".npy" if is_array_type(spec.type_of(out)) else ".json",
                )
                for out in spec.names
            ]
            self._layouts[type(task)] = layout
        return layout

    def archive_dir(self, task: Task) -> Path:
        return Path(config.data_roots()[1], task.name)

    def link_dir(self, task: Task) -> Path:
        return Path(config.data_roots()[0], task.name)

    def filename(self, task: Task, output: str, number: int = 0) -> str:
        for out, suffix, ext in self._layout(task):
            if out == output:
                numbered = f".{number}" if number else ""
                return f"{task.key}{suffix}{numbered}{ext}"
        raise OutputError(f"{task.name} has no output named {output!r}.")

    def paths(self, task: Task) -> dict[str, Path]:
        folder = self.link_dir(task)
        return {out: folder / self.filename(task, out) for out in task._spec.output.names}

    def archive_paths(self, task: Task) -> dict[str, Path]:
        folder = self.archive_dir(task)
        return {out: folder / self.filename(task, out) for out in task._spec.output.names}

    # -- reading ------------------------------------------------------------------------------

    def load(self, task: Task) -> Any | None:
        in_root, out_root = config.data_roots()
        key, name = task.key, task.name
        spec = task._spec.output
        values = {}
        for out, suffix, ext in self._layout(task):
            path = f"{in_root}/{name}/{key}{suffix}{ext}"
            try:
                data = _read(path)
            except FileNotFoundError:
                path = f"{out_root}/{name}/{key}{suffix}{ext}"
                try:
                    data = _read(path)
                except FileNotFoundError:
                    return None
            values[out] = _decode(data, spec.type_of(out), path, task)
        return spec.join(values)

    def iterations(self, task: Task) -> list[int]:
        param = getattr(task, "iteration_param", None)
        if param is None:
            return []
        prefix = f"{task.family_digest}__{param}"  # type: ignore[attr-defined]
        pattern = re.compile(re.escape(prefix) + r"(\d+)[._]")
        found: set[int] = set()
        for folder in (self.link_dir(task), self.archive_dir(task)):
            try:
                names = os.listdir(folder)
            except FileNotFoundError:
                continue
            for name in names:
                match = pattern.match(name)
                if match:
                    found.add(int(match.group(1)))
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
        spec = task._spec.output
        fsync = config.settings.fsync
        archive_dir, link_dir = self.archive_dir(task), self.link_dir(task)
        archives = {}
        for out, value in spec.split(result).items():
            data = _encode(value, spec.type_of(out), task, out)
            number = 0
            while True:
                path = archive_dir / self.filename(task, out, number)
                if publish_new(path, data, fsync=fsync):
                    break
                if not recompute:
                    break  # an equal result is already there (tasks are pure)
                number += 1
            archives[out] = path
            link = link_dir / self.filename(task, out)
            if link_dir != archive_dir and (recompute or not os.path.lexists(link)):
                replace_symlink(link, path)
        return archives


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _encode(value: Any, annotation: Any, task: Task, output: str) -> bytes:
    if is_array_type(annotation) and isinstance(value, np.ndarray) and not value.dtype.hasobject:
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        return buf.getvalue()
    try:
        return serialization.dumps(value).encode()
    except Exception as exc:
        raise OutputError(
            f"Cannot serialize output {output or 'result'!r} of {task!r}: {exc} Make the "
            f"return type serializable (see scityping) or return a different type."
        ) from None


def _decode(data: bytes, annotation: Any, path: str, task: Task) -> Any:
    try:
        if data[:6] == b"\x93NUMPY":
            raw: Any = np.load(io.BytesIO(data), allow_pickle=False)
        else:
            raw = json.loads(data)
        return serialization.validate(annotation, raw, what=f"stored output {Path(path).name}")
    except (ValueError, TaskInputError) as exc:
        raise OutputError(
            f"The stored result {os.path.realpath(path)} of {task!r} cannot be read as "
            f"{serialization.type_name(annotation)}: {exc}. It may have been edited or "
            f"written by an incompatible version; delete it (or run with recompute=True) to "
            f"compute it again."
        ) from None


def decode_output(task: Task, output: str, data: bytes, origin: str | Path) -> Any:
    """Output `output` of `task` read from `data`, the bytes of one stored output file (e.g.
    an archive named by a record); `origin` names that file in error messages."""
    return _decode(data, task._spec.output.type_of(output), str(origin), task)
