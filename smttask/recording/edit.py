"""Changing stored records on request: their tags, and invalidating their results.

These are the changes ``smttask.view`` makes (a view only reads; it asks these functions to
write). They work on any ``RecordStore`` (``smttask.recording.api``).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..storage import DataRoots, PathOutside, archive_at, is_invalidated, link_at, move_aside

if TYPE_CHECKING:
    from .api import RecordStore

#: The tag `invalidate()` adds.
INVALID_TAG = "_invalid_"


def edit_tags(
    store: RecordStore,
    labels: Iterable[str],
    add: Collection[str] = (),
    remove: Collection[str] = (),
) -> dict[str, frozenset[str]]:
    """Add and remove tags of the records with these labels; return the new tags of those
    found (a tag is one word of at most 50 characters: RecordingError otherwise)."""
    return store.edit_tags(labels, add, remove)


@dataclass(frozen=True)
class Invalidated:
    files: list[Path]  # the record's files, renamed
    tags: frozenset[str] | None  # its new tags (None: the record is no longer in the store)
    refused: tuple[str, ...] = ()  # its outputs outside the data stores, left alone


def invalidate(store: RecordStore, label: str, digest: str | None = None) -> Invalidated:
    """Mark the record `label` invalid, so that its task never loads its results again.

    Removes the input-store links pointing to the record's files, renames those files
    beside themselves (``<name>.invalid[<n>].<ext>``) and records the new names (in every
    record naming them), tags the record ``_invalid_``, and forgets the task's result kept
    in this process's memory (`digest`: the task's digest). Nothing is deleted; running it
    again changes nothing. If recording the new names fails, the files get their names back.
    An output path leading outside the data stores is left alone and listed in `refused`.
    """
    info = store.info
    roots = DataRoots(info.input_root, info.output_root)
    moves: dict[str, str] = {}
    kept: list[Path] = []
    refused: list[str] = []
    done: list[tuple[Path, Path]] = []
    try:
        for key in store.outputs(label):
            try:
                archive = archive_at(roots, key.path)
                link = link_at(roots, key.path)
            except PathOutside as exc:
                who = f"Record {label} names the output"
                refused.append(exc.sentence(who, "it is not renamed"))
                continue
            if is_invalidated(key.path.rpartition("/")[2]):
                kept.append(archive)  # invalidated before
                continue
            if link is not None and link.is_symlink() and _same(link, archive):
                link.unlink()
            if not archive.exists():
                continue
            target = move_aside(archive)
            done.append((archive, target))
            moves[key.path] = target.relative_to(info.output_root).as_posix()
            kept.append(target)
        if moves:
            store.move_outputs(moves)
    except BaseException:
        for archive, target in reversed(done):  # the record still names the old paths
            os.replace(target, archive)
        raise
    tags = store.edit_tags([label], add=(INVALID_TAG,)).get(label)
    if digest is not None:
        from ..task import memory_cache

        memory_cache.pop(digest, None)
    return Invalidated(kept, tags, tuple(refused))


def _same(link: Path, archive: Path) -> bool:
    return os.path.realpath(link) == os.path.realpath(archive)
