"""Leases: at most one live computation of a task at a time, across processes and nodes.

A lease is a small file beside the results, ``<output data store>/.leases/<task>/<key>.lease``,
created with ``O_CREAT | O_EXCL`` (exclusive on every POSIX file system, NFS v3+ included)
and holding JSON: ``host``, ``pid``, ``job`` (``SLURM_JOB_ID`` or empty), a random
``token``, ``started`` and ``heartbeat`` (Unix times). While the lease is held, a thread
rewrites the heartbeat in place every ``timeout / 6`` seconds. A lease whose heartbeat (and
file modification time, whichever is newer) is older than ``timeout`` seconds is *stale*:
its holder was killed, crashed or lost its node. A lease whose holder ran on this host
under a process id that no longer exists is taken over at once.

Nothing here relies on ``flock``, which many cluster file systems keep node-local.

Taking over a stale lease is exclusive too: the taker creates ``<key>.lease.take-<token>-<n>``
(``O_EXCL``; `token` names the stale lease, so each marker name is won at most once), checks
that the lease still holds that token, and replaces it with its own. A taker killed
meanwhile leaves its marker, which the next taker passes by (``<n> + 1``) once it is stale.
The only window left: a holder stopped for longer than ``timeout`` (``SIGSTOP``, a frozen
node) that wakes up and releases its lease just as another process takes it over. Choose a
timeout far above any pause a healthy process has.

Clocks: staleness compares the reader's clock with the holder's heartbeat and the file
server's modification time; cluster nodes must keep their clocks in sync (NTP), within a
small fraction of the timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError

#: Default seconds without a heartbeat after which a lease (or a journal) is stale.
DEFAULT_TIMEOUT = 60.0
#: The leases' folder under the output data store.
LEASE_DIR = ".leases"
SUFFIX = ".lease"
#: Lease files are written in place at this fixed size, so a rewrite never shrinks them.
_SIZE = 512
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, as its file says."""

    host: str
    pid: int
    job: str
    token: str
    started: float
    heartbeat: float  # the newer of the heartbeat written and the file's modification time

    def describe(self) -> str:
        job = f", SLURM job {self.job}" if self.job else ""
        return f"process {self.pid} on {self.host}{job}"


class Heartbeat:
    """A daemon thread setting the modification time of the open file `fd` to now every
    `interval` seconds, until `stop()` (the heartbeat of a file that is not rewritten)."""

    def __init__(self, fd: int, interval: float, name: str) -> None:
        self._fd = fd
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(interval,), name=name, daemon=True)
        self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                os.utime(self._fd)
            except OSError:  # closed
                return

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()


def lease_path(output_root: Path, task_name: str, key: str) -> Path:
    return output_root / LEASE_DIR / task_name / f"{key}{SUFFIX}"


def read_holder(path: Path) -> Holder | None:
    """The holder of the lease `path`, or None if there is none. A lease just created and not
    yet written reads as held now (by an unknown process)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _not_a_lease(path, exc) from None
    try:
        st = os.fstat(fd)
        mtime = st.st_mtime
        data = os.pread(fd, _SIZE, 0)
    finally:
        os.close(fd)
    try:
        raw = json.loads(data.rstrip(b"\0 \n").decode())
        return Holder(
            host=str(raw["host"]),
            pid=int(raw["pid"]),
            job=str(raw.get("job", "")),
            token=str(raw["token"]),
            started=float(raw["started"]),
            heartbeat=max(float(raw["heartbeat"]), mtime),
        )
    except (ValueError, KeyError, TypeError):  # not written yet: fresh by its own time
        return Holder("?", 0, "", f"unwritten-{st.st_ino}-{st.st_mtime_ns}", mtime, mtime)


def is_stale(heartbeat: float, timeout: float, now: float | None = None) -> bool:
    return (time.time() if now is None else now) - heartbeat > timeout


class Lease:
    """A lease held by this process (made by `acquire`); `release()` ends it."""

    def __init__(self, path: Path, fd: int, token: str, timeout: float) -> None:
        self.path = path
        self.token = token
        self.timeout = timeout
        self._fd: int | None = fd
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.lost = False  # taken over by another process (this one looked dead)
        self.folders: list[Path] = []  # made for it (removed on release when empty)
        self._started = time.time()
        self._write()
        self._thread = threading.Thread(
            target=self._beat, name=f"smttask-lease-{path.stem[:12]}", daemon=True
        )
        self._thread.start()

    def _content(self) -> bytes:
        import socket

        text = json.dumps(
            {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "job": os.environ.get("SLURM_JOB_ID", ""),
                "token": self.token,
                "started": self._started,
                "heartbeat": time.time(),
            }
        ).encode()
        return text.ljust(_SIZE)[:_SIZE]

    def _write(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.pwrite(self._fd, self._content(), 0)

    def _beat(self) -> None:
        interval = max(self.timeout / 6, 0.02)
        while not self._stop.wait(interval):
            try:
                self._write()
                if not os.path.samestat(os.fstat(self._fd or -1), os.stat(self.path)):
                    self.lost = True
            except OSError:  # the file was taken over (replaced) or removed
                self.lost = True
            if self.lost:
                return

    def release(self) -> None:
        """End the lease: remove its file if it is still this process's."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                self.path.unlink()
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
        for folder in self.folders:  # the folders its creation made, if they are empty now
            try:
                folder.rmdir()
            except OSError:
                break

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def try_acquire(path: Path, timeout: float) -> Lease | Holder:
    """The lease `path` if it was free or stale (taken over), else its live holder."""
    token = secrets.token_hex(8)
    made: list[Path] = []
    for _ in range(100):  # another process may remove the folders it made, once
        try:
            fd = _create(path)
        except FileNotFoundError:
            made = _make_folders(path.parent)
            continue
        except FileExistsError:
            break
        try:
            lease = Lease(path, fd, token, timeout)
        except BaseException:  # its first write failed (a full disk): leave nothing behind
            os.close(fd)
            path.unlink(missing_ok=True)
            for folder in made:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        lease.folders = made
        return lease
    holder = read_holder(path)
    if holder is None:  # released meanwhile
        return try_acquire(path, timeout)
    if not is_stale(holder.heartbeat, timeout) and not _dead_here(holder):
        return holder
    taken = _take_over(path, holder, token, timeout)
    return taken if taken is not None else (read_holder(path) or holder)


def _dead_here(holder: Holder) -> bool:
    return gone_from_this_host(holder.host, holder.pid)


def gone_from_this_host(host: str, pid: int) -> bool:
    """Whether `pid` on `host` is a process of this host that no longer exists (no need to
    wait for its heartbeat to age)."""
    import socket

    if pid <= 0 or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's)
        return False
    return False


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those this call made, deepest first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for f in reversed(missing):
        f.mkdir(exist_ok=True)
    return missing


def _create(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    try:
        return os.open(path, flags, 0o644)
    except (FileExistsError, FileNotFoundError):
        raise
    except OSError as exc:
        raise _not_a_lease(path, exc) from None


def _take_over(path: Path, stale: Holder, token: str, timeout: float) -> Lease | None:
    """Replace the stale lease `path` by a new one, unless another taker is at it."""
    n = 0
    while True:
        marker = path.with_name(f"{path.name}.take-{stale.token}-{n}")
        try:
            os.close(_create(marker))
            break
        except FileExistsError:
            try:
                if not is_stale(marker.stat().st_mtime, timeout):
                    return None  # another process is taking it over right now
            except FileNotFoundError:
                return None  # that taker finished: the lease is new
            n += 1
    try:
        now = read_holder(path)
        if now is None or now.token != stale.token:
            return None  # released or taken over since we looked
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{token}")
        fd = _create(tmp)
        try:
            os.replace(tmp, path)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return Lease(path, fd, token, timeout)
    finally:
        for old in path.parent.glob(f"{path.name}.take-{stale.token}-*"):
            old.unlink(missing_ok=True)


def acquire(
    path: Path, timeout: float = DEFAULT_TIMEOUT, *, wait: bool = True, poll: float = 0.05
) -> Lease | Holder:
    """Hold the lease `path`: at once if it is free or stale, else (with `wait`) once its
    holder releases it or stops beating. Without `wait`, returns the live holder instead."""
    delay = poll
    while True:
        got = try_acquire(path, timeout)
        if isinstance(got, Lease) or not wait:
            return got
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0, max(timeout / 4, poll))


def _not_a_lease(path: Path, exc: OSError) -> OutputError:
    what = f"a symbolic link (to {os.readlink(path)!r})" if path.is_symlink() else "unusable"
    return OutputError(
        f"The lease file {path} is {what}: {exc}. smttask opens lease files only as plain "
        f"files; remove it (rm {path}) if no smttask process is computing that task."
    )
