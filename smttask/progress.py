"""Progress displays: rich's bar on a terminal, one line of text in Jupyter, else nothing.

``smttask run`` and in-session runs (``task.run()``, through ``hooks.progress_display``)
share the bar (``Bar``). Jupyter gets a single line of plain text rewritten in place
(``\\r``), which every notebook front end shows without widgets. rich is imported only when
a bar is shown.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import IO, Any

from . import hooks


def in_jupyter() -> bool:
    """Whether this process is a Jupyter kernel (ipykernel) with a front end."""
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def is_terminal(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Bar:
    """rich's progress bar for `total` steps, titled `title`, on `console` (stderr if None).

    Use as a context manager; ``advance(description)`` after each step, ``print(text)`` for a
    line above the bar (rich markup)."""

    def __init__(self, title: str, total: int, console: Any = None) -> None:
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._escape = escape
        self.console = console or Console(stderr=True)
        columns = (
            TextColumn(f"[bold]{escape(title)}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
        )
        self._progress = Progress(*columns, console=self.console)
        self._bar = self._progress.add_task("", total=total)

    def __enter__(self) -> Bar:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def advance(
        self, description: str, *, total: int | None = None, done: int | None = None
    ) -> None:
        """One more step done (or `done` steps), naming the last one; `total` may change."""
        text = self._escape(description)
        if done is None:
            self._progress.update(self._bar, advance=1, description=text, total=total)
        else:
            self._progress.update(self._bar, completed=done, description=text, total=total)

    def print(self, text: str) -> None:
        self._progress.console.print(text, highlight=False, soft_wrap=True)


class TerminalProgress:
    """``hooks.Progress`` on a terminal: the bar appears once a second task is known."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._bar: Bar | None = None

    def update(self, done: int, total: int, label: str) -> None:
        if self._bar is None:
            if total <= 1:
                return
            self._bar = Bar(self.title, total).__enter__()
        self._bar.advance(label, total=total, done=done)

    def close(self, summary: str) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar.console.print(f"{self.title}: {summary}", highlight=False)
            self._bar = None


class TextLineProgress:
    """``hooks.Progress`` as one line of text rewritten in place (Jupyter's output area)."""

    def __init__(self, title: str, stream: IO[str] | None = None) -> None:
        self.title = title
        self._stream = stream
        self._shown = False

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout
        stream.write(text)
        stream.flush()

    def update(self, done: int, total: int, label: str) -> None:
        if total <= 1 and not self._shown:
            return
        self._shown = True
        self._write(f"\r{self.title}: {done}/{total} tasks · {label}".ljust(60))

    def close(self, summary: str) -> None:
        if self._shown:
            self._write(f"\r{self.title}: {summary}".ljust(60) + "\n")
            self._shown = False


def display(title: str) -> hooks.Progress | None:
    """The display for a run here: a line in Jupyter, a bar on a terminal, else None."""
    if in_jupyter():
        return TextLineProgress(title)
    if is_terminal():
        return TerminalProgress(title)
    return None


__all__ = ["Bar", "TerminalProgress", "TextLineProgress", "display", "in_jupyter"]
