"""The processes that re-run tasks, started before they are needed.

A new Python process takes most of a second to import smttask (numpy, pydantic...). So a
re-run process is started first, ``python -m smttask.reproduce.child --wait``, in an empty
folder of its own: it imports smttask and waits. Meanwhile this process opens the record
store, reads the record and checks its commit out; then it sends the waiting process its
request (one line: the request and result files), and the process moves into the project
folder of the worktree and runs as a process started there would (see ``child``). A process
that gets no request (the record could not be read, Ctrl-C) exits when its input closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from .worktree import PREFIX

#: How long a stopped re-run may take to end before it is killed (seconds).
STOP_GRACE = 5.0
#: Variables the re-run must not inherit (the child sets ``SMTTASK_PROJECT_ROOT`` itself).
_DROPPED = ("SMTTASK_INPUT_DIR", "SMTTASK_OUTPUT_DIR", "SMTTASK_PROJECT_ROOT", "PYTHONSAFEPATH")


class Rerun:
    """One re-run process, started and waiting for its request."""

    def __init__(self, echo: bool) -> None:
        self.echo = echo
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX))  # where it waits; its log
        self.log_file = self.folder / "log"
        env = {**os.environ, "SMTTASK_RECORD": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        for name in _DROPPED:
            env.pop(name, None)
        command = [sys.executable, "-m", "smttask.reproduce.child", "--wait"]
        try:
            with open(self.log_file, "wb") as log:
                out = None if echo else log
                self.proc = subprocess.Popen(
                    command, cwd=self.folder, env=env, stdin=subprocess.PIPE, stdout=out, stderr=out
                )
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def run(self, request_file: Path, result_file: Path) -> int:
        """Send the request, wait until the process ends; its exit code."""
        line = json.dumps([str(request_file), str(result_file)]).encode() + b"\n"
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(line)
            stdin.close()
        except BrokenPipeError:  # it ended already: its exit code and log say why
            pass
        try:
            return self.proc.wait()
        except BaseException:
            stop(self.proc)
            raise

    def log_tail(self, lines: int = 15) -> list[str]:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return []
        return text.strip().splitlines()[-lines:]

    def close(self) -> None:
        """End the process (it exits when its input closes, if it got no request) and remove
        its folder."""
        stdin = self.proc.stdin
        if stdin is not None and not stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                stdin.close()
        try:
            self.proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            stop(self.proc)
        except BaseException:
            stop(self.proc)
            raise
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class Rerunners:
    """Re-run processes started ahead, one at a time: ``start()`` when one will be needed
    soon, ``take()`` when it is (a new one if none was started, or for other `echo`)."""

    def __init__(self, *, echo: bool = False) -> None:
        self.echo = echo
        self._ready: Rerun | None = None

    def start(self) -> None:
        if self._ready is None:
            self._ready = Rerun(self.echo)

    def take(self, echo: bool) -> Rerun:
        ready, self._ready = self._ready, None
        if ready is not None and ready.echo == echo:
            return ready
        if ready is not None:
            ready.close()
        return Rerun(echo)

    def close(self) -> None:
        ready, self._ready = self._ready, None
        if ready is not None:
            ready.close()

    def __enter__(self) -> Rerunners:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End the re-run (it may have had Ctrl-C already) and wait for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
