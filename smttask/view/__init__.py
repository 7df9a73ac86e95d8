"""Browsing the records of a project's store: ``RSView`` and the ``Record`` objects it holds.

>>> from smttask.view import RSView                                    # doctest: +SKIP
>>> rs = RSView()                                                     # doctest: +SKIP
>>> rs.filter.task("analyze").filter.params(eq={"dt": 0.5}).dframe()  # doctest: +SKIP
>>> rs.latest.task.run()                                              # doctest: +SKIP

Modules: ``rsview`` (the view), ``filters`` (the filter steps), ``record`` (one record),
``files`` (a record's task and result files), ``keys`` (dotted parameter keys), ``dates``
(date arguments), ``display`` (DataFrames, text, HTML), ``source`` (reading the store through
``smttask.recording``). See ``docs/view.md``.
"""

from __future__ import annotations

from .errors import FilterError, RecordNotFoundError
from .record import INVALID, Record
from .rsview import RSView

__all__ = ["INVALID", "FilterError", "RSView", "Record", "RecordNotFoundError"]
