"""What the command line says when a command fails: one sentence per failure, no traceback
(unless ``-v``), and the exit code.

Exit codes: 0 success; 1 a failure (bad input, a task failed, an unexpected error); 2 a bad
command line (click's usage errors); 130 interrupted (Ctrl-C). When the reader of the output
goes away (``smttask smt list | head``), the command stops quietly with exit code 1, as
click does.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback

import click

from ..errors import SmttaskError

EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 1

TRACEBACK_HINT = "Run with -v (smttask -v COMMAND ...) for the traceback."

_verbose = 0


def set_verbose(level: int) -> None:
    """Show tracebacks of failures from now on if `level` > 0 (``-v``)."""
    global _verbose
    _verbose = max(_verbose, level)


def verbose() -> int:
    return _verbose


def reset() -> None:
    """Forget an earlier ``-v`` (each call of ``main`` starts quiet)."""
    global _verbose
    _verbose = 0


def sentence(exc: BaseException) -> str:
    """One sentence for `exc`: what went wrong and what to do."""
    if isinstance(exc, SmttaskError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return (
            f"smttask gave up on something nested too deeply for Python "
            f"(recursion limit {sys.getrecursionlimit()}): a task graph with a very long chain "
            f"or a cycle, or a value nested that deep. Shorten the chain, or check the inputs "
            f"for a task that depends on itself. {TRACEBACK_HINT}"
        )
    if isinstance(exc, MemoryError):
        return (
            "smttask ran out of memory: an input, a task file or a result is too large for "
            "this machine. Pass large data as files produced by an upstream task, or run on a "
            f"machine with more memory. {TRACEBACK_HINT}"
        )
    if isinstance(exc, OverflowError):
        return (
            f"A number is too large for smttask to handle ({exc}). Check the inputs and "
            f"options for a huge value. {TRACEBACK_HINT}"
        )
    if isinstance(exc, UnicodeError):
        return (
            f"A file or argument is not valid text in its encoding ({exc}). Save it as UTF-8. "
            f"{TRACEBACK_HINT}"
        )
    if isinstance(exc, OSError):
        return _os_error(exc)
    return (
        f"smttask stopped on an unexpected error, {type(exc).__name__}: {_one_line(exc)}. "
        f"This is probably a bug in smttask; please report it. {TRACEBACK_HINT}"
    )


def _os_error(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename is not None else ""
    if exc.filename2 is not None:
        where += f" -> {exc.filename2}"
    reason = exc.strerror or _one_line(exc)
    hint = {
        errno.ENOSPC: "Free some space on that disk and run again.",
        errno.EDQUOT: "Free some space (your disk quota is used up) and run again.",
        errno.EROFS: "It is on a read-only file system: use a writable folder.",
        errno.EACCES: "Check its permissions.",
        errno.EPERM: "Check its permissions.",
        errno.ENOENT: "Check the path.",
    }.get(exc.errno or 0, "")
    return f"Cannot use{where}: {reason}. {hint} {TRACEBACK_HINT}".replace("  ", " ")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return text if len(text) <= 300 else text[:299] + "…"


def report(exc: BaseException) -> int:
    """Print `exc` as the command's failure (with its traceback under -v); the exit code."""
    if _verbose:
        traceback.print_exception(exc, file=sys.stderr)
    text = sentence(exc)
    if _verbose:
        text = text.replace(f" {TRACEBACK_HINT}", "")
    click.echo(f"Error: {text}", err=True)
    return EXIT_FAILURE


def broken_pipe() -> int:
    """The reader of our output went away: say nothing more, and make the interpreter's own
    flush at exit quiet too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (tests capture it): nothing to silence
        pass
    return EXIT_BROKEN_PIPE
