"""Leases (``smttask.storage.lease``): one computation of a task at a time, across processes.

Holders are real processes: killed with SIGKILL (gone at once), or stopped with SIGSTOP (alive
but silent, as a frozen node looks to the others), and a lease written by a process of another
host is read from its file as such a lease would be.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smttask.storage.lease import Holder, Lease, acquire, read_holder, try_acquire

HOLD = """
import sys, time
from pathlib import Path
from smttask.storage.lease import try_acquire
lease = try_acquire(Path(sys.argv[1]), float(sys.argv[2]))
print(type(lease).__name__, flush=True)
time.sleep(600)
"""


def holder_process(path: Path, timeout: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(timeout)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "Lease"
    return proc


def wait_for(condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_lease_is_exclusive_names_its_holder_and_is_released(tmp_path: Path) -> None:
    path = tmp_path / "leases" / "t" / "abc.lease"
    lease = try_acquire(path, 30)
    assert isinstance(lease, Lease)
    other = try_acquire(path, 30)
    assert isinstance(other, Holder) and other.pid == os.getpid() and other.token == lease.token
    assert json.loads(path.read_bytes().rstrip())["job"] == os.environ.get("SLURM_JOB_ID", "")
    lease.release()
    assert not path.exists() and (tmp_path / "leases" / "t").is_dir()  # kept for the next
    with pytest.raises(ValueError), try_acquire(tmp_path / "new" / "t" / "a.lease", 30):
        raise ValueError  # a failed computation: the folders its lease made go too
    assert not (tmp_path / "new").exists()
    again = try_acquire(path, 30)
    assert isinstance(again, Lease)
    again.release()


def test_the_heartbeat_is_renewed_while_the_lease_is_held(tmp_path: Path) -> None:
    path = tmp_path / "x.lease"
    with acquire(path, 0.3) as lease:
        assert isinstance(lease, Lease)
        first = read_holder(path)
        assert first is not None
        wait_for(lambda: (read_holder(path) or first).heartbeat > first.heartbeat + 0.04)
        time.sleep(0.5)  # longer than the timeout: still held, never stale
        assert isinstance(try_acquire(path, 0.3), Holder)


def test_a_killed_holder_on_this_host_is_taken_over_at_once(tmp_path: Path) -> None:
    path = tmp_path / "k.lease"
    proc = holder_process(path, 3600)
    assert isinstance(try_acquire(path, 3600), Holder)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    taken = try_acquire(path, 3600)
    assert isinstance(taken, Lease)
    assert read_holder(path).pid == os.getpid()  # type: ignore[union-attr]
    taken.release()


def test_a_silent_holder_is_taken_over_only_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "s.lease"
    proc = holder_process(path, 1.0)
    try:
        proc.send_signal(signal.SIGSTOP)  # alive, but no heartbeat any more
        start = read_holder(path)
        assert start is not None
        assert isinstance(try_acquire(path, 1.0), Holder)  # fresh: waited for
        lease = acquire(path, 1.0)  # waits until the holder is stale, then takes over
        assert isinstance(lease, Lease)
        assert time.time() - start.heartbeat > 1.0
        assert read_holder(path).token == lease.token  # type: ignore[union-attr]
        lease.release()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def write_foreign(path: Path, heartbeat: float) -> None:
    """A lease as a process on another node writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = {"host": "node-b", "pid": 1, "job": "77", "token": "f" * 16, "started": heartbeat}
    path.write_text(json.dumps({**raw, "heartbeat": heartbeat}).ljust(512))
    os.utime(path, (heartbeat, heartbeat))


def test_a_lease_of_another_node_is_judged_by_its_heartbeat(tmp_path: Path) -> None:
    path = tmp_path / "n.lease"
    write_foreign(path, time.time())
    found = try_acquire(path, 5)
    assert isinstance(found, Holder) and found.describe() == "process 1 on node-b, SLURM job 77"
    write_foreign(path, time.time() - 10)
    taken = try_acquire(path, 5)
    assert isinstance(taken, Lease)
    taken.release()
    # No take-over marker left (the process's spare lease file stays until it exits).
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".spare-")] == []


def test_only_one_of_many_processes_takes_over_a_stale_lease(tmp_path: Path) -> None:
    path = tmp_path / "m.lease"
    write_foreign(path, time.time() - 100)
    code = (
        "import sys, time; from pathlib import Path; "
        "from smttask.storage.lease import try_acquire, Lease\n"
        "while not Path(sys.argv[2]).exists(): time.sleep(0.001)\n"
        "got = try_acquire(Path(sys.argv[1]), 5)\n"
        "print(isinstance(got, Lease), flush=True)\n"
        "time.sleep(2)\n"
    )
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(go)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    time.sleep(1.0)  # let them all reach the start line
    go.touch()
    won = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(won) == ["False"] * 5 + ["True"], won


def test_a_lease_file_is_never_opened_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("x")
    path = tmp_path / "p.lease"
    path.symlink_to(target)
    from smttask.errors import OutputError

    with pytest.raises(OutputError, match="symbolic link"):
        try_acquire(path, 5)
    assert target.read_text() == "x"


def test_one_thread_renews_every_lease_a_process_holds(tmp_path: Path) -> None:
    import threading

    leases = [try_acquire(tmp_path / f"{k}.lease", 0.3) for k in range(3)]
    assert all(isinstance(lease, Lease) for lease in leases)
    first = [read_holder(tmp_path / f"{k}.lease") for k in range(3)]
    for k, before in enumerate(first):
        assert before is not None
        wait_for(
            lambda k=k, before=before: (
                (read_holder(tmp_path / f"{k}.lease") or before).heartbeat > before.heartbeat + 0.04
            )
        )
    beaters = [t for t in threading.enumerate() if t.name == "smttask-leases"]
    assert len(beaters) == 1
    for lease in leases:
        assert isinstance(lease, Lease)
        lease.release()
    assert not list(tmp_path.glob("*.lease"))
    time.sleep(0.2)  # released leases are no longer written (their files would reappear)
    assert not list(tmp_path.glob("*.lease"))


def test_the_host_name_is_the_one_socket_gives() -> None:
    """Leases, spares and journals name their host without importing ``socket``: the same
    name, so that a process of this host is still recognised as one."""
    import socket

    from smttask.storage.lease import host_name

    assert host_name() == socket.gethostname()
