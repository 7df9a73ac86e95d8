"""Importing Sumatra without scipy.stats.

Sumatra's parameter sets import the ``parameters`` package, whose ``random`` module runs
``import scipy.stats`` when imported (1.5–2.5 s on a busy machine: most of the time it takes
to open a record store) for one use: ``GammaDist.next()``, which reads ``scipy.stats`` from
the ``scipy`` package when called. ``import_parameters`` imports ``parameters`` with a
stand-in in ``sys.modules["scipy.stats"]`` and removes it at once, so ``scipy.stats`` is
imported (the real one, through ``scipy``'s lazy submodules) when something first uses it.
Call it before anything that imports Sumatra.
"""

from __future__ import annotations

import importlib.util
import sys
import types

_STATS = "scipy.stats"


def import_parameters() -> None:
    """Import the ``parameters`` package, leaving scipy.stats to be imported on first use."""
    if "parameters" in sys.modules or _STATS in sys.modules:
        return
    try:
        has_scipy = importlib.util.find_spec("scipy") is not None
    except (ImportError, ValueError):
        has_scipy = False
    if not has_scipy:  # `parameters` notes that scipy is missing, as it would
        import parameters

        return
    stand_in = types.ModuleType(_STATS, "Stands for scipy.stats while `parameters` imports.")
    sys.modules[_STATS] = stand_in
    try:
        import parameters  # noqa: F401
    finally:
        if sys.modules.get(_STATS) is stand_in:
            del sys.modules[_STATS]
        scipy = sys.modules.get("scipy")
        if scipy is not None and scipy.__dict__.get("stats") is stand_in:
            del scipy.__dict__["stats"]
