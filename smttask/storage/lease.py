"""Leases: at most one live computation of a task at a time, across processes and nodes.

A lease is a small file beside the results, ``<output data store>/.leases/<task>/<key>.lease``,
created with ``O_CREAT | O_EXCL`` (exclusive on every POSIX file system, NFS v3+ included)
and holding JSON: ``host``, ``pid``, ``job`` (``SLURM_JOB_ID`` or empty), a ``token``
unique to the lease (``<pid>-<random word drawn once per process>-<counter>``: no system call
per lease), ``started`` and ``heartbeat`` (Unix times). While the lease is held, a thread
rewrites the heartbeat in place every ``timeout / 6`` seconds. A lease whose heartbeat (and
file modification time, whichever is newer) is older than ``timeout`` seconds is *stale*:
its holder was killed, crashed or lost its node. A lease whose holder ran on this host
under a process id that no longer exists is taken over at once.

Nothing here relies on ``flock``, which many cluster file systems keep node-local.

Creating a file is the dear part of a lease (far dearer than renaming one on a busy disk), so
a process keeps a *spare* lease file per folder, ``.spare-<host>-<pid>-<random>``: taking a
lease writes the holder into a spare and renames it to the lease's name with
``renameat2(RENAME_NOREPLACE)`` (exclusive like ``O_EXCL``; where the file system lacks it, a
hard link, then a plain ``O_EXCL`` create); releasing it renames the file back to a spare.
Spares are removed when the process exits, and those of a process gone from this host by the
next process that takes a lease in their folder.

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

import atexit
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..fileio import Names, move_new

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


def lease_dir(output_root: Path, task_name: str) -> Path:
    """The folder of the leases of task type `task_name`."""
    return output_root / LEASE_DIR / task_name


def lease_path(output_root: Path, task_name: str, key: str) -> Path:
    return lease_dir(output_root, task_name) / f"{key}{SUFFIX}"


def read_holder(path: str | Path) -> Holder | None:
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

    def __init__(
        self,
        path: str | Path,
        fd: int,
        token: str,
        timeout: float,
        *,
        written: float | None = None,
        spare: str | None = None,
        folder: str | None = None,
    ) -> None:
        self._file = os.fspath(path)  # (text, not a Path: this is every first run's hot path)
        self._folder = os.path.dirname(self._file) if folder is None else folder
        self._spare = spare  # the spare name its file had (it goes back there on release)
        self.token = token
        self.timeout = timeout
        self._fd: int | None = fd
        self._lock = threading.Lock()
        self.lost = False  # taken over by another process (this one looked dead)
        self.folders: list[Path] = []  # made for it, deepest first (see `release`)
        self.on_release: Callable[[], None] | None = None  # called once, when released
        self._started = time.time() if written is None else written
        if written is None:
            self._write()
        _BEATER.add(self)

    @property
    def path(self) -> Path:
        """The lease file."""
        return Path(self._file)

    def _content(self) -> bytes:
        return _content(self.token, self._started)

    def _write(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.pwrite(self._fd, self._content(), 0)

    def beat(self) -> bool:
        """Renew the heartbeat; return False once the lease is released or lost (its file
        was taken over, i.e. replaced, or removed)."""
        try:
            with self._lock:
                if self._fd is None:
                    return False
                os.pwrite(self._fd, self._content(), 0)
                if not os.path.samestat(os.fstat(self._fd), os.stat(self._file)):
                    self.lost = True
        except OSError:
            self.lost = True
        return not self.lost

    def release(self, *, tidy: bool = False) -> None:
        """End the lease: its file, if it is still this process's, leaves the lease's name
        (it becomes a spare). The folders made for it stay: one per task type, reused by the
        next lease. With `tidy` (a computation that failed), the file goes instead, with this
        process's spares in its folder, and the folders made for the lease if empty then."""
        _BEATER.remove(self)
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is None:
            return
        if self.on_release is not None:
            self.on_release()
        try:
            if os.path.samestat(os.fstat(fd), os.stat(self._file)):
                if not tidy:
                    _SPARES.give_back(self._file, self._folder, fd, self._spare)
                    return
                os.unlink(self._file)
        except FileNotFoundError:
            pass
        os.close(fd)
        if tidy:
            _SPARES.drop(self._folder)
            for folder in self.folders:
                try:
                    folder.rmdir()
                except OSError:
                    break

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: Any) -> None:
        # a computation that failed leaves nothing behind, not even the leases' folders
        self.release(tidy=exc_type is not None)


class _Beater:
    """The one thread of a process that renews the heartbeats of all the leases it holds,
    each every ``timeout / 6`` seconds (started with the first lease; a lease costs no
    thread of its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due: dict[Lease, float] = {}  # lease -> when its next beat is due (monotonic)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        #: When the thread wakes up by itself next (monotonic; inf: only when woken). A lease
        #: due later needs no wake-up: the thread sees it then.
        self._wakes_at = float("inf")

    @staticmethod
    def _interval(lease: Lease) -> float:
        return max(lease.timeout / 6, 0.02)

    def add(self, lease: Lease) -> None:
        with self._lock:
            due = self._due[lease] = time.monotonic() + self._interval(lease)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="smttask-leases", daemon=True
                )
                self._thread.start()
            wake = due < self._wakes_at
        if wake:  # its beat is due before the thread's next wake-up
            self._wake.set()

    def remove(self, lease: Lease) -> None:
        with self._lock:
            self._due.pop(lease, None)

    def _run(self) -> None:
        interval: float | None = None  # the shortest interval of the leases last held
        lingering = False
        while True:
            with self._lock:
                due = sorted(self._due.items(), key=lambda item: item[1])
            now = time.monotonic()
            for lease, when in due:
                if when > now:
                    break
                alive = lease.beat()
                with self._lock:
                    if lease in self._due:
                        if alive:
                            self._due[lease] = time.monotonic() + self._interval(lease)
                        else:
                            del self._due[lease]
            with self._lock:
                # With no lease left, wake up once more an interval later: a lease taken
                # meanwhile (the next task's) then needs no wake-up of its own.
                nearest = min(self._due.values(), default=None)
                if self._due:
                    interval, lingering = min(map(self._interval, self._due)), False
                elif interval is not None and not lingering:
                    nearest, lingering = time.monotonic() + interval, True
                self._wakes_at = float("inf") if nearest is None else nearest
                self._wake.clear()
            self._wake.wait(None if nearest is None else max(nearest - time.monotonic(), 0))

    def _after_fork(self) -> None:
        """In a child process: no lease of the parent is the child's, and no thread runs."""
        self._lock = threading.Lock()
        self._due = {}
        self._wake = threading.Event()
        self._thread = None
        self._wakes_at = float("inf")


_BEATER = _Beater()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_BEATER._after_fork)


def _content(token: str, started: float) -> bytes:
    """The lease file's bytes: JSON of the holder, padded with spaces to `_SIZE`."""
    job = os.environ.get("SLURM_JOB_ID", "")
    if _HOLDER[0] != job:  # the host, process and job, spelled once per process
        host, pid = json.dumps(host_name()), os.getpid()
        _HOLDER[:] = [job, f'{{"host": {host}, "pid": {pid}, "job": {json.dumps(job)}, ']
    text = f'{_HOLDER[1]}"token": "{token}", "started": {started!r}, "heartbeat": {time.time()!r}}}'
    return text.encode().ljust(_SIZE)[:_SIZE]


#: (job, the start of `_content`'s JSON), made anew in a forked child (another process id).
_HOLDER: list[Any] = [None, ""]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _HOLDER.__setitem__(0, None))

#: Lease tokens: a random word per process and a counter (no system call per lease).
_TOKENS = Names(8)


def try_acquire(path: str | Path, timeout: float, *, folder: str | None = None) -> Lease | Holder:
    """The lease `path` (in `folder`, if given) if it was free or stale (taken over), else
    its live holder."""
    file = os.fspath(path)
    if folder is None:
        folder = os.path.dirname(file)
    token = _TOKENS.next()
    made: list[Path] = []
    for _ in range(100):  # the folders may be missing (made, then removed by a cleanup)
        try:
            lease = _SPARES.claim(file, folder, token, timeout)
        except FileNotFoundError:
            made = _make_folders(Path(folder))
            continue
        if lease is None:
            break
        lease.folders = made
        return lease
    holder = read_holder(file)
    if holder is None:  # released meanwhile
        return try_acquire(file, timeout, folder=folder)
    if not is_stale(holder.heartbeat, timeout) and not _dead_here(holder):
        return holder
    taken = _take_over(Path(file), holder, token, timeout)
    return taken if taken is not None else (read_holder(file) or holder)


def _dead_here(holder: Holder) -> bool:
    return gone_from_this_host(holder.host, holder.pid)


def gone_from_this_host(host: str, pid: int) -> bool:
    """Whether `pid` on `host` is a process of this host that no longer exists (no need to
    wait for its heartbeat to age)."""
    if pid <= 0 or host != host_name():
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


def _create(path: str | Path) -> int:
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
        folder = os.fspath(path.parent)
        spare, fd = _SPARES.take(folder)
        started = time.time()
        try:
            os.pwrite(fd, _content(token, started), 0)
            os.replace(spare, path)
        except BaseException:
            os.close(fd)
            _unlink_quiet(spare)
            raise
        return Lease(path, fd, token, timeout, written=started, spare=spare, folder=folder)
    finally:
        for old in path.parent.glob(f"{path.name}.take-{stale.token}-*"):
            old.unlink(missing_ok=True)


def acquire(
    path: str | Path, timeout: float = DEFAULT_TIMEOUT, *, wait: bool = True, poll: float = 0.05
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


def _not_a_lease(path: str | Path, exc: OSError) -> OutputError:
    what = f"a symbolic link (to {os.readlink(path)!r})" if os.path.islink(path) else "unusable"
    return OutputError(
        f"The lease file {path} is {what}: {exc}. smttask opens lease files only as plain "
        f"files; remove it (rm {path}) if no smttask process is computing that task."
    )


class _Spares:
    """This process's spare lease files, per folder (see the module's docstring). Folders and
    files are text (``str``), as a lease holds them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: dict[str, list[tuple[str, int]]] = {}
        self._known: set[str] = set()  # folders whose spares of dead processes were removed
        self._exit = False

    def claim(self, path: str, folder: str, token: str, timeout: float) -> Lease | None:
        """The lease `path` (in `folder`), taken with a spare; None if it exists.
        FileNotFoundError if its folder does not."""
        spare, fd = self.take(folder)
        started = time.time()
        try:
            os.pwrite(fd, _content(token, started), 0)
            taken = move_new(spare, path)
        except BaseException:  # a full disk: leave nothing behind
            os.close(fd)
            _unlink_quiet(spare)
            raise
        if not taken:
            self._put(folder, spare, fd)
            return None
        try:
            return Lease(path, fd, token, timeout, written=started, spare=spare, folder=folder)
        except BaseException:
            os.close(fd)
            _unlink_quiet(path)
            raise

    def give_back(self, path: str, folder: str, fd: int, spare: str | None = None) -> None:
        """Release the lease file `path` (this process's, in `folder`, open as `fd`): it
        becomes a spare (named `spare`, if given: its name before it was taken)."""
        if spare is None or os.path.dirname(spare) != folder:
            spare = _spare_name(folder)
        try:
            os.rename(path, spare)
        except OSError:
            os.close(fd)
            _unlink_quiet(path)
            return
        self._put(folder, spare, fd)

    def take(self, folder: str) -> tuple[str, int]:
        """A spare in `folder` (made if there is none), as (path, open file)."""
        with self._lock:
            free = self._free.get(folder)
            if free:
                return free.pop()
            clean = folder not in self._known
        if clean:
            _remove_dead_spares(folder)
            with self._lock:
                self._known.add(folder)
        spare = _spare_name(folder)
        return spare, _create(spare)

    def _put(self, folder: str, spare: str, fd: int) -> None:
        with self._lock:
            self._free.setdefault(folder, []).append((spare, fd))
            if not self._exit:
                self._exit = True
                atexit.register(self.remove_all)

    def drop(self, folder: str) -> None:
        """Remove this process's spares in `folder`."""
        with self._lock:
            spares = self._free.pop(folder, [])
        for spare, fd in spares:
            os.close(fd)
            _unlink_quiet(spare)

    def remove_all(self) -> None:
        """Remove this process's spares (at exit)."""
        with self._lock:
            free, self._free = self._free, {}
        for spares in free.values():
            for spare, fd in spares:
                os.close(fd)
                _unlink_quiet(spare)

    def _after_fork(self) -> None:
        """In a child process: the parent's spares stay the parent's."""
        self._lock = threading.Lock()
        for spares in self._free.values():
            for _, fd in spares:
                os.close(fd)
        self._free = {}
        self._exit = False


def _unlink_quiet(path: str | Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _spare_name(folder: str) -> str:
    return f"{folder}/{_SPARE}{_host()}-{os.getpid()}-{os.urandom(4).hex()}"


def host_name() -> str:
    """``socket.gethostname()``, which is the node name of ``os.uname()`` where there is
    one (Linux, macOS: gethostname(2) reads it), without importing ``socket`` (4 ms)."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()


def _host() -> str:
    """The host name as spare files spell it."""
    return host_name().replace("-", "_").replace("/", "_")


def _remove_dead_spares(folder: str) -> None:
    """Remove the spares in `folder` of processes that no longer exist on this host."""
    prefix = f"{_SPARE}{_host()}-"
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix)]
    except OSError:
        return
    host = host_name()
    for name in names:
        pid = name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and gone_from_this_host(host, int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(f"{folder}/{name}")


_SPARE = ".spare-"
_SPARES = _Spares()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_SPARES._after_fork)
