"""Importing Sumatra's record store without SciPy.

``sumatra.recordstore`` imports ``sumatra.parameters``, which imports the ``parameters``
package, whose ``parameters.random`` tries ``import scipy.stats`` (for the gamma distribution
of its parameter spaces, which smttask never uses). With SciPy installed that import costs
more than the rest of a recorded ``smttask run`` (~0.5-1.5 s here), and it would put SciPy
among the dependencies of every record made later in the process.

``without_scipy()`` keeps SciPy out while Sumatra loads: in the importing thread only, and only
while its block runs, ``import scipy`` and ``import scipy.<sub>`` raise ModuleNotFoundError
(which ``parameters.random`` expects: its gamma distribution then says that SciPy was not
found). Other threads import SciPy as usual meanwhile, and afterwards every thread does; a
SciPy already imported is left alone.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["without_scipy"]


class _KeepOut:
    """A meta path finder refusing SciPy to one thread."""

    def __init__(self, thread: int) -> None:
        self.thread = thread

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if (name == "scipy" or name.startswith("scipy.")) and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"{name} is not imported while Sumatra loads", name=name)
        return None


@contextmanager
def without_scipy() -> Iterator[None]:
    """Import Sumatra's modules in this block: SciPy stays out of them (see the module
    docstring)."""
    if "scipy.stats" in sys.modules:  # nothing to save
        yield
        return
    finder = _KeepOut(threading.get_ident())
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
