"""A cache of source digests next to Python's own bytecode cache, so that a fresh process
finds the code identity of a task without reading and parsing its source.

One small JSON file per source file, beside its ``.pyc`` (``__pycache__/<name>.<tag>
.smttask-code.json``, or under ``sys.pycache_prefix``). It holds the (mtime, size) of the
source it was made from and, per definition, the digest of its canonical source *together
with the digest of the bytecode that source compiles to*. An entry is used only when the
source file still has that (mtime, size) **and** the code running in this process has that
bytecode digest: a stale or mismatched entry is a miss, never a wrong fingerprint, because
the digest it gives describes source that compiles to exactly the running code.

The file is written atomically by the process that computed its entries, unless Python is
told not to write bytecode (``PYTHONDONTWRITEBYTECODE``); a folder that cannot be written
only means no cache. Like ``.pyc`` files, the cache belongs to the project's own tree and is
trusted as much as its source.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from .fileio import write_atomic

#: The layout of a cache file; bump it when the canonical form or the entries change.
FORMAT = 1
_SUFFIX = f".smttask-code-{FORMAT}.json"
#: Cache files larger than this are not read (a healthy one holds a few hundred bytes per
#: definition).
MAX_BYTES = 4 * 2**20


class _File:
    __slots__ = ("dirty", "entries", "source")

    def __init__(self, source: tuple[int, int], entries: dict[str, Any]) -> None:
        self.source = source
        self.entries = entries
        self.dirty = False


_files: dict[str, _File] = {}


def cache_path(filename: str) -> str | None:
    """Where the cache of source file `filename` lives (None: it has none)."""
    if not filename.endswith(".py"):
        return None
    try:
        pyc = importlib.util.cache_from_source(filename)
    except (NotImplementedError, ValueError):
        return None
    return pyc.removesuffix(".pyc") + _SUFFIX


def _file(filename: str, source: tuple[int, int]) -> _File | None:
    known = _files.get(filename)
    if known is not None and known.source == source:
        return known
    path = cache_path(filename)
    if path is None:
        return None
    entries: dict[str, Any] = {}
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
        loaded = json.loads(data) if len(data) <= MAX_BYTES else None
        if (
            isinstance(loaded, dict)
            and loaded.get("format") == FORMAT
            and loaded.get("source") == list(source)
            and isinstance(loaded.get("entries"), dict)
        ):
            entries = loaded["entries"]
    except (OSError, ValueError):
        pass
    cached = _File(source, entries)
    _files[filename] = cached
    return cached


def preload(filename: str, source: tuple[int, int]) -> None:
    """Read the cache of source file `filename` (now of version `source`) ahead of its first
    `lookup` (a task type does when it is defined: its first digest then reads no file)."""
    _file(filename, source)


def lookup(filename: str, source: tuple[int, int], key: str, code: str) -> dict[str, Any] | None:
    """The entry `key` of source file `filename` (now of version `source`), if it was made
    for running code of bytecode digest `code`."""
    cached = _file(filename, source)
    if cached is None:
        return None
    entry = cached.entries.get(key)
    if isinstance(entry, dict) and entry.get("code") == code:
        return entry
    return None


def store(filename: str, source: tuple[int, int], key: str, entry: dict[str, Any]) -> None:
    """Remember `entry` (holding the bytecode digest under ``"code"``) for `key`; written to
    disk by `flush`."""
    cached = _file(filename, source)
    if cached is None:
        return
    if cached.entries.get(key) != entry:
        cached.entries[key] = entry
        cached.dirty = True


def flush() -> None:
    """Write the cache files that gained entries (errors only mean no cache)."""
    if sys.dont_write_bytecode:
        return
    for filename, cached in list(_files.items()):
        if not cached.dirty:
            continue
        cached.dirty = False
        path = cache_path(filename)
        if path is None:
            continue
        text = json.dumps(
            {"format": FORMAT, "source": list(cached.source), "entries": cached.entries},
            sort_keys=True,
            separators=(",", ":"),
        )
        try:
            write_atomic(Path(path), text.encode(), fsync=False)
        except OSError:
            continue
