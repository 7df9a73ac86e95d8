"""Durations and dates typed on the command line: ``90``, ``90s``, ``1h30m``, ``2d``,
``2026-01-31``, ``2026-01-31T12:00``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import click

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")


def parse_duration(text: str) -> float:
    """Seconds in `text` (a number of seconds, or parts like ``1h30m``, ``2d``)."""
    raw = text.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for match in _PART.finditer(raw):
        if match.start() != pos or (not match.group(2) and (pos or match.end() != len(raw))):
            break  # a number without unit only alone: "1h30" could mean 30 s or 30 min
        total += float(match.group(1)) * _UNITS[match.group(2) or "s"]
        pos = match.end()
    if not raw or pos != len(raw):
        raise click.BadParameter(
            f"{text!r} is not a duration. Write seconds (90), or parts with units s, m, h, d, "
            f"w (1h30m, 2d)."
        )
    return total


def parse_date(text: str) -> datetime:
    """The moment `text` names (an ISO date or date and time, local time unless it says
    otherwise), in UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date. Write it as 2026-01-31 or 2026-01-31T12:00."
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time
    return moment.astimezone(UTC)


class Duration(click.ParamType):
    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        return value if isinstance(value, float) else parse_duration(str(value))


class Date(click.ParamType):
    name = "date"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        return value if isinstance(value, datetime) else parse_date(str(value))
