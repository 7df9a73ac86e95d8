"""Folder results: the files a task with an ``OutputDir`` parameter writes.

The task's function writes into a fresh hidden folder next to the archives,
``<output store>/<task>/.<key>.<random>.tmp``. When it returns, the store lists every file
with its size and SHA-1 in a manifest (``MANIFEST``, inside the folder), then renames the
folder to its archive name ``<key>.files`` (``.<n>.files`` with ``recompute``) in one
``rename``: the archive exists complete or not at all. A run that crashes leaves only the
hidden scratch folder, which no name parses and nothing loads (remove it at leisure).

Loading checks that the folder reached lies where the task's archives are kept (as for
files) and holds its manifest; the result is the archive folder's path. The files' content
is hashed into the record when the task finishes (``smttask.recording.fields``).

Folders may hold subfolders, but no symbolic link and nothing that is not a regular file:
those are refused when the result is published (a link could lead anywhere).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..fileio import write_atomic
from ..taskoutput import OutputDir, is_output_dir
from .formats import OutputFormat, register_format

#: The manifest's file name, inside every published folder.
MANIFEST = ".smttask-files.json"
_SCRATCH_SUFFIX = ".tmp"


class FolderFormat(OutputFormat):
    """``OutputDir`` results: a folder ``<key>.files`` instead of a file. The output store
    moves the folder itself (``publish``); there are no bytes to encode or decode."""

    name, extension = "folder", "files"

    def stores(self, annotation: Any) -> bool:
        return is_output_dir(annotation)

    def encode(self, value: Any, annotation: Any) -> bytes:
        raise OutputError("An OutputDir result is a folder: the output store publishes it.")

    def decode(self, data: bytes, annotation: Any) -> Any:
        raise ValueError("an OutputDir result is a folder, not the content of one file")


def new_folder(archive_dir: Path, key: str) -> OutputDir:
    """A fresh, empty scratch folder for the task `key`, in its archive folder."""
    import tempfile

    archive_dir.mkdir(parents=True, exist_ok=True)
    path = tempfile.mkdtemp(prefix=f".{key}.", suffix=_SCRATCH_SUFFIX, dir=archive_dir)
    os.chmod(path, 0o755)  # mkdtemp makes it 0700; results are read by others too
    return OutputDir(path)


def is_scratch(path: Path, archive_dir: Path) -> bool:
    return (
        path.parent == archive_dir
        and path.name.startswith(".")
        and path.name.endswith(_SCRATCH_SUFFIX)
    )


def discard(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def manifest(folder: Path, *, fsync: bool) -> dict[str, Any]:
    """Every file under `folder` with its size and SHA-1 (sorted by path); refuses links and
    special files. With `fsync`, the files are flushed to disk too."""
    files: dict[str, dict[str, Any]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                raise OutputError(
                    f"The output folder holds {path}, which is a symbolic link or not a regular "
                    f"file. A task's output folder may only hold files and folders (a link "
                    f"could lead outside the data store); copy the file into it instead."
                )
        for name in sorted(filenames):
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if rel == MANIFEST:
                raise OutputError(
                    f"The output folder holds a file named {MANIFEST}, a name smttask keeps "
                    f"for its list of the folder's files. Rename {path}."
                )
            files[rel] = _describe(path, fsync=fsync)
    return {"format": "smttask-files", "version": 1, "files": dict(sorted(files.items()))}


def _describe(path: Path, *, fsync: bool) -> dict[str, Any]:
    sha1 = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha1.update(chunk)
        if fsync:
            os.fsync(f.fileno())
    return {"size": path.stat().st_size, "sha1": sha1.hexdigest()}


def seal(scratch: Path, *, fsync: bool) -> None:
    """Write the manifest of the finished scratch folder `scratch` into it."""
    content = manifest(scratch, fsync=fsync)
    write_atomic(scratch / MANIFEST, (json.dumps(content, indent=1) + "\n").encode(), fsync=fsync)


def move(scratch: Path, archive: Path) -> bool:
    """Rename the sealed `scratch` to `archive`; False if `archive` exists (another run
    published it first: `scratch` is left where it is)."""
    try:
        os.rename(scratch, archive)  # a published folder is never empty: never replaced
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
        return False
    return True


def check_loadable(folder: str) -> OutputDir:
    """The published result folder `folder` (already found where the task's archives lie)."""
    if not os.path.isfile(os.path.join(folder, MANIFEST)):
        raise OutputError(
            f"The result folder {folder} has no {MANIFEST}: smttask did not publish it (a "
            f"published folder always lists its files). Remove it (rm -r {folder}) or run the "
            f"task with recompute=True."
        )
    return OutputDir(folder)


register_format(FolderFormat())
