"""Saying so when the code that runs is not the code in its file.

Code identity follows the code that runs (``codewalk``): a function whose file no longer
compiles to its running code is identified by its byte code, so its results never mix with
those of the file's new code. But the user, who edited the file, expects the new code to run.
Two causes are worth a warning, and one of them needs a repair:

- the file was edited after this process imported it (a notebook, a long session): the new
  code runs once the module is imported again (a new process);
- Python loaded an **out-of-date compiled file**: it trusts a ``.pyc`` whose header records
  the source's modification time in whole seconds and its size, so a file edited twice within
  one second without changing size keeps its first compiled code, in every new process. The
  compiled file is then removed (it is only a cache), so the next process compiles the file.

Anything else (a function made by a factory, a file that never held the code) stays silent,
as before. Each file is reported once per version of it.
"""

from __future__ import annotations

import importlib.util
import os
import time
import warnings


class StaleCodeWarning(UserWarning):
    """The code that runs is not what its source file holds now."""


#: When this module was imported: a file modified later was edited during this process.
_STARTED_NS = time.time_ns()

#: (file, mtime in ns, size) already reported in this process.
_reported: set[tuple[str, int, int]] = set()


def report_mismatch(filename: str, qualname: str, *, edited: bool) -> None:
    """Warn (once per version of `filename`) when the running `qualname` differs from its
    file because an out-of-date ``.pyc`` was loaded (then removed), or, with `edited` (the
    file holds another definition of `qualname`), because the file changed after this
    process started."""
    try:
        st = os.stat(filename)
    except (OSError, ValueError):
        return
    key = (filename, st.st_mtime_ns, st.st_size)
    if key in _reported:
        return
    pyc = _stale_compiled_file(filename, st)
    if pyc is not None:
        _reported.add(key)
        removed = _remove(pyc)
        warnings.warn(
            f"{qualname} runs old code: Python loaded the compiled file {pyc}, made from an "
            f"earlier version of {filename} (the file was edited within the same second "
            "without changing size, which Python's check of compiled files cannot see). Its "
            "results are identified by the code that ran, so they do not mix with the new "
            "code's. "
            + (
                "The compiled file is removed: run again in a new Python process to run the "
                "code in the file."
                if removed
                else f"Delete {pyc} and run again in a new Python process to run the code in "
                "the file."
            ),
            StaleCodeWarning,
            stacklevel=2,
        )
    elif edited and st.st_mtime_ns > _STARTED_NS:
        _reported.add(key)
        warnings.warn(
            f"{qualname} runs the code imported before {filename} was edited: its results "
            "are identified by that code, not by the file's new code. Import the module "
            "again in a new Python process (restart the kernel in a notebook) to run the new "
            "code.",
            StaleCodeWarning,
            stacklevel=2,
        )


def _stale_compiled_file(filename: str, st: os.stat_result) -> str | None:
    """The ``.pyc`` of `filename` if Python would accept it for the file as it is now although
    it was written before the file's last change (else None)."""
    try:
        pyc = importlib.util.cache_from_source(filename)
        with open(pyc, "rb") as f:
            header = f.read(16)
            written = os.fstat(f.fileno()).st_mtime_ns
    except (OSError, ValueError, NotImplementedError):
        return None
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return None
    if int.from_bytes(header[4:8], "little") != 0:
        return None  # a hash-based .pyc: Python checks (or deliberately skips) the source
    recorded_mtime = int.from_bytes(header[8:12], "little")
    recorded_size = int.from_bytes(header[12:16], "little")
    accepted = (
        recorded_mtime == (st.st_mtime_ns // 1_000_000_000) & 0xFFFFFFFF
        and recorded_size == st.st_size & 0xFFFFFFFF
    )
    return pyc if accepted and written < st.st_mtime_ns else None


def _remove(path: str) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
