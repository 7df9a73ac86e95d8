"""Browsing the records of a project's store: ``RSView`` and the ``Record`` objects it holds.

>>> from smttask.view import RSView                                    # doctest: +SKIP
>>> rs = RSView()                                                     # doctest: +SKIP
>>> rs.filter.task("analyze").filter.after(20261101).filter.params(eq={"dt": 0.5}).dframe()  # doctest: +SKIP
>>> rs.latest.task.run()                                              # doctest: +SKIP

Modules: ``rsview`` (the view), ``filters`` (the filters) and their ``steps`` and
``paramsteps``, ``combine`` (unions and intersections of views), ``groups`` (``splitby``),
``record`` (one record), ``files`` (a record's task and result files), ``taskcode`` (the
task's code at a record's commit), ``difference`` (two records compared), ``keys`` (dotted
parameter keys), ``dates`` (date arguments), ``display`` (DataFrames, text, HTML),
``editing`` (tags, comments, reasons, through ``smttask.recording.edit``), ``export``
(records as a JSON document), ``source`` (reading the store through ``smttask.recording``).
See ``docs/view.md``.
"""

from __future__ import annotations

from .difference import Difference
from .errors import CodeNotFoundError, FilterError, RecordNotFoundError
from .record import INVALID, Record
from .rsview import RSView

__all__ = [
    "INVALID",
    "CodeNotFoundError",
    "Difference",
    "FilterError",
    "RSView",
    "Record",
    "RecordNotFoundError",
]
