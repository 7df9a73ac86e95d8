"""Errors of record browsing (part of smttask's one hierarchy, under ``SmttaskError``)."""

from __future__ import annotations

from ..errors import RecordingError, SmttaskError


class FilterError(SmttaskError, ValueError):
    """A filter was given a value it cannot use (a date it cannot read, an unknown status...)."""


class RecordNotFoundError(RecordingError, LookupError):
    """No record has that label, or a view holds no record where one is needed."""


class CodeNotFoundError(RecordingError, LookupError):
    """The code a record ran cannot be read back: its commit or file is gone, or the task's
    function is not in it."""
