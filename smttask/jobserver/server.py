"""The warm job server: one process per workflow run that forks a child per job.

It listens on a Unix socket (``SOCK_SEQPACKET``, in a folder only its user can enter) for
jobs handed over by ``smttask-job`` (see ``smttask_job`` for the wire format). For each job it
checks that a child would run what a fresh process would (``admission``, ``stamps``),
imports the job's task modules if they are not imported yet, forks, and in the child installs
the job's standard streams, environment and arguments and calls the entry point it was made
with (the command line's ``main``); the child then exits as a fresh ``smttask`` process
would, with its exit code. The server waits for its children (one ``pidfd`` each) and tells
each client how its child ended.

One thread, one loop (``selectors``), no timers: it stops when told to (``stop``), when
SIGTERM or SIGINT arrive, when the process that started it (Snakemake) is gone, when it was
idle for ``idle_seconds``, or when a source file it imported has changed. Stopping, it first
removes its socket (new jobs then run fresh), then waits for the children it has.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

from smttask_job import FORWARDED, MAX_MESSAGE, PROTOCOL

from . import admission, ending, warmup
from .stamps import IMPORT_MARGIN_NS, START_MARGIN_NS, Stamps, module_files
from .wire import decode, encode

#: The command line's entry point: arguments -> what ``sys.exit`` gets.
Entry = Callable[[list[str]], Any]

#: Exit code of a child that could not set itself up (reported on the job's stderr).
EXIT_SETUP = 1
#: ``prctl(PR_SET_PDEATHSIG, ...)``: a child dies with the server.
_PR_SET_PDEATHSIG = 1
#: Seconds a client has to send its job once connected.
REQUEST_TIMEOUT = 5.0


@dataclass
class _Running:
    number: int
    pid: int
    pidfd: int
    conn: socket.socket
    started: float


class Server:
    """A job server listening on `path`; `entry` runs a job's arguments in a child."""

    def __init__(
        self,
        path: Path,
        entry: Entry,
        *,
        parent: int | None,
        idle_seconds: float,
        log: TextIO,
        since_ns: int,
    ) -> None:
        self.path = path
        self.entry = entry
        self.idle_seconds = idle_seconds
        self.log = log
        self.pid = os.getpid()
        self.env = dict(os.environ)
        self.started = time.time()
        self.stamps = Stamps()
        self.stamps.take(module_files(), since_ns, START_MARGIN_NS)
        self.checked_ns = time.time_ns()  # when the modules imported so far were stamped
        self.cold: dict[str, str] = {}  # task module -> why its jobs run fresh
        self.records_cold = "not prepared yet"  # why children ask git ("" if they need not)
        self.signals = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        self.jobs: dict[int, _Running] = {}  # by pidfd
        self.count = {"forked": 0, "refused": 0}
        self.stopping = ""
        self.sel = selectors.DefaultSelector()
        self.listener: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(str(path))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self.wake_r, self.wake_w = socket.socketpair()
        for end in (self.wake_r, self.wake_w):
            end.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        for signum in self.signals:
            signal.signal(signum, self._on_signal)
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.parent_fd = -1
        if parent is not None:
            try:
                self.parent_fd = os.pidfd_open(parent)
            except OSError:
                self.stopping = f"the process that started the server ({parent}) is gone"
            else:
                self.sel.register(self.parent_fd, selectors.EVENT_READ, "parent")
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.say(
            f"serving on {path} (pid {self.pid}, parent {parent}, {len(self.stamps.files)} files stamped)"
        )

    # -- the loop ---------------------------------------------------------------------------

    def serve(self) -> None:
        """Serve until stopped and every child has ended; in a child, never returns normally
        (the job's ``SystemExit`` goes up through here)."""
        last = time.monotonic()
        while not (self.stopping and not self.jobs):
            if self.stopping and self.listener is not None:
                self._close_listener()
            timeout = None if self.jobs else max(0.0, last + self.idle_seconds - time.monotonic())
            events = self.sel.select(timeout)
            if not events and not self.jobs and not self.stopping:
                self.stopping = f"idle for {self.idle_seconds:g} s"
            for key, _ in events:
                what = key.data
                if isinstance(what, _Running) and what.pidfd not in self.jobs:
                    continue  # its child ended earlier in this round
                if isinstance(what, int) and what not in self.jobs:
                    continue
                if what == "accept":
                    if self.listener is not None:
                        self._accept()
                elif what == "wake":
                    self._drain_wakeups()
                elif what == "parent":  # readable from now on: listened to once
                    self.sel.unregister(self.parent_fd)
                    self.stopping = "the process that started the server has ended"
                elif isinstance(what, _Running):
                    self._from_client(what)
                else:
                    self._reap(self.jobs[what])
            if self.jobs:
                last = time.monotonic()
        self.say(
            f"stopped: {self.stopping}; {self.count['forked']} jobs forked, {self.count['refused']} refused"
        )
        self._close_listener()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = self.stopping or f"signal {signal.Signals(signum).name}"

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(OSError):
            while self.wake_r.recv(512):
                pass

    def _close_listener(self) -> None:
        if self.listener is None:
            return
        self.sel.unregister(self.listener)
        self.listener.close()
        self.listener = None
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            self.path.with_suffix(".json").unlink()

    # -- requests ---------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        fds: list[int] = []
        try:
            conn.settimeout(REQUEST_TIMEOUT)
            data, fds, flags, _ = socket.recv_fds(conn, MAX_MESSAGE, 3)
            uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
            if uid != os.getuid() or flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                raise ValueError(f"a request from user {uid} (flags {flags})")
            message = decode(data)
            if message.get("v") != PROTOCOL:
                raise ValueError(f"protocol {message.get('v')!r}, this server speaks {PROTOCOL}")
        except (OSError, ValueError) as exc:
            self.say(f"bad request: {exc}")
            _close(fds)
            conn.close()
            return
        if message.get("status"):
            self._answer(conn, self.status())
        elif message.get("stop"):
            self.stopping = self.stopping or "asked to stop"
            self._answer(conn, {"stopping": len(self.jobs)})
        elif isinstance(job := message.get("job"), dict) and len(fds) == 3:
            self._job(conn, job, fds)
            return
        else:
            self._answer(conn, {"refused": "not a request this server knows"})
        _close(fds)

    def _answer(self, conn: socket.socket, message: Mapping[str, object]) -> None:
        with contextlib.suppress(OSError):
            conn.send(encode(dict(message)))
        conn.close()

    def _job(self, conn: socket.socket, job: dict[str, Any], fds: list[int]) -> None:
        argv, cwd, env = job.get("argv"), job.get("cwd"), job.get("env")
        if not (
            isinstance(argv, list)
            and all(isinstance(a, str) for a in argv)
            and isinstance(cwd, str)
            and isinstance(env, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
        ):
            reason: str | None = "a malformed job"
        else:
            reason = self._refusal(argv, cwd, env)
        if reason is not None:
            self.count["refused"] += 1
            self.say(f"refused {_shown(argv if isinstance(argv, list) else [])}: {reason}")
            _close(fds)
            self._answer(conn, {"refused": reason})
            return
        assert isinstance(argv, list) and isinstance(env, dict)
        cold = warmup.prepare_records()
        if cold != self.records_cold:
            self.records_cold = cold
            self.say(f"children ask git themselves: {cold}" if cold else "git state ready")
        sys.stdout.flush()
        sys.stderr.flush()
        self.log.flush()
        number = self.count["forked"] + 1
        gc.freeze()  # the server's objects: out of the child's collections (see `ending`)
        pid = os.fork()
        if pid == 0:
            self._child(conn, argv, env, fds)  # never returns
        _close(fds)
        self.count["forked"] = number
        pidfd = os.pidfd_open(pid)
        running = _Running(number, pid, pidfd, conn, time.monotonic())
        self.jobs[pidfd] = running
        self.sel.register(pidfd, selectors.EVENT_READ, pidfd)
        conn.setblocking(False)
        self.sel.register(conn, selectors.EVENT_READ, running)
        with contextlib.suppress(OSError):
            conn.send(encode({"accepted": pid}))
        self.say(f"job {number}: forked pid {pid} for {_shown(argv)}")

    def _refusal(self, argv: list[str], cwd: str, env: dict[str, str]) -> str | None:
        if self.stopping:
            return f"the server is stopping ({self.stopping})"
        reason = admission.refusal(env, cwd, self.env)
        if reason is not None:
            return reason
        before = set(sys.modules)
        since = time.time_ns()
        try:
            modules = warmup.import_task_modules(argv)
        except warmup.WarmupError as exc:
            self.stopping = f"importing a task module failed ({exc})"
            return self.stopping
        self.stamps.take(module_files(set(sys.modules) - before), since, IMPORT_MARGIN_NS)
        checked, self.checked_ns = self.checked_ns, time.time_ns()
        self.stamps.take(module_files(), checked, IMPORT_MARGIN_NS)  # imported otherwise
        for name in modules:
            if name not in self.cold:
                held = warmup.random_state(sys.modules[name])
                if held:
                    self.cold[name] = (
                        f"module {name} holds random generators made at import ({held})"
                    )
                    self.say(f"{self.cold[name]}: its jobs run fresh")
            if name in self.cold:
                return self.cold[name]
        changed = self.stamps.changed()
        if changed:
            self.stopping = f"{changed[0]} changed since the server imported it" + (
                f" (and {len(changed) - 1} more files)" if len(changed) > 1 else ""
            )
            return self.stopping
        reason = admission.refusal(env, cwd, self.env)  # a task module may start a thread
        return reason

    # -- children ---------------------------------------------------------------------------

    def _child(
        self, conn: socket.socket, argv: list[str], env: dict[str, str], fds: list[int]
    ) -> NoReturn:
        """In the forked child: become the job, then run it (never returns normally)."""
        try:
            self.libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != self.pid:
                os._exit(EXIT_SETUP)
            signal.set_wakeup_fd(-1)
            for s, handler in self.signals.items():
                signal.signal(s, handler)
            self.sel.close()
            for sock in (conn, self.wake_r, self.wake_w, self.listener):
                if sock is not None:
                    sock.close()
            for running in self.jobs.values():
                running.conn.close()
                os.close(running.pidfd)
            if self.parent_fd >= 0:
                os.close(self.parent_fd)
            self.log.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            _close(fd for fd in fds if fd > 2)
            for name in set(os.environ) - set(env):
                del os.environ[name]
            for name, value in env.items():
                if os.environ.get(name) != value:
                    os.environ[name] = value
            warmup.reseed()
            sys.argv = [sys.argv[0], *argv]
        except BaseException as exc:  # nothing of the job ran: say why, on its stderr
            with contextlib.suppress(BaseException):
                os.write(
                    2, f"smttask-job: the job server could not start the job: {exc!r}\n".encode()
                )
            os._exit(EXIT_SETUP)
        ending.run_and_exit(self.entry, argv)

    def _from_client(self, running: _Running) -> None:
        try:
            data = running.conn.recv(MAX_MESSAGE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client is gone: its job goes with it, as a killed process would
            self.say(f"job {running.number}: client gone, killing pid {running.pid}")
            self.sel.unregister(running.conn)
            with contextlib.suppress(OSError):
                os.kill(running.pid, signal.SIGKILL)
            return
        try:
            signum = decode(data).get("signal")
        except ValueError:
            return
        if isinstance(signum, int) and signum in _FORWARDED:
            self.say(f"job {running.number}: passing signal {signum} to pid {running.pid}")
            with contextlib.suppress(OSError):
                os.kill(running.pid, signum)

    def _reap(self, running: _Running) -> None:
        _, status = os.waitpid(running.pid, 0)
        self.sel.unregister(running.pidfd)
        os.close(running.pidfd)
        del self.jobs[running.pidfd]
        if os.WIFSIGNALED(status):
            result: dict[str, object] = {"killed": os.WTERMSIG(status)}
        else:
            result = {"exit": os.waitstatus_to_exitcode(status)}
        seconds = time.monotonic() - running.started
        self.say(
            f"job {running.number}: pid {running.pid} ended {json.dumps(result)} after {seconds:.3f} s"
        )
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(running.conn)
        with contextlib.suppress(OSError):
            running.conn.setblocking(True)
            running.conn.send(encode(result))
        running.conn.close()

    # -- reporting --------------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "socket": str(self.path),
            "cwd": os.getcwd(),
            "uptime": round(time.time() - self.started, 3),
            "running": len(self.jobs),
            "stopping": self.stopping,
            **self.count,
        }

    def say(self, text: str) -> None:
        self.log.write(f"{time.strftime('%H:%M:%S')} smttask job server: {text}\n")
        self.log.flush()


_FORWARDED = {int(getattr(signal, name)) for name in FORWARDED}


def _close(fds: Iterable[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _shown(argv: Iterable[object]) -> str:
    text = " ".join(str(a) for a in argv)
    return text if len(text) <= 200 else text[:197] + "..."
