"""Opening a project's record store: the implementation its address names.

``open_store()`` first moves every journaled record into the store (see ``flush``). A store is
a ``RecordStore`` (``smttask.recording.api``); for the stores a Sumatra project can name
(SQLite, PostgreSQL, MySQL) it is a ``smttask.recording.django.DjangoStore``, which also
gives Sumatra's own ``Record`` objects (``records()``, ``get()``) and the Django query set
behind them (``queryset()``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config
from .address import require_database
from .flush import flush
from .projectfile import ProjectInfo, require_project

if TYPE_CHECKING:
    from .api import RecordStore


def open_store(root: Path | None = None, *, flush_first: bool = True) -> RecordStore:
    """The record store of the project in `root` (default: the current project); without
    `flush_first`, the store as it is once the journals other processes are moving are in
    it (nothing is moved or written here)."""
    info = require_project(root or config.project_root())
    if flush_first:
        move_waiting(info)
    else:
        from .journal import journal_dir, wait_for_movers

        wait_for_movers(journal_dir(info.root), config.settings.lease_timeout)
    return backend(info)


def backend(info: ProjectInfo) -> RecordStore:
    """The implementation of the project's record store (its tables created if missing);
    ProjectError for a store smttask does not use."""
    require_database(info)
    from .django import DjangoStore

    return DjangoStore(info)


def move_waiting(info: ProjectInfo) -> None:
    """Move every journaled record of the project into its store; warn about those that
    cannot move yet (they stay in their journals)."""
    report = flush(info.root, strict=False)
    for error in report.errors:
        warnings.warn(f"Some records are not in the store yet: {error}", stacklevel=3)
