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
    known = _second  # (read once: another thread may replace it meanwhile)
    if known[0] == second:
        return known[1]
    t = time.gmtime(second)
    year, month, day = f"{t.tm_year:04d}", f"{t.tm_mon:02d}", f"{t.tm_mday:02d}"
    hour, minute, sec = f"{t.tm_hour:02d}", f"{t.tm_min:02d}", f"{t.tm_sec:02d}"
    texts = (
        f"{year}-{month}-{day}T{hour}:{minute}:{sec}",
        f"{year}{month}{day}-{hour}{minute}{sec}",
    )
    _second = (second, texts)
    return texts


_second: tuple[int | None, tuple[str, str]] = (None, ("", ""))
