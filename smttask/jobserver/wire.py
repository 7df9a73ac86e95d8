"""The server's side of the wire format described in ``smttask_job``: JSON messages."""

from __future__ import annotations

import json
from collections.abc import Mapping


def encode(message: Mapping[str, object]) -> bytes:
    """One message (``smttask_job.answer`` reads the one-key ones without ``json``)."""
    return json.dumps(dict(message), separators=(",", ":")).encode()


def decode(data: bytes) -> dict[str, object]:
    """A message; ValueError if `data` is not a JSON object."""
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError(f"not a message: {data[:80]!r}")
    return value
