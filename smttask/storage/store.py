"""``FileOutputStore``: task results as files under the project's data stores.

One file per output, named and placed by ``layout``, encoded by the output's ``formats``
entry, written by ``smttask.fileio``: a killed process never leaves a file a later run would load,
and two processes computing the same task both end with one complete file. Results are read
through the link (falling back to the unnumbered archive), and only if the file opened lies
where results are kept: an archive of the task in the output store (or a plain file at the
link's place in the input store). A symbolic link leading anywhere else is reported, never
loaded.
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
        self._real_roots = _real(self._text_roots)
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
            filename = key + o.suffix
            link, archive = layout.read_order(roots, name, filename)
            try:
                data, path = self._read(link, name, filename), link
            except FileNotFoundError:
                try:
                    data, path = self._read(archive, name, filename), archive
                except FileNotFoundError:
                    return None
            values[o.name] = _decode(data, o, path, task)
        return task._spec.output.join(values)

    def _read(self, path: str, task_name: str, filename: str) -> bytes:
        """The bytes of the result file `path` (a link or an archive of `filename`), if the
        file it opens is one of the task's archives or a plain file at the link's place."""
        fd = os.open(path, os.O_RDONLY | _CLOEXEC)
        try:
            real = os.readlink(f"/proc/self/fd/{fd}") if _PROC_FD else os.path.realpath(path)
            if not _is_result(self._real_roots, real, task_name, filename):
                self._real_roots = _real(self._text_roots)  # the roots may have moved since
                if not _is_result(self._real_roots, real, task_name, filename):
                    raise _planted(path, real, self._text_roots[1])
            return _read_all(fd)
        finally:
            os.close(fd)

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


_PROC_FD = os.path.isdir("/proc/self/fd")  # Linux: the real path of an open file
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _real(roots: tuple[str, str]) -> tuple[str, str]:
    return os.path.realpath(roots[0]), os.path.realpath(roots[1])


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    parts = []
    while chunk := os.read(fd, max(size + 1, 1 << 16)):
        parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _is_result(real_roots: tuple[str, str], real: str, task_name: str, filename: str) -> bool:
    """Whether `real` (a resolved path) is an archive of `filename` (``<output root>/<task>/
    <filename or a numbered one>``) or the plain file ``<input root>/<task>/<filename>``."""
    folder, _, name = real.rpartition("/")
    if folder == f"{real_roots[1]}/{task_name}":
        return name == filename or layout.link_name(name) == filename
    return real == f"{real_roots[0]}/{task_name}/{filename}"


def _planted(path: str, real: str, output_root: str) -> OutputError:
    try:
        target = f"a symbolic link to {os.readlink(path)!r}, which leads to {real}"
    except OSError:  # a folder on the way is the link
        target = f"reached through a symbolic link, at {real}"
    return OutputError(
        f"The result file {path} is {target}, not an archive of this task in the output "
        f"data store {output_root}: smttask does not load it. smttask did not make this link; "
        f"remove it (rm {path}) and run `smttask store rebuild` to link the recorded result "
        f"again, or run the task with recompute=True."
    )


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
