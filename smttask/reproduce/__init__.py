"""Reproducing records: re-run a record's task from its recorded commit and description and
compare its outputs with the recorded ones (see ``docs/recording.md``, "Reproducing a result").

>>> from smttask.reproduce import reproduce                  # doctest: +SKIP
>>> [result] = reproduce(["20261101-120000_analyze_0c5d77e1"])  # doctest: +SKIP
>>> result.status                                            # doctest: +SKIP
'identical'

Modules: ``run`` (reproducing records), ``plan`` (what a re-run needs, from the record),
``worktree`` (the commit in a temporary git worktree), ``child`` (the re-run, in its own
process), ``spawn`` (re-run processes, started ahead so that they import smttask while the
record is read), ``compare`` (differences of numbers and arrays), ``model`` (the results).
"""

from __future__ import annotations

from .model import (
    COULD_NOT_RUN,
    DIFFERS,
    IDENTICAL,
    WITHIN,
    InputResult,
    OutputResult,
    Reproduction,
    Tolerance,
)
from .run import reproduce, reproduce_record

__all__ = [
    "COULD_NOT_RUN",
    "DIFFERS",
    "IDENTICAL",
    "WITHIN",
    "InputResult",
    "OutputResult",
    "Reproduction",
    "Tolerance",
    "reproduce",
    "reproduce_record",
]
