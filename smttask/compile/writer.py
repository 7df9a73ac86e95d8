"""Write rendered files into an output folder: atomically, and only what changed.

* Each file is written to a temporary file and renamed: none is ever half-written.
* A file whose content is unchanged is not touched (its mtime stays, so Snakemake sees
  nothing new after a re-export).
* Task files first, the Snakefile last: an interrupted export never leaves a Snakefile that
  points at missing task files.
* Files written by the previous export that the new one no longer has are removed; the list
  lives in ``.smttask-export``. Files that smttask did not write are never overwritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import CompileError
from ..storage.atomic import write_atomic

MANIFEST = ".smttask-export"
_LAST = ("README.md", "Snakefile")


@dataclass(frozen=True)
class WriteReport:
    folder: Path
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def write_files(folder: Path, files: Mapping[str, str], *, force: bool = False) -> WriteReport:
    """Write `files` ({path relative to `folder`: text}) into `folder`."""
    previous = _read_manifest(folder)
    if previous is None and not force:
        clashes = [p for p, text in files.items() if _differs(folder / p, text)]
        if clashes and (folder / clashes[0]).exists():
            raise CompileError(
                f"{folder} already holds files that smttask did not write (e.g. "
                f"{clashes[0]}). Export into a new or empty folder (e.g. -o build/), or pass "
                f"--force to overwrite them."
            )
    written, unchanged = [], []
    order = sorted(files, key=lambda p: (p in _LAST, _LAST.index(p) if p in _LAST else 0, p))
    for rel in order:
        path = folder / rel
        data = files[rel].encode("utf-8")
        if _same(path, data):
            unchanged.append(rel)
            continue
        write_atomic(path, data, fsync=False)
        written.append(rel)
    removed = []
    for rel in sorted(set(previous or ()) - set(files)):
        path = folder / rel
        if path.is_file():
            path.unlink()
            removed.append(rel)
            _prune(path.parent, folder)
    manifest = json.dumps(sorted(files), indent=0) + "\n"
    if not _same(folder / MANIFEST, manifest.encode()):
        write_atomic(folder / MANIFEST, manifest.encode(), fsync=False)
    return WriteReport(folder, tuple(written), tuple(unchanged), tuple(removed))


def _read_manifest(folder: Path) -> list[str] | None:
    try:
        names = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError):
        return []
    return [n for n in names if isinstance(n, str) and ".." not in Path(n).parts]


def _same(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _differs(path: Path, text: str) -> bool:
    return path.exists() and not _same(path, text.encode("utf-8"))


def _prune(folder: Path, top: Path) -> None:
    """Remove `folder` and its parents up to `top` while they are empty."""
    while folder != top and top in folder.parents:
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = folder.parent
