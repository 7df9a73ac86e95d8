"""Records as a JSON document that any program can read (``RSView.export``).

The document (``docs/view.md``, "Exporting records", describes it)::

    {"format": "smttask-records", "format_version": 1,
     "project": "<name>", "exported": "<ISO time, UTC>",
     "output_store": "<absolute path>", "input_store": "<absolute path>",
     "records": [{<every field of a record, as docs/recording.md lists them>}, ...]}

Records are newest first; each holds its parameters (the task description), its output
files (path relative to ``output_store``, SHA-1, creation time, size and output name) and
the rest of what the store keeps (code version, packages, captured output...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RecordingError
from ..fileio import publish_new, write_atomic
from .errors import RecordNotFoundError

if TYPE_CHECKING:
    from ..recording.projectfile import ProjectInfo
    from .record import Record

FORMAT = "smttask-records"
FORMAT_VERSION = 1


def document(info: ProjectInfo, records: Sequence[Record]) -> dict[str, Any]:
    """The export document of `records` of the project `info` (every field read from their
    store)."""
    out: list[dict[str, Any]] = []
    for record in records:
        source = record._source
        found = source.store.record(record.label)
        if found is None:
            raise RecordNotFoundError(
                f"Record {record.label} is no longer in the store {source.info.store}; it was "
                f"deleted or replaced. Read the records again (rs.refresh()) and export them."
            )
        out.append(found)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "project": info.name,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "output_store": str(info.output_root),
        "input_store": str(info.input_root),
        "records": out,
    }


def text(info: ProjectInfo, records: Sequence[Record], indent: int | None = 2) -> str:
    """The export document of `records` as JSON text."""
    try:
        return json.dumps(document(info, records), indent=indent, ensure_ascii=False) + "\n"
    except (TypeError, ValueError) as exc:  # a store keeping something that is not JSON
        raise RecordingError(f"The records cannot be written as JSON: {exc}.") from None


def write(
    info: ProjectInfo, records: Sequence[Record], path: str | Path, *, overwrite: bool, indent: int
) -> Path:
    """Write the export document of `records` to `path` (complete or not at all)."""
    target = Path(path)
    if target.is_dir():
        raise RecordingError(
            f"{target} is a folder; export() writes one JSON file. Give a file name, e.g. "
            f"{target / 'records.json'}."
        )
    data = text(info, records, indent).encode()
    if overwrite:
        write_atomic(target, data)
    elif not publish_new(target, data):
        raise RecordingError(
            f"{target} exists, and export() does not replace files. Choose another name, or "
            f"pass overwrite=True to replace it."
        )
    return target
