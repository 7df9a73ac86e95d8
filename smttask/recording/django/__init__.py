"""Sumatra's Django record store (SQLite, PostgreSQL, MySQL): the only place that knows
Django's ORM and Sumatra's tables.

Modules: ``setup`` (Django settings, tables, locks), ``writer`` (batch writes), ``query``
(store-neutral conditions as Django conditions), ``store`` (``DjangoStore``, the
``RecordSink``/``RecordSource`` of ``smttask.recording.api``), ``tags`` (tag edits, moved
outputs, deleting), ``textfields`` (outcome and reason edits), ``readback`` (whole records;
other databases), ``merge`` (copying another store's records).
"""

from __future__ import annotations

from .store import DjangoStore

__all__ = ["DjangoStore"]
