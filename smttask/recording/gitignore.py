"""The lines smttask keeps in a project's ``.gitignore``: added once, the user's own lines
left as they are."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..fileio import write_atomic

HEADER = "# smttask: results, workflow builds and Snakemake's state are not code"


def _same(line: str) -> str:
    """A line's pattern, as far as telling duplicates apart: ``/data/``, ``data/`` and
    ``data`` name the same folder here."""
    return line.strip().strip("/")


def add_lines(folder: Path, lines: Iterable[str]) -> list[str]:
    """Add to ``folder/.gitignore`` each of `lines` it does not list yet (after a comment
    saying why, once); return the lines added. Never follows a symbolic link."""
    path = folder / ".gitignore"
    try:
        text = path.read_text(encoding="utf-8") if not path.is_symlink() else None
    except FileNotFoundError:
        text = ""
    if text is None:
        raise OSError(f"{path} is a symbolic link; smttask does not write through it")
    have = {_same(x) for x in text.splitlines() if x.strip() and not x.lstrip().startswith("#")}
    new = []
    for line in lines:
        if _same(line) not in have:
            have.add(_same(line))
            new.append(line)
    if new:
        head = "" if HEADER in text else HEADER + "\n"
        sep = "\n" if text and not text.endswith("\n") else ""
        gap = "\n" if text.strip() and head else ""
        write_atomic(path, (text + sep + gap + head + "\n".join(new) + "\n").encode(), fsync=False)
    return new


def relative_folder(root: Path, folder: Path) -> str | None:
    """``/<folder>/`` relative to `root`, for a .gitignore in `root`; None if `folder` is not
    inside `root`."""
    try:
        rel = Path(os.path.abspath(folder)).relative_to(os.path.abspath(root))
    except ValueError:
        return None
    return f"/{rel.as_posix()}/" if rel.parts else None
