"""Write rendered files into an output folder: atomically, and only what changed.

* Each file is written to a temporary file and renamed: none is ever half-written.
* A file whose content is unchanged is not touched (its mtime stays, so Snakemake sees
  nothing new after a re-export).
* Task files first, the Snakefile last: an interrupted export never leaves a Snakefile that
  points at missing task files.
* Files written by the previous export that the new one no longer has are removed; the list
  lives in ``.smttask-export``. Files that smttask did not write are never overwritten.
* Every path stays inside the folder: a manifest entry leading out of it (``..``, an absolute
  path, a symbolic link on the way) is never removed, only reported; a file to write whose
  path would lead out of it stops the export before anything is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import CompileError
from ..fileio import write_atomic
from ..jsonparse import read_json_file

MANIFEST = ".smttask-export"
_LAST = ("README.md", "Snakefile")


@dataclass(frozen=True)
class WriteReport:
    folder: Path
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    refused: tuple[str, ...] = ()  # manifest entries outside the folder: one sentence each


def write_files(
    folder: Path, files: Mapping[str, str], *, force: bool = False, dry_run: bool = False
) -> WriteReport:
    """Write `files` ({path relative to `folder`: text}) into `folder`. With `dry_run`, check
    and report the same, but change nothing on disk."""
    previous = _read_manifest(folder)
    if previous is None and not force:
        clashes = [p for p, text in files.items() if _differs(folder / p, text)]
        if clashes and (folder / clashes[0]).exists():
            raise CompileError(
                f"{folder} already holds files that smttask did not write (e.g. "
                f"{clashes[0]}). Export into a new or empty folder (e.g. -o build/), or pass "
                f"--force to overwrite them."
            )
    resolved: dict[str, str] = {}
    outside = [rel for rel in files if not _inside(folder, rel, resolved)]
    if outside:
        raise CompileError(
            f"Cannot write {outside[0]!r} into {folder}: it leads to "
            f"{os.path.realpath(folder / outside[0])}, outside the folder (a symbolic link "
            f"in {folder}?). Export into a new folder, or remove the link."
        )
    refused = [
        f"{folder / MANIFEST} lists {rel!r}, which leads to {os.path.realpath(folder / rel)}, "
        f"outside {folder}: it was not removed (the manifest was edited; it is rewritten now)"
        for rel in previous or ()
        if not _inside(folder, rel, resolved)
    ]
    previous = [rel for rel in previous or () if _inside(folder, rel, resolved)]
    written, unchanged = [], []
    order = sorted(files, key=lambda p: (p in _LAST, _LAST.index(p) if p in _LAST else 0, p))
    for rel in order:
        path = folder / rel
        data = files[rel].encode("utf-8")
        if _same(path, data):
            unchanged.append(rel)
            continue
        if not dry_run:
            write_atomic(path, data, fsync=False)
        written.append(rel)
    removed = []
    for rel in sorted(set(previous) - set(files)):
        path = folder / rel
        if path.is_file():
            if not dry_run:
                path.unlink()
                _prune(path.parent, folder)
            removed.append(rel)
    manifest = json.dumps(sorted(files), indent=0) + "\n"
    if not dry_run and not _same(folder / MANIFEST, manifest.encode()):
        write_atomic(folder / MANIFEST, manifest.encode(), fsync=False)
    return WriteReport(folder, tuple(written), tuple(unchanged), tuple(removed), tuple(refused))


def _read_manifest(folder: Path) -> list[str] | None:
    try:
        names = read_json_file(folder / MANIFEST)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError):
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _inside(folder: Path, rel: str, folders: dict[str, str]) -> bool:
    """Whether `folder`/`rel` lies inside `folder` once both are resolved (``..``, absolute
    paths and symbolic links followed). `folders` remembers resolved folders across calls
    (thousands of task files share a few folders)."""
    top = _realpath(str(folder), folders).rstrip(os.sep) + os.sep
    parent, name = os.path.split(os.path.join(folder, rel))
    path = os.path.join(_realpath(parent, folders), name)
    if name in ("", ".", "..") or os.path.islink(path):
        path = os.path.realpath(path)
    return path.startswith(top)


def _realpath(folder: str, folders: dict[str, str]) -> str:
    real = folders.get(folder)
    if real is None:
        real = folders[folder] = os.path.realpath(folder)
    return real


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
