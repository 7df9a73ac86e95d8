"""Copy what a task function prints into its record, while still showing it as usual.

``sys.stdout`` and ``sys.stderr`` are replaced by *tees* for the duration of the call: every
write goes to the original stream and into one shared buffer (stdout and stderr interleaved
in the order they were written). Output written by C code straight to the file descriptors
is shown but not captured. Very long output keeps its beginning and its end.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any, TextIO

#: Characters kept from the beginning and from the end of very long output.
KEEP = 200_000


class _Buffer:
    def __init__(self) -> None:
        self.head: list[str] = []
        self.head_size = 0
        self.tail: deque[str] = deque()
        self.tail_size = 0
        self.dropped = 0

    def add(self, text: str) -> None:
        if self.head_size < KEEP:
            self.head.append(text)
            self.head_size += len(text)
            return
        self.tail.append(text)
        self.tail_size += len(text)
        while self.tail_size - len(self.tail[0]) >= KEEP:
            first = self.tail.popleft()
            self.tail_size -= len(first)
            self.dropped += len(first)

    def text(self) -> str:
        head = "".join(self.head)
        if not self.dropped:
            return head + "".join(self.tail)
        return f"{head}\n[... {self.dropped} characters not kept ...]\n{''.join(self.tail)}"


class _Tee:
    """A text stream writing to `stream` and to a buffer (other attributes: `stream`'s)."""

    def __init__(self, stream: TextIO, buffer: _Buffer) -> None:
        self._stream = stream
        self._buffer = buffer
        self._active = True

    def write(self, text: str) -> int:
        if self._active and isinstance(text, str):
            self._buffer.add(text)
        return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class Capture:
    """Tee stdout and stderr from `start()` until `stop()`, which returns the text."""

    def __init__(self) -> None:
        self._buffer = _Buffer()
        self._tees: list[tuple[str, _Tee]] = []

    def start(self) -> Capture:
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is None:
                continue
            tee = _Tee(stream, self._buffer)
            setattr(sys, name, tee)
            self._tees.append((name, tee))
        return self

    def stop(self) -> str:
        for name, tee in reversed(self._tees):
            tee._active = False
            if getattr(sys, name) is tee:  # else someone replaced it since: leave theirs
                setattr(sys, name, tee._stream)
        self._tees.clear()
        return self._buffer.text()
