"""The recorder's UTC texts are the ones ``datetime`` writes."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from smttask.recording.utctime import iso_utc, utc_now, utc_texts

SECONDS = [0, 1, 59, 86_399, 951_782_400, 1_709_164_799, 4_102_444_799, 32_503_680_000]


def _check(second: int, micro: int) -> None:
    when = datetime.fromtimestamp(second, UTC).replace(microsecond=micro)
    assert iso_utc(second, micro) == when.isoformat(), (second, micro)
    assert utc_texts(second)[1] == f"{when:%Y%m%d-%H%M%S}", second
    assert datetime.fromisoformat(iso_utc(second, micro)) == when


@pytest.mark.parametrize("second", SECONDS)
@pytest.mark.parametrize("micro", [0, 1, 999_999, 123_456])
def test_texts_are_datetimes(second: int, micro: int) -> None:
    _check(second, micro)


def test_texts_of_random_times_are_datetimes() -> None:
    rng = random.Random(3)
    for _ in range(5000):
        _check(rng.randrange(2**35), rng.choice([0, rng.randrange(1_000_000)]))


def test_now_is_now() -> None:
    before = datetime.now(UTC)
    second, text = utc_now()
    after = datetime.now(UTC)
    assert before <= datetime.fromisoformat(text) <= after
    assert second == int(datetime.fromisoformat(text).timestamp())


def test_no_datetime_import() -> None:
    code = (
        "import sys, smttask.recording.utctime as u; u.utc_now(); print('datetime' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
