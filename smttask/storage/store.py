"""``FileOutputStore``: task results as files under the project's data stores.

One file per output, named and placed by ``layout``, encoded by the output's ``formats``
entry, written by ``smttask.fileio``: a killed process never leaves a file a later run would load,
and two processes computing the same task both end with one complete file. Results are read
through the link (falling back to the unnumbered archive), and only if the file opened lies
where results are kept: an archive of the task in the output store (or a plain file at the
link's place in the input store). A symbolic link leading anywhere else is reported, never
loaded. A variable output (``smttask.typing``) is one file per value plus an index written
last (``separate``); the values are read from plain files beside the index.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import serialization
from ..errors import OutputError, RunningElsewhereError, TaskInputError, UnsafeContentError
from ..filehash import note_written
from ..fileio import defer_sync, publish_new, replace_symlink, symlink_new, writing
from ..task import is_task
from ..typing import Separate, element_name, separate_of
from . import folders, formats, layout, separate
from .folders import FolderFormat
from .formats import OutputFormat
from .layout import DataRoots
from .lease import DEFAULT_TIMEOUT, Lease, acquire, lease_dir, try_acquire
from .lease import SUFFIX as LEASE_SUFFIX

log = logging.getLogger("smttask.storage")

if TYPE_CHECKING:
    from ..task import Task


@dataclass(frozen=True)
class _Output:
    name: str  # "" for a single unnamed output
    annotation: Any
    format: OutputFormat
    suffix: str  # of its file name after the key (``layout.suffix``), for the hot path
    separate: Separate | None = None  # a variable output: its file is the index...
    item: _Output | None = None  # ...and its values are stored as this says


class FileOutputStore:
    """The default output store (``hooks.OutputStore``): one file per output, under the data
    stores `roots` (a session makes one for its project).

    Durability (a result surviving a power cut): with `fsync` and `durable_calls`, each file
    is flushed before it is published, so it is on disk when ``save`` returns (an fsync a
    file). With `fsync` alone (the default), a result of at most one page
    (``fileio.PAGE_SIZE``) is published at once and flushed at the next sync point
    (``smttask.sync()``: the end of ``smttask run``, the exit of the process), together with
    every other file written meanwhile; a larger one is flushed before it is published.
    Either way a killed process loses nothing published, and no partial file ever loads.
    With `hash_written`, the SHA-1 of each file written is noted (``filehash``) as it is
    published, so that its record need not read it back."""

    def __init__(
        self,
        roots: DataRoots,
        *,
        fsync: bool = True,
        durable_calls: bool = False,
        lease_timeout: float = DEFAULT_TIMEOUT,
        wait_for_leases: bool = True,
        hash_written: bool = False,
    ) -> None:
        self._roots = DataRoots(Path(roots[0]), Path(roots[1]))
        self._hash_written = hash_written  # note each file's SHA-1 (for its record)
        self._lease_timeout = lease_timeout
        self._wait_for_leases = wait_for_leases
        self._text_roots = (str(self._roots[0]), str(self._roots[1]))  # for the hot path
        self._fsync = fsync
        self._batch = fsync and not durable_calls
        text = self._text_roots
        self._real_roots = _prepared.pop(text) if text in _prepared else _real(text)
        self._outputs_of: dict[type, tuple[_Output, ...]] = {}
        self._generation = formats.generation()
        self._folders: dict[tuple[bool, str], Path] = {}  # (archive?, task name) -> folder
        #: task name -> its archive, link and lease folders as text (the first run's hot path)
        self._text_dirs: dict[str, tuple[str, str, str]] = {}
        #: (task name, key) of the tasks whose lease this store holds: see `load`
        self._held: set[tuple[str, str]] = set()

    @staticmethod
    def prepare(roots: DataRoots) -> None:
        """Resolve the real paths of `roots` for the next store made with them (the first
        default session's, made at the first run). The paths may change meanwhile: a store
        resolves them again whenever a file it reads lies outside them."""
        text = (str(roots[0]), str(roots[1]))
        if text not in _prepared:  # (every task type of a module asks)
            _prepared[text] = _real(text)

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
        return self._files(task, self._type_folder(False, task.name))

    def archive_paths(self, task: Task) -> dict[str, Path]:
        return self._files(task, self._type_folder(True, task.name))

    def _type_folder(self, archive: bool, name: str) -> Path:
        """A task type's archive (or link) folder, made once per type: explaining or tracing
        a large graph asks for the files of every task."""
        found = self._folders.get((archive, name))
        if found is None:
            where = layout.archive_dir if archive else layout.link_dir
            found = self._folders[archive, name] = where(self.roots(), name)
        return found

    def _dirs(self, name: str) -> tuple[str, str, str]:
        """The archive, link and lease folders of task type `name`, as text, made once per
        type: writing a result joins file names to them."""
        found = self._text_dirs.get(name)
        if found is None:
            roots = self.roots()
            found = self._text_dirs[name] = (
                os.fspath(layout.archive_dir(roots, name)),
                os.fspath(layout.link_dir(roots, name)),
                os.fspath(lease_dir(Path(roots[1]), name)),
            )
        return found

    def _files(self, task: Task, folder: Path) -> dict[str, Path]:
        """Each output's file in `folder`; a variable output's values (when its names are
        known from the task's inputs) before its index."""
        key, out = task.key, {}
        for o in self._outputs(task):
            if o.item is not None:
                names = _known_names(task, o, resolve=False)
                for n in _elements(task, o, names or ()):
                    out[n] = folder / layout.file_name(key, n, o.item.format.extension)
            out[o.name] = folder / layout.file_name(key, o.name, o.format.extension)
        return out

    # -- reading ------------------------------------------------------------------------------

    def load(self, task: Task) -> Any | None:
        """The task's result, read through its links (else its archives). While this store
        holds the task's lease, only from its archives: a result that another process
        computed since the caller last looked is published as an archive first (its link
        follows), and a link without an archive leads nowhere."""
        key, name = task.key, task.name
        archives_only = (name, key) in self._held
        values = {}
        for o in self._outputs(task):
            if isinstance(o.format, FolderFormat):
                filename = key + o.suffix
                link, archive = layout.read_order(self._text_roots, name, filename)
                folder = self._folder(None if archives_only else link, archive, name, filename)
                if folder is None:
                    return None
                values[o.name] = folder
                continue
            found = self._read_first(name, key + o.suffix, archives_only)
            if found is None:
                return None
            data, path = found
            values[o.name] = (
                _decode(data, o, path, task) if o.item is None else _values(data, o, path, task)
            )
        return task._spec.output.join(values)

    def load_output(self, task: Task, name: str) -> Any | None:
        """Output `name` of `task`, or one value of a variable output (``"<field>_<name>"``,
        or the name alone for a task's only output), read from its file alone; None if it
        is not on disk."""
        for o in self._outputs(task):
            if o.name != name and not (o.item and (not o.name or name.startswith(o.name + "_"))):
                continue
            found = self._read_first(task.name, task.key + o.suffix)
            if found is None:
                return None
            data, path = found
            if o.item is None:
                return _decode(data, o, path, task)
            if o.name == name:
                return _values(data, o, path, task)
            for entry in separate.parse_index(data, task.key) if data else ():
                if element_name(o.name, entry.name) == name:
                    return _value(entry, o, path, task)
        raise OutputError(
            f"{task._spec.name} has no output named {name!r}; its outputs are "
            f"{list(task._spec.output.names)} (a variable output's values are named "
            f"'<output>_<name>', or '<name>' for a task's only output)."
        )

    def _read_first(
        self, task_name: str, filename: str, archive_only: bool = False
    ) -> tuple[bytes, str] | None:
        """The content of the result file `filename` of task `task_name` (its link, else its
        archive; only the archive if `archive_only`) and the path read; None if neither
        exists."""
        link, archive = layout.read_order(self._text_roots, task_name, filename)
        for path in (archive,) if archive_only else (link, archive):
            try:
                return self._read(path, task_name, filename), path
            except FileNotFoundError:
                continue
        return None

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

    def _folder(self, link: str | None, archive: str, task_name: str, filename: str) -> Any | None:
        """The result folder reached through `link` (else `archive`), if it is one of the
        task's archives; None if neither exists."""
        for path in (archive,) if link is None else (link, archive):
            if not os.path.lexists(path):
                continue
            real = os.path.realpath(path)
            if not os.path.isdir(real):
                continue  # a dangling link: the archive may still be there
            if not _is_result(self._real_roots, real, task_name, filename):
                self._real_roots = _real(self._text_roots)
                if not _is_result(self._real_roots, real, task_name, filename):
                    raise _planted(path, real, self._text_roots[1])
            return folders.check_loadable(real)
        return None

    def new_folder(self, task: Task) -> Path:
        return folders.new_folder(layout.archive_dir(self.roots(), task.name), task.key)

    def discard_folder(self, folder: Path) -> None:
        archive_dir = folder.parent
        if folders.is_scratch(Path(folder), archive_dir):
            folders.discard(Path(folder))

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

    # -- computing once -----------------------------------------------------------------------

    def lease(self, task: Task) -> Lease:
        """The task's lease (``smttask.storage.lease``), waiting while a live process holds it
        (without ``wait_for_leases``: raising RunningElsewhereError instead)."""
        folder = self._dirs(task.name)[2]
        path = f"{folder}/{task.key}{LEASE_SUFFIX}"
        with writing(path):  # a full or read-only data store: said of its folder
            got = try_acquire(path, self._lease_timeout, folder=folder)
        if isinstance(got, Lease):
            return self._holding(task, got)
        if not self._wait_for_leases:
            raise RunningElsewhereError(
                f"{task!r} is running elsewhere: {got.describe()} is computing it (lease "
                f"{path}, heartbeat {time.time() - got.heartbeat:.0f} s ago). Its result appears "
                f"when it finishes: run again then to load it, or wait for it (the default; "
                f"smttask run --running-elsewhere wait). A lease without a heartbeat for "
                f"{self._lease_timeout:g} s counts as abandoned and is taken over."
            )
        log.warning(
            "%r is being computed by %s: waiting for its result (its lease %s is taken over "
            "if it goes %g s without a heartbeat).",
            task, got.describe(), path, self._lease_timeout,
        )  # fmt: skip
        found = acquire(path, self._lease_timeout)
        assert isinstance(found, Lease)
        return self._holding(task, found)

    def _holding(self, task: Task, lease: Lease) -> Lease:
        """`lease`, noted as held (for `load`) until it is released."""
        held = (task.name, task.key)
        self._held.add(held)
        lease.on_release = lambda: self._held.discard(held)
        return lease

    # -- writing ------------------------------------------------------------------------------

    def save(self, task: Task, result: Any, *, recompute: bool) -> dict[str, Path]:
        values = task._spec.output.split(result)
        archives = {}
        for o in self._outputs(task):
            if o.item is not None:
                archives.update(self._save_values(task, o, values[o.name], recompute))
                continue
            if isinstance(o.format, FolderFormat):
                roots = self.roots()
                archive_dir = layout.archive_dir(roots, task.name)
                link_dir = layout.link_dir(roots, task.name)
                path = self._save_folder(values[o.name], task, archive_dir, recompute)
                archives[o.name] = path
                link = link_dir / layout.file_name(task.key, o.name, o.format.extension)
                if link_dir != archive_dir and (recompute or not os.path.lexists(link)):
                    replace_symlink(link, path)
                if self._batch:  # its files were flushed; their names are, at the sync point
                    defer_sync(archive_dir)
                    defer_sync(link_dir)
                continue
            data = _encode(values[o.name], o, task)
            archives[o.name] = self._publish(task, o.name, o.format.extension, data, recompute)[0]
        return archives

    def _publish(
        self,
        task: Task,
        name: str,
        ext: str,
        data: bytes,
        recompute: bool,
        digest: str | None = None,
    ) -> tuple[Path, bool]:
        """Write one file of `task` (numbered anew if `recompute`) and its link; return its
        archive and whether this call wrote it (else an equal one was there). `digest`: the
        SHA-1 of `data`, if the caller has it."""
        key = task.key
        archive_dir, link_dir, _ = self._dirs(task.name)
        number = 0
        while True:
            path = f"{archive_dir}/{layout.file_name(key, name, ext, number)}"
            written = publish_new(path, data, fsync=self._fsync, batch=self._batch)
            if written and self._hash_written:
                note_written(path, data, digest)
            if written or not recompute:
                break  # not written: an equal result is already there (tasks are pure)
            number += 1
        if link_dir != archive_dir:
            link = f"{link_dir}/{layout.file_name(key, name, ext)}"
            if recompute:
                replace_symlink(link, path)
            else:
                symlink_new(link, path)  # an existing link already leads to this result
            if self._batch:
                defer_sync(link_dir)
        return Path(path), written

    def _save_values(self, task: Task, o: _Output, value: Any, recompute: bool) -> dict[str, Path]:
        """A variable output: each value in its own file, then the index listing them."""
        assert o.item is not None and o.separate is not None
        names = _known_names(task, o, resolve=True)
        if names is None:
            names = o.separate.names_for(len(value))
        elif len(names) != len(value):
            raise OutputError(
                f"{task!r} returned {len(value)} values for its variable output "
                f"{o.name or 'result'!r}, but its names function gives {len(names)} names "
                f"({list(names)}). Return one value per name."
            )
        out, entries = {}, []
        for n, element, v in zip(names, _elements(task, o, names), value):
            item = _Output(element, o.item.annotation, o.item.format, "")
            data = _encode(v, item, task)
            digest = separate.sha1(data)  # for the index, and for the record: hashed once
            path, written = self._publish(
                task, element, item.format.extension, data, recompute, digest
            )
            if not written:  # an equal file was there: the index lists what it holds
                digest = separate.sha1(path.read_bytes())
            entries.append(separate.Entry(n, path.name, digest))
            out[element] = path
        index = separate.index_bytes(entries)
        out[o.name] = self._publish(task, o.name, o.format.extension, index, recompute)[0]
        return out

    def _save_folder(self, scratch: Any, task: Task, archive_dir: Path, recompute: bool) -> Path:
        """Publish the scratch folder `scratch` of `task` as its archive; return its path."""
        scratch = Path(scratch)
        if not folders.is_scratch(scratch, archive_dir):
            raise OutputError(
                f"{task!r} returned the folder {scratch}, which is not the output folder "
                f"smttask gave it. Write the files into the OutputDir parameter and return it."
            )
        folders.seal(scratch, fsync=self._fsync)
        ext, number = FolderFormat.extension, 0
        while True:
            path = archive_dir / layout.file_name(task.key, "", ext, number)
            if folders.move(scratch, path):
                return path
            if not recompute:  # an equal result is already there (tasks are pure)
                folders.discard(scratch)
                return path
            number += 1


def _output(name: str, annotation: Any, fmt: OutputFormat | None = None) -> _Output:
    sep = separate_of(annotation)
    if sep is not None:
        item = _output("", sep.item_type)
        return _Output(name, annotation, _INDEX, layout.suffix(name, "json"), sep, item)
    fmt = fmt or formats.format_for(annotation)
    return _Output(name, annotation, fmt, layout.suffix(name, fmt.extension))


_INDEX = formats.JsonFormat()  # the index of a variable output is JSON (``separate``)


def _known_names(task: Task, o: _Output, *, resolve: bool) -> tuple[str, ...] | None:
    """The names of variable output `o` from the task's inputs; None if they come with the
    result, or (unless `resolve`: upstream results are loaded) depend on upstream tasks."""
    sep = o.separate
    if sep is None or sep.get_names is None:
        return None
    inputs = {}
    for p in sep.params:
        v = task.inputs[p]
        if serialization.contains(v, is_task):
            if not resolve:
                return None
            v = task._spec.validate(p, serialization.substitute(v, is_task, lambda t: t.run()))
        inputs[p] = v
    return sep.names_from_inputs(inputs, repr(task))


def _elements(task: Task, o: _Output, names: tuple[str, ...]) -> list[str]:
    """The output names of the values `names` of variable output `o`, checked against the
    task's other outputs."""
    elements = [element_name(o.name, n) for n in names]
    clash = set(elements) & set(task._spec.output.names)
    if clash:
        raise OutputError(
            f"{task!r}: value {sorted(clash)[0]!r} of its variable output {o.name or 'result'!r}"
            f" has the name of another output: rename one of them."
        )
    return elements


def _values(data: bytes, o: _Output, path: str, task: Task) -> tuple[Any, ...]:
    """The values of variable output `o` listed by its index `data` (read from `path`)."""
    if not data:
        _decode(data, o, path, task)  # reports the interrupted write
    try:
        entries = separate.parse_index(data, task.key)
    except ValueError as exc:
        raise OutputError(
            f"The index {os.path.realpath(path)} of {task!r} cannot be read: {exc}. Delete it "
            f"(or run with recompute=True) to compute the result again."
        ) from None
    known = _known_names(task, o, resolve=False)
    if known is not None and tuple(e.name for e in entries) != known:
        raise OutputError(
            f"The index {os.path.realpath(path)} of {task!r} lists the values "
            f"{[e.name for e in entries]}, but the names function gives {list(known)} for "
            f"its inputs. Delete the result (or run with recompute=True) to compute it again."
        )
    return tuple(_value(e, o, path, task) for e in entries)


def _value(entry: separate.Entry, o: _Output, index: str, task: Task) -> Any:
    """One value of a variable output: the file `entry` names beside the index `index`."""
    assert o.item is not None
    file = Path(os.path.realpath(index)).parent / entry.file
    fix = "Delete the index (or run with recompute=True) to compute the result again."
    try:
        data = _read_plain(file)
    except FileNotFoundError:
        raise OutputError(
            f"{file}, value {entry.name!r} of output {o.name or 'result'!r} of {task!r} listed "
            f"in {os.path.realpath(index)}, is missing. {fix}"
        ) from None
    except OSError:  # ELOOP: a symbolic link where the value's archive should be
        raise OutputError(
            f"{file}, value {entry.name!r} of output {o.name or 'result'!r} of {task!r}, is a "
            f"symbolic link, not the archive its index {os.path.realpath(index)} lists: "
            f"smttask does not load it. Remove it (rm {file}) and run the task with "
            f"recompute=True."
        ) from None
    if separate.sha1(data) != entry.sha1:
        raise OutputError(
            f"{file}, value {entry.name!r} of output {o.name or 'result'!r} of {task!r}, is not "
            f"the file its index {os.path.realpath(index)} lists (SHA-1 differs). {fix}"
        )
    fmt = formats.format_with_extension(file.suffix[1:])
    if fmt is None:
        raise OutputError(
            f"{file} is in a format no registered output format reads (registered: "
            f"{formats.format_names()}). Import the module that registers its format first."
        )
    element = element_name(o.name, entry.name)
    return _decode(data, _Output(element, o.item.annotation, fmt, ""), str(file), task)


def decode_output(task: Task, output: str, data: bytes, origin: str | Path) -> Any:
    """Output `output` of `task` read from `data`, the bytes of one stored output file (e.g.
    an archive named by a record); `origin` names that file, whose extension tells its format.
    """
    spec = task._spec.output
    if output in spec.names and spec.separate(output) is not None:
        return _values(data, _output(output, spec.type_of(output)), str(origin), task)
    annotation = spec.value_type(output)
    if annotation is None:
        raise OutputError(
            f"{task._spec.name} has no output named {output!r}; its outputs are {list(spec.names)}."
        )
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


#: Real paths of data stores resolved ahead (``FileOutputStore.prepare``), each taken by the
#: next store made with those roots.
_prepared: dict[tuple[str, str], tuple[str, str]] = {}


def _real(roots: tuple[str, str]) -> tuple[str, str]:
    return os.path.realpath(roots[0]), os.path.realpath(roots[1])


def _read_plain(path: Path) -> bytes:
    """The bytes of `path`, a plain file (a symbolic link there raises OSError)."""
    fd = os.open(path, os.O_RDONLY | _CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    try:
        return _read_all(fd)
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    first = os.read(fd, size + 1)
    if len(first) <= size:  # a short read of a regular file: its end (no second call)
        return first
    parts = [first]  # the file grew since the fstat
    while chunk := os.read(fd, 1 << 16):
        parts.append(chunk)
    return b"".join(parts)


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
        what = f"stored output {os.path.basename(path)}"
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
