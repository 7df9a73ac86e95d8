"""What the record-store tools read from, and make of, the names and places of archived
output files: each a separate function, so that one owner of result file names can take
them over.

An output is archived as ``<output store>/<task>/<key>[_<output>][.<n>].<ext>`` (``.<n>``:
the n-th recomputation) and read through a link ``<input store>/<task>/<key>[_<output>].<ext>``;
``invalidate`` renames an archive to ``<name>.invalid[<n>].<ext>``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import RecordingError

#: A numbered archive name (its number removed by `link_for`).
NUMBERED = re.compile(r"\.\d+(\.[A-Za-z0-9]+)$")
#: An output file name: <key>[_<output>][.<n>].<ext> (key: digest, or digest__<param><n>).
OUTPUT_FILE = re.compile(
    r"^(?P<key>[0-9a-f]{8,}(?:__[A-Za-z_]\w*?\d+)?)(?:_(?P<out>[A-Za-z]\w*))?"
    r"(?:\.(?P<n>\d+))?\.(?P<ext>[A-Za-z0-9]+)$"
)
#: A file renamed by `invalidate` (``<name>.invalid[<n>].<ext>``).
INVALIDATED = re.compile(r"\.invalid\d*(\.[^./]+)?$")
#: ``<key>[_<output>][.<n>]`` once the extension is removed.
NUMBER = re.compile(r"\.\d+$")


def link_for(archive_rel: str) -> str:
    """The input-store link name of an archived output (its number, if any, removed)."""
    return NUMBERED.sub(r"\1", archive_rel)


def archive_path(output_root: Path, key_path: str) -> Path:
    """The archived file a record's output path names."""
    return Path(output_root, key_path)


def link_path(input_root: Path, output_root: Path, key_path: str) -> Path | None:
    """The input-store link to the archived file a record's output path names (None: no
    link, when the output path is absolute or both stores are one folder)."""
    if Path(key_path).is_absolute() or input_root == output_root:
        return None
    return Path(input_root, link_for(key_path))


def output_from_name(path: str) -> str:
    """The output name in ``<key>_<output>[.<n>].<ext>`` (``""`` if there is none)."""
    stem = NUMBER.sub("", Path(INVALIDATED.sub("", path)).stem)
    key, _, output = stem.rpartition("_")
    return output if key and output.isidentifier() and not key.endswith("_") else ""


def was_invalidated(path: str) -> bool:
    """Whether `path` is the name `invalidate` gave a file."""
    return INVALIDATED.search(path) is not None


def move_aside(archive: Path) -> Path:
    """Rename `archive` to a free ``<name>.invalid[<n>]<ext>`` beside it (never replacing)."""
    suffix = archive.suffix
    stem = archive.name[: -len(suffix)] if suffix else archive.name
    for n in range(1, 10_000):
        target = archive.with_name(f"{stem}.invalid{n if n > 1 else ''}{suffix}")
        try:
            os.link(archive, target)  # fails if `target` exists
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            if target.exists():
                continue
            os.rename(archive, target)
            return target
        os.unlink(archive)
        return target
    raise RecordingError(f"No free name to move {archive} aside; clean up {archive.parent}.")
