"""Dates and times given to the date filters, read as time spans.

A value names a span as long as its precision: ``2026`` is a year, ``202611`` a month,
``20261101`` (or ``"2026-11-01"``, or a ``date``) a day, ``"2026-11-01 15:30"`` a minute, a
``datetime`` an instant. ``after(x)`` keeps records from the start of the span, ``before(x)``
those before its start, ``on(x)`` those inside it. Values without a time zone are local time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from .errors import FilterError

#: Digits per precision: year, month, day, hour, minute, second.
_DIGIT_FORMATS = {
    4: ("%Y", "year"),
    6: ("%Y%m", "month"),
    8: ("%Y%m%d", "day"),
    10: ("%Y%m%d%H", "hour"),
    12: ("%Y%m%d%H%M", "minute"),
    14: ("%Y%m%d%H%M%S", "second"),
}
#: 2026, 2026-11, 2026-11-01, 20261101-153000, 2026-11-01 15:30, 2026/11/01T15:30:00 ...
_LOOSE = re.compile(
    r"^(\d{4})(?:[-/.]?(\d{2}))?(?:[-/.]?(\d{2}))?(?:[ T_-]?(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$"
)

DateLike = int | str | date | datetime


def span(value: Any) -> tuple[datetime, datetime]:
    """The time span `value` names, as [start, end) in aware datetimes."""
    if isinstance(value, datetime):
        start = _aware(value)
        return start, start
    if isinstance(value, date):
        start = _aware(datetime(value.year, value.month, value.day))
        return start, _aware(datetime(value.year, value.month, value.day) + timedelta(days=1))
    if isinstance(value, int) and not isinstance(value, bool):
        return _digits(str(value), value)
    if isinstance(value, str):
        text = value.strip()
        loose = _LOOSE.match(text)
        if loose:
            return _digits("".join(g for g in loose.groups() if g), value)
        try:
            start = _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
        else:
            return start, start
    raise FilterError(
        f"Cannot read {value!r} as a date or time. Give an int or string like 20261101, "
        f"'2026-11-01', '2026-11-01 15:30' or '20261101-153000' (a record label's prefix), or "
        f"a date or datetime object."
    )


def day_span(value: Any) -> tuple[datetime, datetime]:
    """Like `span`, but an instant (a datetime) stands for its whole day."""
    if isinstance(value, datetime):
        local = _aware(value).astimezone()
        return span(local.date())
    return span(value)


def _digits(digits: str, original: Any) -> tuple[datetime, datetime]:
    found = _DIGIT_FORMATS.get(len(digits))
    if found is None:
        raise FilterError(
            f"Cannot read {original!r} as a date: expected 4 (year), 6 (month), 8 (day), "
            f"10, 12 or 14 digits (YYYYMMDDhhmmss), got {len(digits)}."
        )
    fmt, unit = found
    try:
        start = datetime.strptime(digits, fmt)
    except ValueError:
        raise FilterError(
            f"{original!r} is not a valid date ({fmt.replace('%', '')} expected)."
        ) from None
    return _aware(start), _aware(_next(start, unit))


def _next(start: datetime, unit: str) -> datetime:
    if unit == "year":
        return start.replace(year=start.year + 1)
    if unit == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    step = {"day": timedelta(days=1), "hour": timedelta(hours=1)}.get(unit)
    if step is None:
        step = timedelta(minutes=1) if unit == "minute" else timedelta(seconds=1)
    return start + step


def _aware(value: datetime) -> datetime:
    """`value` with a time zone (naive values are local time)."""
    return value if value.tzinfo is not None else value.astimezone()


def show(value: datetime) -> str:
    """A short text for a datetime in filter descriptions (local time)."""
    local = value.astimezone()
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return f"{local:%Y-%m-%d}"
    return f"{local:%Y-%m-%d %H:%M:%S}"
