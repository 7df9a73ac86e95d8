"""Starting, asking and stopping job servers.

Servers live in one folder per user (``$XDG_RUNTIME_DIR/smttask-job-servers``, else
``/tmp/smttask-job-servers-<uid>``), mode 0700 and owned by the user (else refused): server
``PID`` listens on ``PID.sock`` and describes itself in ``PID.json``; both go when it stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Any

from smttask_job import MAX_MESSAGE, PROTOCOL

from ..errors import JobServerError
from .wire import decode, encode

#: Seconds a server may take to be ready, and to stop, before the caller gives up on it.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def supported() -> str | None:
    """Why job servers cannot run here (None: they can)."""
    if not sys.platform.startswith("linux"):
        return f"job servers need Linux (this is {sys.platform})"
    if not hasattr(os, "pidfd_open") or not hasattr(socket, "send_fds"):
        return "job servers need Python's os.pidfd_open and socket.send_fds"
    return None


def runtime_dir() -> Path:
    """The folder of this user's servers, made if needed, checked to be private."""
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    name = (
        "smttask-job-servers"
        if os.environ.get("XDG_RUNTIME_DIR")
        else f"smttask-job-servers-{os.getuid()}"
    )
    folder = Path(base) / name
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise JobServerError(
            f"{folder} is not a private folder of this user (mode {stat.filemode(info.st_mode)}, "
            f"owner {info.st_uid}), so no job server uses it. Remove it, or set "
            f"SMTTASK_JOB_SERVER=0 to run jobs without a server."
        )
    return folder


def request(path: str | Path, message: dict[str, Any], timeout: float = 10.0) -> dict[str, object]:
    """Send a control `message` to the server at `path`; its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
        conn.settimeout(timeout)
        try:
            conn.connect(str(path))
            conn.send(encode({"v": PROTOCOL, **message}))
            data = conn.recv(MAX_MESSAGE)
        except OSError as exc:
            raise JobServerError(
                f"No job server answers at {path} ({exc}): it has stopped, or none ever listened "
                "there. `smttask job-server status` lists the running servers."
            ) from None
    if not data:
        raise JobServerError(
            f"The job server at {path} closed the connection without answering; its log "
            "(.snakemake/log/smttask-job-server.log of its workflow) says why."
        )
    return decode(data)


def servers() -> list[dict[str, object]]:
    """What each of this user's running servers says about itself (stale files removed)."""
    found = []
    for info in sorted(runtime_dir().glob("*.json")):
        sock = info.with_suffix(".sock")
        try:
            status = request(sock, {"status": True}, timeout=2.0)
            described = json.loads(info.read_text())
        except (JobServerError, OSError, ValueError):
            if not _alive(info.stem):
                for p in (info, sock):
                    with contextlib.suppress(OSError):
                        p.unlink()
            continue
        found.append({**described, **status})
    return found


def stop(path: str | Path, timeout: float = STOP_TIMEOUT) -> dict[str, object]:
    """Ask the server at `path` to stop and wait until its process has ended (it first
    waits for the jobs it runs). Its last status."""
    status = request(path, {"status": True})
    pid = status.get("pid")
    request(path, {"stop": True})
    if not isinstance(pid, int):
        return status
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return status  # gone already
    try:
        import select

        ready, _, _ = select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    if not ready:
        raise JobServerError(
            f"The job server {pid} at {path} did not stop within {timeout:g} s (it waits for "
            f"its {status.get('running')} running jobs). Stop it with `kill {pid}`."
        )
    return status


def wait_ready(read_fd: int, timeout: float = START_TIMEOUT) -> str:
    """The socket path a starting server writes to `read_fd` once ready ('' if it gave up:
    then its reason)."""
    import select

    chunks = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise JobServerError(
                f"The job server did not get ready within {timeout:g} s; its log says why. "
                "Jobs run without it (set SMTTASK_JOB_SERVER=0 to skip trying)."
            )
        ready, _, _ = select.select([read_fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(read_fd, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    return b"".join(chunks).decode()


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def start(
    entry: Any,
    *,
    parent: int | None,
    idle_seconds: float,
    log_path: Path,
    preload: tuple[str, ...] = (),
) -> str:
    """Start a server in the background (a fork of this process, in its own session, its
    output in `log_path`) that runs jobs with `entry` (the modules `preload` imported
    first); its socket path, once it is ready."""
    from . import warmup
    from .server import Server
    from .stamps import process_start_ns

    why = supported()
    if why is not None:
        raise JobServerError(f"No job server: {why}.")
    if os.environ.get("SLURM_JOB_ID"):
        raise JobServerError("No job server inside a SLURM job: its jobs run in the allocation.")
    folder = runtime_dir()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    since = process_start_ns()
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        said = wait_ready(read_fd)
        if said.startswith("/"):
            return said
        raise JobServerError(
            f"The job server did not start: {said or 'it ended'} (log: {log_path})."
        )
    try:  # the server
        os.close(read_fd)
        os.setsid()
        log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (the server's)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        os.close(null)
        warmup.preimport(preload)
        path = folder / f"{os.getpid()}.sock"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server = Server(
            path, entry, parent=parent, idle_seconds=idle_seconds, log=log, since_ns=since
        )
        described = {
            "pid": os.getpid(),
            "socket": str(path),
            "log": str(log_path.resolve()),
            "parent": parent,
        }
        path.with_suffix(".json").write_text(json.dumps(described))
        os.write(write_fd, str(path).encode())
        os.close(write_fd)
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            os.write(write_fd, f"{type(exc).__name__}: {exc}".encode())
        os._exit(1)
    server.serve()  # a forked child leaves through here with its job's exit
    log.flush()
    os._exit(0)
