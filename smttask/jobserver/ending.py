"""How a forked child ends: as a fresh process ends, less the teardown of the server's modules.

A Python process that finishes joins its non-daemon threads, runs its ``atexit`` handlers
(smttask's: syncing results and journals, closing the record journal), flushes its standard
streams, and then deallocates every module it imported. In a child of the warm server that
last step deallocates what the server imported (numpy, pydantic, smttask, ...), which
touches, and so copies, every memory page the child shares with the server: about as long as
the whole job. It has no effect outside the process except through ``__del__`` methods of
objects still alive at exit, which Python does not promise to call; so a child does the
other steps, also collects its garbage (finalizers of unreachable objects), flushes the
files it opened and left open, and ends with ``os._exit``.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import io
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, NoReturn


def run_and_exit(entry: Callable[[list[str]], Any], argv: list[str]) -> NoReturn:
    """Run ``sys.exit(entry(argv))`` as a process's main code would, then end the process
    with the exit code Python would give."""
    try:
        code = _exit_code(entry(argv))
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # what the interpreter does with an exception nothing caught
        traceback.print_exc()
        code = 1
    _join_threads()
    atexit._run_exitfuncs()
    gc.collect()
    _flush_open_files()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            code = code or 120  # Python's exit code when flushing stdout fails at exit
    os._exit(code)


def _exit_code(value: object) -> int:
    """The exit code of ``sys.exit(value)``."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    with contextlib.suppress(Exception):
        print(value, file=sys.stderr)
    return 1


def _join_threads() -> None:
    """Wait for the threads that are not daemons, as the interpreter does at exit."""
    while True:
        waiting = [
            t
            for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()
        ]
        if not waiting:
            return
        for t in waiting:
            t.join()


def _flush_open_files() -> None:
    """Flush the buffered files the child made and left open (what the teardown of their
    objects would write). The server's own objects are frozen out of the collector's
    generations before the fork, so this looks at the child's objects only."""
    for generation in (0, 1, 2):
        for obj in gc.get_objects(generation):
            if isinstance(obj, io.BufferedWriter | io.BufferedRandom | io.TextIOWrapper):
                try:
                    if not obj.closed:
                        obj.flush()
                except Exception:
                    pass
