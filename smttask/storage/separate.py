"""Variable outputs on disk (``smttask.typing``): one file per value, then an index file.

The values of a variable output are written first, each to its own file
(``<key>_<name>.<ext>``, or ``<key>_<field>_<name>.<ext>`` for a ``TaskOutput`` field, in the
format of the value type); the index, ``<key>[_<field>].json``, is written last and lists them
in order, with the SHA-1 of each::

    {"smttask-separate-outputs": 1, "files": [["4", "<key>_higher_4.json", "<sha1>"], ...]}

So a result is complete exactly when its index exists (a killed writer leaves values without
an index: nothing loads them, and the next run writes the index), the index's own SHA-1 (in the
provenance record) vouches for every value, and the files an index names are checked to be
plain result files of the same folder before anything is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..filehash import sha1 as sha1
from ..jsonparse import parse_json
from ..typing import check_names
from . import layout

__all__ = ["INDEX_KEY", "Entry", "index_bytes", "parse_index", "sha1"]

INDEX_KEY = "smttask-separate-outputs"
INDEX_VERSION = 1


@dataclass(frozen=True)
class Entry:
    """One value of a variable output: its name, its file (in the index's folder), its SHA-1."""

    name: str
    file: str
    sha1: str


def index_bytes(entries: list[Entry]) -> bytes:
    files = [[e.name, e.file, e.sha1] for e in entries]
    return json.dumps({INDEX_KEY: INDEX_VERSION, "files": files}, indent=1).encode()


def parse_index(data: bytes, key: str) -> list[Entry]:
    """The entries of an index file of the result `key`; ValueError if it is not one."""
    doc = parse_json(data)
    if not isinstance(doc, dict) or doc.get(INDEX_KEY) != INDEX_VERSION:
        raise ValueError(f"it is not an index of variable outputs (no {INDEX_KEY!r}: 1)")
    files = doc.get("files")
    if not isinstance(files, list):
        raise ValueError("its 'files' is not a list")
    entries = []
    for item in files:
        if not (
            isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) for x in item)
        ):
            raise ValueError(f"{item!r} is not a [name, file, sha1] entry")
        name, file, digest = item
        parsed = layout.parse(file)
        if parsed is None or parsed.key != key or parsed.invalidated or "/" in file:
            raise ValueError(f"{file!r} is not the name of a result file of {key}")
        if len(digest) != 40 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{digest!r} is not a SHA-1")
        entries.append(Entry(name, file, digest))
    try:
        check_names(tuple(e.name for e in entries), "index")
    except Exception as exc:
        raise ValueError(str(exc)) from None
    return entries
