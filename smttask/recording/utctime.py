"""UTC date-times as text, without importing ``datetime`` (a recorded run's first record
would pay for its import): the texts are those ``datetime`` writes."""

from __future__ import annotations

import time


def utc_now() -> tuple[int, str]:
    """(whole seconds since the epoch, ISO 8601 text) of now, in UTC: the text is what
    ``datetime.now(UTC).isoformat()`` writes (microseconds, unless zero; ``+00:00``)."""
    ns = time.time_ns()
    second, micro = divmod(ns // 1000, 1_000_000)
    return second, iso_utc(second, micro)


def iso_utc(second: int, micro: int = 0) -> str:
    """What ``datetime.fromtimestamp(second + micro / 1e6, UTC).isoformat()`` writes."""
    text = utc_texts(second)[0]
    return f"{text}.{micro:06d}+00:00" if micro else f"{text}+00:00"


def utc_texts(second: int) -> tuple[str, str]:
    """(``YYYY-MM-DDTHH:MM:SS``, ``YYYYMMDD-HHMMSS``) of `second` in UTC, made once per
    second."""
    global _second
    if _second[0] != second:
        t = time.gmtime(second)
        iso = (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        )
        compact = (
            f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}-"
            f"{t.tm_hour:02d}{t.tm_min:02d}{t.tm_sec:02d}"
        )
        _second = (second, (iso, compact))
    return _second[1]


_second: tuple[int | None, tuple[str, str]] = (None, ("", ""))
