"""Opening a record store imports Sumatra without scipy.stats; scipy.stats still works."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("scipy")

CHECK = """
import json, sys
{first}
import smttask.recording.django.store
stats_after_store = sys.modules.get("scipy.stats")
random = sys.modules["parameters.random"]
draws = random.GammaDist(mean=2.0, std=1.0).next(3)  # reads scipy.stats when called
import scipy.stats
print(json.dumps({{
    "stats_after_store": None if stats_after_store is None else stats_after_store.__file__,
    "have_scipy": random.have_scipy,
    "draws": len(draws),
    "real_stats": hasattr(scipy.stats, "gamma") and scipy.stats is sys.modules["scipy.stats"],
    "same_module": random.scipy.stats is scipy.stats,
    "kept": {kept},
}}))
"""


def _run(first: str = "", kept: str = "None") -> dict[str, object]:
    code = CHECK.format(first=first, kept=kept)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def test_opening_the_store_leaves_scipy_stats_to_its_first_use() -> None:
    found = _run()
    assert found["stats_after_store"] is None
    assert found["have_scipy"] is True
    assert found["draws"] == 3
    assert found["real_stats"] is True and found["same_module"] is True


def test_scipy_stats_imported_before_is_the_one_sumatra_sees() -> None:
    found = _run("import scipy.stats; before = scipy.stats", "before is sys.modules['scipy.stats']")
    assert found["stats_after_store"] is not None
    assert found["kept"] is True and found["same_module"] is True
