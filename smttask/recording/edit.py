"""Changing stored records on request: their tags, comments and reasons, and invalidating
their results.

These are the changes ``smttask.view`` makes (a view only reads; it asks these functions to
write). They work on any ``RecordStore`` (``smttask.recording.api``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RecordingError
from ..storage import DataRoots, PathOutside, archive_at, is_invalidated, link_at, move_aside

if TYPE_CHECKING:
    from .api import RecordStore, TextChange

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


def update_fields(
    store: RecordStore,
    label: str,
    *,
    outcome: TextChange | None = None,
    reason: TextChange | None = None,
) -> dict[str, str] | None:
    """Change the outcome and/or reason of the record `label`: each the new text, or a
    function of the stored text returning it; return the new texts (None: no such record)."""
    return store.update_fields(label, outcome=outcome, reason=reason)


def add_comment(
    store: RecordStore, labels: Iterable[str], comment: str, *, replace: bool = False
) -> dict[str, str]:
    """Add `comment` to the outcome of the records with these labels, on a line of its own
    after the outcome there is (as Sumatra's ``smt comment`` does), unless the outcome
    already contains it; with `replace`, the outcome becomes `comment`. Return the new
    outcome of each record found."""
    if not isinstance(comment, str) or not comment.strip():
        raise RecordingError(f"A comment is some text, not {comment!r}.")

    def change(old: str) -> str:
        if replace or not old:
            return comment
        return old if comment in old else f"{old}\n{comment}"

    return _each(store, labels, "outcome", change)


#: How `update_reason` changes a reason (SumatraTask's names of the same modes too).
REASON_MODES = ("prepend", "append", "replace", "substitute", "callback")
_MODE_NAMES = {"replace all": "replace", "replace substr": "substitute"}


def update_reason(
    store: RecordStore,
    labels: Iterable[str],
    reason: str | Mapping[str, str] | Callable[[str], str | None],
    mode: str = "prepend",
) -> dict[str, str]:
    """Change the reason of the records with these labels; return each new reason.

    `mode` (the default follows from `reason` when it is a mapping or a function):
    ``prepend`` / ``append``: `reason` + the reason / the reason + `reason` (unchanged if
    the reason already contains `reason`); ``replace``: `reason`; ``substitute``: for each
    ``{pattern: text}`` of `reason`, ``re.sub(pattern, text, reason)``; ``callback``:
    ``reason(old)``, the reason kept when it returns None.
    """
    mode = _MODE_NAMES.get(mode, mode)
    if mode not in REASON_MODES:
        raise RecordingError(
            f"Unknown mode {mode!r} for a reason; the modes are {', '.join(REASON_MODES)}."
        )
    if isinstance(reason, Mapping) and mode == "prepend":
        mode = "substitute"
    elif callable(reason) and mode == "prepend":
        mode = "callback"
    wants = {"substitute": "a mapping {pattern: text}", "callback": "a function of the reason"}
    ok = {
        "substitute": isinstance(reason, Mapping),
        "callback": callable(reason) and not isinstance(reason, Mapping),
    }.get(mode, isinstance(reason, str))
    if not ok:
        want = wants.get(mode, "text")
        raise RecordingError(f"Mode {mode!r} takes {want} as the reason, not {reason!r}.")
    return _each(store, labels, "reason", _reason_change(reason, mode))


def _reason_change(
    reason: str | Mapping[str, str] | Callable[[str], str | None], mode: str
) -> Callable[[str], str]:
    if isinstance(reason, str):
        text = reason
        if mode == "replace":
            return lambda old: text
        if mode == "append":
            return lambda old: old if text in old else old + text
        return lambda old: old if text in old else text + old
    if isinstance(reason, Mapping):
        subs = []
        for pattern, new in reason.items():
            if not isinstance(pattern, str) or not isinstance(new, str):
                raise RecordingError(
                    f"Substitutions map patterns to text, not {pattern!r} to {new!r}."
                )
            try:
                subs.append((re.compile(pattern), new))
            except re.error as exc:
                raise RecordingError(f"Invalid regular expression {pattern!r}: {exc}.") from None

        def substitute(old: str) -> str:
            for compiled, new in subs:
                old = compiled.sub(new, old)
            return old

        return substitute
    callback = reason

    def call(old: str) -> str:
        new = callback(old)
        return old if new is None else new

    return call


def _each(
    store: RecordStore, labels: Iterable[str], field: str, change: Callable[[str], str]
) -> dict[str, str]:
    done = {}
    for label in dict.fromkeys(labels):
        new = store.update_fields(label, **{field: change})
        if new is not None:
            done[label] = new[field]
    return done


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
