"""Where results live and what their files are called: the only module that knows.

Layout (Sumatra's data stores; the roots are passed in)::

    <output root>/<task name>/<key>[_<output>][.<n>].<ext>   archive
    <input root>/<task name>/<key>[_<output>].<ext>          link to the newest archive

``<key>`` is the task digest, or ``<family digest>__<param><n>`` for an iteration of an
iterative task; ``<output>`` the output's name for tasks with named outputs (none for a single
output); ``<n>`` a number (≥ 1) added by ``recompute=True``, since archives are never
overwritten; ``<ext>`` the extension of the output's format. An invalidated archive is renamed
to ``<key>[_<output>][.<n>].invalid[<m>].<ext>`` (``<m>`` ≥ 2 when the first name is taken),
which nothing ever loads.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import OutputError
from ..fileio import move_new


class DataRoots(NamedTuple):
    """The two data stores of a project."""

    input: str | Path  # links, read by tasks (Sumatra's input data store)
    output: str | Path  # archives, written by tasks (Sumatra's output data store)


@dataclass(frozen=True, kw_only=True)
class ResultName:
    """The parts of a result's file name; ``str()`` gives the name back."""

    key: str  # task digest, or "<family digest>__<param><n>" for iterative tasks
    output: str = ""  # "" for a task's single unnamed output
    number: int = 0  # 0 for the first archive, n ≥ 1 for the n-th recomputation
    ext: str  # format extension, without the dot
    invalidated: int = 0  # 0: a live result; 1: ".invalid"; m ≥ 2: ".invalid<m>"

    def __str__(self) -> str:
        name = file_name(self.key, self.output, self.ext, self.number)
        return invalidated_name(name, self.invalidated) if self.invalidated else name


# Keys and extensions are ASCII; output and parameter names are Python identifiers, except
# that an output name may also start with an ASCII digit: the values of a task's only variable
# output are named by their own names ("0", "1"... by position; ``smttask.typing``).
_KEY = r"[0-9a-f]{8,}(?:__[^\W\d]\w*?[0-9]+)?"


@functools.cache
def _name_pattern() -> re.Pattern[str]:
    """The pattern of a result's file name (compiled on first use: its Unicode classes take
    a few milliseconds, which importing smttask need not spend)."""
    return re.compile(
        rf"(?P<key>{_KEY})(?:_(?P<out>(?:[^\W\d_]|[0-9])\w*))?(?:\.(?P<n>[1-9][0-9]*))?"
        r"(?P<inv>\.invalid(?:[2-9]|[1-9][0-9]+)?)?\.(?P<ext>[A-Za-z][A-Za-z0-9]*)"
    )


#: How an invalidated file name ends, whatever comes before.
_INVALIDATED = re.compile(r"\.invalid[0-9]*(\.[^./]+)?$")


def suffix(output: str, ext: str, number: int = 0) -> str:
    """What follows the key in a result's file name: ``[_<output>][.<n>].<ext>``."""
    named = f"_{output}" if output else ""
    numbered = f".{number}" if number else ""
    return f"{named}{numbered}.{ext}"


def file_name(key: str, output: str, ext: str, number: int = 0) -> str:
    """``<key>[_<output>][.<n>].<ext>``."""
    return key + suffix(output, ext, number)


def parse(filename: str) -> ResultName | None:
    """The parts of a result's file name (no folder), or None if it is not one."""
    m = _name_pattern().fullmatch(filename)
    if m is None:
        return None
    inv = m["inv"]
    return ResultName(
        key=m["key"],
        output=m["out"] or "",
        number=int(m["n"] or 0),
        ext=m["ext"],
        invalidated=0 if inv is None else int(inv[len(".invalid") :] or 1),
    )


def is_invalidated(filename: str) -> bool:
    """Whether `filename` (or a path) was renamed by `move_aside`."""
    return _INVALIDATED.search(filename) is not None


# -- paths --------------------------------------------------------------------------------------


OUTPUT_STORE, INPUT_STORE = "output data store", "input data store"


def archive_dir(roots: DataRoots, task_name: str) -> Path:
    return Path(roots.output, task_name)


def link_dir(roots: DataRoots, task_name: str) -> Path:
    return Path(roots.input, task_name)


def read_order(
    roots: tuple[str | Path, str | Path], task_name: str, filename: str
) -> tuple[str, str]:
    """Where a result is read from, in order: its link, then its unnumbered archive.

    Plain strings: this is the path of every cache hit.
    """
    return f"{roots[0]}/{task_name}/{filename}", f"{roots[1]}/{task_name}/{filename}"


def link_name(archive_name: str) -> str | None:
    """The name of the input-store link to an archive: its number removed. None for an
    invalidated archive (nothing links to it); names of other files are kept as they are."""
    name = parse(archive_name)
    if name is None:
        return None if is_invalidated(archive_name) else archive_name
    if name.invalidated:
        return None
    return file_name(name.key, name.output, name.ext)


class PathOutside(OutputError):
    """A path read from a record, a journal or a manifest leads outside the folder it
    belongs to (``..``, an absolute path, or a symlink on the way): nothing is done with it."""

    def __init__(self, path: str, real: str, root: str | Path, folder: str) -> None:
        self.path, self.real, self.root, self.folder = path, real, str(root), folder
        super().__init__(self.sentence("A path", "it was not used"))

    def sentence(self, who: str, what_was_done: str) -> str:
        """One sentence: `who` (e.g. "Record X names the output") names the path, where it
        leads, and `what_was_done` about it."""
        leads = "" if self.real == self.path else f", which leads to {self.real}"
        return (
            f"{who} {self.path!r}{leads}, outside the {self.folder} {self.root}: {what_was_done}."
        )


def inside(root: str | Path, path: str | Path, folder: str) -> Path:
    """`root`/`path` (as named) if it lies inside `root` once both are resolved (``..``,
    absolute paths and symlinks followed); else PathOutside. `folder` names `root` in the
    message (e.g. "output data store")."""
    named = Path(root, path)
    real, top = os.path.realpath(named), os.path.realpath(root)
    if not real.startswith(top.rstrip(os.sep) + os.sep):
        raise PathOutside(str(path), real, root, folder)
    return named


def archive_at(roots: DataRoots, relpath: str) -> Path:
    """The archive a record names (its path relative to the output store). PathOutside if it
    leads outside the output store: a record's path is never followed out of it."""
    return inside(roots.output, relpath, OUTPUT_STORE)


def link_at(roots: DataRoots, relpath: str) -> Path | None:
    """The input-store link of the archive a record names; None if it has none (the two
    stores are one folder, the path is absolute, or the archive is invalidated).
    PathOutside if the link's folder lies outside the input store."""
    if Path(relpath).is_absolute() or Path(roots.input) == Path(roots.output):
        return None
    folder, _, name = relpath.rpartition("/")
    link = link_name(name)
    if link is None:
        return None
    if not folder:
        return Path(roots.input, link)
    return inside(roots.input, folder, INPUT_STORE) / link


# -- invalidated results ------------------------------------------------------------------------


def invalidated_name(archive_name: str, n: int = 1) -> str:
    """``<name>.invalid[<n>].<ext>`` for the archive ``<name>.<ext>`` (no number for n = 1)."""
    stem, dot, ext = archive_name.rpartition(".")
    if not dot:
        stem, ext = archive_name, ""
    return f"{stem}.invalid{n if n > 1 else ''}{'.' + ext if ext else ''}"


def move_aside(archive: Path) -> Path:
    """Rename `archive` to the first free invalidated name beside it; return the new path.

    Never replaces a file, even when another process moves a file to the same name at the
    same moment.
    """
    for n in range(1, 10_000):
        target = archive.with_name(invalidated_name(archive.name, n))
        if move_new(archive, target):
            return target
    raise OutputError(
        f"No free name to move {archive} aside: {archive.name} has been invalidated 10,000 "
        f"times. Delete old invalidated files ({archive.stem}.invalid*) in {archive.parent}."
    )


# -- iterations ---------------------------------------------------------------------------------


def iteration_key(family_digest: str, param: str, n: int) -> str:
    """The key of iteration `n` of an iterative task: ``<family digest>__<param><n>``."""
    return f"{family_digest}__{param}{n}"


def iterations_on_disk(
    roots: DataRoots, task_name: str, family_digest: str, param: str
) -> set[int]:
    """Iteration counts with at least one live result file of the family (link or archive)."""
    prefix = f"{family_digest}__{param}"
    found: set[int] = set()
    for folder in (link_dir(roots, task_name), archive_dir(roots, task_name)):
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for filename in names:
            if not filename.startswith(prefix):
                continue
            name = parse(filename)
            if name is not None and not name.invalidated:
                count = name.key[len(prefix) :]
                if count.isdigit():
                    found.add(int(count))
    return found
