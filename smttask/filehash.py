"""SHA-1 content hashes of files (what Sumatra's records give each input and output file).

A hash is kept by the file's identity (path, inode, modification time, size), so a file is
read once per process however many records list it, and any change to it (which changes its
modification time) hashes it anew. A file this process has just written is not read back:
the writer notes the hash of the bytes it wrote (``note_written``).
"""

from __future__ import annotations

import hashlib
import os

#: (path, inode, mtime in ns, size) -> SHA-1 hex of the file's content.
_known: dict[tuple[str, int, int, int], str] = {}
_MAX_KNOWN = 10_000


def sha1_of(path: str, st: os.stat_result | None = None) -> tuple[str, os.stat_result]:
    """The SHA-1 (hex) of file `path` and its ``os.stat`` (`st`, if the caller has it)."""
    st = os.stat(path) if st is None else st
    key = (path, st.st_ino, st.st_mtime_ns, st.st_size)
    digest = _known.get(key)
    if digest is None:
        h = hashlib.sha1(usedforsecurity=False)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        _remember(key, digest)
    return digest, st


def note_written(path: str, data: bytes, digest: str | None = None) -> None:
    """Note that file `path` now holds exactly `data` (its writer has just published it):
    a later `sha1_of` of the same file, unchanged, uses this hash instead of reading it.
    `digest`: ``sha1(data)``, if the writer has it already."""
    st = os.stat(path)
    if st.st_size != len(data):  # (not the file written: leave it to be read)
        return
    _remember((path, st.st_ino, st.st_mtime_ns, st.st_size), digest or sha1(data))


def sha1(data: bytes) -> str:
    """The SHA-1 (hex) of `data`."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _remember(key: tuple[str, int, int, int], digest: str) -> None:
    if len(_known) >= _MAX_KNOWN:
        _known.clear()
    _known[key] = digest
