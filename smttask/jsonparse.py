"""Reading JSON from files, bounded: what would change a value or exhaust the reader is refused.

Task files, records and stored results are JSON written by ``json.dumps``. Reading one refuses
(``ValueError``, with a message) number literals that overflow a float (``1e999``) or
underflow to zero (``1e-999``), integers longer than Python reads, and nesting deeper than a
limit: never a silently changed value, never a ``RecursionError``. ``NaN`` and ``Infinity``,
which ``json.dumps`` writes for ``nan`` and ``inf``, stay allowed.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_JSON_FILE_BYTES",
    "MAX_VALUE_DEPTH",
    "check_depth",
    "parse_json",
    "read_json_file",
]

#: Deepest nesting of one encoded value (a task-file input, a stored result) smttask reads.
MAX_VALUE_DEPTH = 100


def parse_json(text: str | bytes, *, max_depth: int = MAX_VALUE_DEPTH) -> Any:
    """The value of JSON `text`, refusing (ValueError) what would change or exhaust it: number
    literals that overflow a float (``1e999``) or underflow to zero (``1e-999``), integers
    longer than Python reads, nesting deeper than `max_depth`. ``NaN`` and ``Infinity``
    (what ``json.dumps`` writes for them) stay allowed."""
    raw = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        if may_be_risky(text):  # only then pay for checking every literal
            value = json.loads(raw, parse_float=_float_literal, parse_int=_int_literal)
        else:
            value = json.loads(raw)
    except RecursionError:
        raise ValueError(
            f"it is nested deeper than {max_depth} levels, more than smttask reads"
        ) from None
    if raw.count("[") + raw.count("{") > max_depth:  # else it cannot nest that deep
        check_depth(value, max_depth)
    return value


def may_be_risky(text: str | bytes) -> bool:
    """Whether `text` holds a 3-digit exponent (``[eE][-+]?[0-9]{3}``) or 300 digits in a row
    (``[0-9]{300}``): only a number literal with one can overflow a float, underflow to zero,
    or be an integer too long for Python to read. Found by substring search once every digit
    reads as ``0`` and ``E`` as ``e`` (a regular expression takes ~15 times longer)."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    shape = data.translate(_SHAPES)
    return b"e000" in shape or b"e+000" in shape or b"e-000" in shape or _DIGIT_RUN in shape


_SHAPES = bytes.maketrans(b"123456789E", b"000000000e")
_DIGIT_RUN = b"0" * 300


def _float_literal(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text} is too large for a float (it would become inf)")
    if value == 0.0 and any(c in "123456789" for c in text.lower().split("e")[0]):
        raise ValueError(f"the number {text} is too small for a float (it would become 0.0)")
    return value


def _int_literal(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"the integer {text[:20]}… has too many digits to be read") from None


def check_depth(value: Any, limit: int, *, boundary: str | None = None) -> None:
    """Raise ValueError if lists and dicts nest deeper than `limit` in `value`; with
    `boundary`, a dict holding that key starts a new count (an embedded task file)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, Mapping):
            if boundary is not None and depth > 1 and boundary in v:
                continue
            children: Any = v.values()
        elif isinstance(v, (list, tuple)):
            children = v
        else:
            continue
        if depth > limit:
            raise ValueError(f"it is nested more than {limit} levels deep, more than smttask reads")
        stack.extend((c, depth + 1) for c in children if isinstance(c, (Mapping, list, tuple)))


#: Largest JSON file (a project file, a manifest) `read_json_file` reads by default.
MAX_JSON_FILE_BYTES = 16 * 2**20


def read_json_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_JSON_FILE_BYTES,
    max_depth: int = MAX_VALUE_DEPTH,
) -> Any:
    """The JSON value of the file `path`, read bounded: a FIFO, a device or a folder is refused
    without being read, and so is a file of more than `max_bytes`; its text goes through
    `parse_json`. Raises OSError (cannot open it) or ValueError (with the reason)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("it is not a regular file (a FIFO, a device or a folder)")
        chunks, left = [], max_bytes + 1
        while left > 0 and (chunk := os.read(fd, min(left, 2**20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise ValueError(f"it has more than {max_bytes} bytes, more than smttask reads")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"it is not UTF-8 text ({exc})") from None
    return parse_json(text, max_depth=max_depth)
