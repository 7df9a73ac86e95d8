"""Crash-safe writes: complete files only, never replaced unless asked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from smttask import fileio as atomic
from smttask.fileio import publish_new, replace_symlink, write_atomic


def test_write_atomic_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.txt"
    write_atomic(target, b"one")
    write_atomic(target, b"two", fsync=False)
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["b.txt"]  # no temporary left


def test_publish_new_never_replaces_and_exactly_one_writer_wins(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    assert publish_new(target, b"first") is True
    assert publish_new(target, b"second") is False
    assert target.read_bytes() == b"first"
    race = tmp_path / "race.json"
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda i: publish_new(race, f"writer {i}".encode()), range(32)))
    assert wins.count(True) == 1
    assert race.read_bytes() == f"writer {wins.index(True)}".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.json", "result.json"]


def test_replace_symlink_is_relative_and_atomic(tmp_path: Path) -> None:
    target = tmp_path / "store" / "x.json"
    write_atomic(target, b"x")
    link = tmp_path / "links" / "x.json"
    replace_symlink(link, target)
    assert os.readlink(link) == "../store/x.json"
    other = tmp_path / "store" / "x.1.json"
    write_atomic(other, b"y")
    replace_symlink(link, other)
    assert link.read_bytes() == b"y"
    assert [p.name for p in link.parent.iterdir()] == ["x.json"]


# -- file systems without hard links ----------------------------------------------------------

RACER = """
import errno, os, sys, time
from pathlib import Path
from smttask import fileio as atomic

tier, gate, folder, me, rounds = sys.argv[1:6]
calls = {"renameat2": 0, "replace": 0}

def no_hard_links(src, dst, *args, **kwargs):
    raise PermissionError(errno.EPERM, "Operation not permitted", str(dst))

real_link = os.link
def slow_link(src, dst, **kwargs):  # a slow file system: the writers overlap
    time.sleep(0.02)
    return real_link(src, dst, **kwargs)
os.link = slow_link if tier == "unnamed" else no_hard_links
if tier == "placeholder":
    atomic._RENAMEAT2 = None  # a C library without renameat2
else:
    real_renameat2 = atomic._RENAMEAT2
    def counted(*args):
        calls["renameat2"] += 1
        return real_renameat2(*args)
    atomic._RENAMEAT2 = counted
real_replace = os.replace
def slow_replace(src, dst, *args, **kwargs):  # a slow file system: the writers overlap
    calls["replace"] += 1
    time.sleep(0.02)
    return real_replace(src, dst, *args, **kwargs)
os.replace = os.rename = slow_replace
Path(gate + "." + me).touch()
while not os.path.exists(gate):
    time.sleep(0.001)
for i in range(int(rounds)):
    won = atomic.publish_new(Path(folder, f"r{i}.json"), f"{me}".encode(), fsync=False)
    print(i, int(won), flush=True)
print("calls", calls["renameat2"], calls["replace"])
"""


@pytest.mark.parametrize("tier", ["unnamed", "renameat2", "placeholder"])
def test_exactly_one_of_concurrent_processes_wins_with_or_without_hard_links(
    tmp_path: Path, tier: str
) -> None:
    if tier == "renameat2" and atomic._RENAMEAT2 is None:
        pytest.skip("this C library has no renameat2")
    if tier == "unnamed" and not atomic._O_TMPFILE:
        pytest.skip("no O_TMPFILE (or no /proc) here")
    gate, folder, rounds, writers = tmp_path / "gate", tmp_path / "out", 10, 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, tier, str(gate), str(folder), str(me), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in range(writers)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("gate.*"))) < writers:  # every writer is ready
        assert time.monotonic() < deadline, "writers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    gate.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * writers, [err for _, err in results]
    winners: dict[int, list[int]] = {i: [] for i in range(rounds)}
    for me, (out, _) in enumerate(results):
        *rows, last = out.splitlines()
        for row in rows:
            i, won = map(int, row.split())
            if won:
                winners[i].append(me)
        _, renameat2, replace = last.split()
        if tier == "unnamed":  # exclusive links of unnamed files did the work: no rename
            assert (int(renameat2), int(replace)) == (0, 0)
        elif tier == "renameat2":  # the exclusive rename did the work, and nothing else
            assert (int(renameat2), int(replace)) == (rounds, 0)
        else:  # one rename onto its own placeholder per round won
            won = sum(row.endswith(" 1") for row in rows)  # not the last line: "calls 0 1"
            assert (int(renameat2), int(replace)) == (0, won)
    for i in range(rounds):
        assert len(winners[i]) == 1, f"round {i}: writers {winners[i]} all think they won"
        assert (folder / f"r{i}.json").read_text() == str(winners[i][0])
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"r{i}.json" for i in range(rounds))


def test_a_small_batched_file_waits_for_the_sync_point_and_a_large_one_is_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        flushed.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    atomic.sync()  # start from a sync point
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    assert atomic.publish_new(small, b"1" * atomic.PAGE_SIZE, batch=True)
    assert flushed == [] and atomic.pending_syncs() == [str(tmp_path)]
    assert atomic.publish_new(large, b"1" * (atomic.PAGE_SIZE + 1), batch=True)
    assert len(flushed) == 1  # flushed before it was published
    assert atomic.sync() == 1 and atomic.pending_syncs() == []  # one file system, once
    assert atomic.sync() == 0  # nothing written since
    assert atomic.publish_new(tmp_path / "each.json", b"2")  # not batched: flushed at once
    assert len(flushed) == 2 and atomic.pending_syncs() == []
    assert small.read_bytes() == b"1" * atomic.PAGE_SIZE


SYNCED = """
import atexit, os, sys
from pathlib import Path
from smttask import fileio
calls = []
real = fileio._SYNCFS
def syncfs(fd):
    calls.append(os.readlink(f"/proc/self/fd/{fd}"))
    return real(fd)
fileio._SYNCFS = syncfs
atexit.register(lambda: print("syncfs", calls))  # runs last: after smttask's sync at exit
fileio.publish_new(Path(sys.argv[1], "r.json"), b"1", batch=True)
print("published", flush=True)
"""


@pytest.mark.skipif(atomic._SYNCFS is None, reason="no syncfs here")
def test_the_exit_of_a_process_is_a_sync_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SYNCED, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == ["published", f"syncfs [{str(tmp_path)!r}]"]


# -- unnamed files (O_TMPFILE) ----------------------------------------------------------------

unnamed = pytest.mark.skipif(not atomic._O_TMPFILE, reason="no O_TMPFILE (or no /proc) here")


@unnamed
def test_a_new_file_is_linked_under_its_name_without_a_temporary_name_or_a_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    for name in ("rename", "replace"):
        monkeypatch.setattr(os, name, lambda *a, name=name, **k: calls.append(name))
    monkeypatch.setattr(atomic, "_RENAMEAT2", lambda *a: calls.append("renameat2"))
    target = tmp_path / "new" / "r.json"  # its folder is made on the way
    assert publish_new(target, b"1") and publish_new(target, b"2") is False
    assert target.read_bytes() == b"1" and calls == []
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]
    assert target.stat().st_nlink == 1 and target.stat().st_mode & 0o777 == atomic._file_mode()


@unnamed
@pytest.mark.parametrize("errno_", ["EOPNOTSUPP", "EISDIR", "EINVAL"])
def test_a_folder_without_unnamed_files_gets_named_temporaries_and_is_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errno_: str
) -> None:
    import errno

    tried: list[str] = []
    real_open = os.open

    def no_tmpfile(path: str, flags: int, *args: object, **kwargs: object) -> int:
        if flags & atomic._O_TMPFILE == atomic._O_TMPFILE:
            tried.append(path)
            raise OSError(getattr(errno, errno_), "unsupported", path)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", no_tmpfile)
    monkeypatch.setattr(atomic, "_named_only", set())
    for i in range(3):
        assert publish_new(tmp_path / f"r{i}.json", b"x")
    assert publish_new(tmp_path / "r0.json", b"y") is False
    assert tried == [str(tmp_path)]  # asked once for the folder, then remembered
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r0.json", "r1.json", "r2.json"]
    assert (tmp_path / "r0.json").read_bytes() == b"x"


@unnamed
def test_an_unnamed_file_that_cannot_be_linked_falls_back_and_is_freed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def no_hard_links(src: object, dst: object, **kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted", str(dst))

    monkeypatch.setattr(os, "link", no_hard_links)
    monkeypatch.setattr(atomic, "_named_only", set())
    assert publish_new(tmp_path / "r.json", b"x")
    assert atomic._named_only == {str(tmp_path)}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from smttask import fileio
real_write = os.write
def write(fd, data):
    real_write(fd, bytes(data)[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)
os.write = write
fileio.publish_new(Path(sys.argv[1], "r.json"), b"x" * 10_000)
"""


def test_a_writer_killed_mid_write_leaves_no_file_at_all(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], check=False)
    assert done.returncode == -9
    # an unnamed file goes with its process; a named temporary (no O_TMPFILE) stays hidden
    left = [p.name for p in tmp_path.iterdir()]
    assert left == [] if atomic._O_TMPFILE else all(n.startswith(".r.json.tmp-") for n in left)


def test_names_are_unique_without_a_system_call_each(monkeypatch: pytest.MonkeyPatch) -> None:
    names = atomic.Names()

    def no_urandom(n: int) -> bytes:
        raise AssertionError("os.urandom called per name")

    monkeypatch.setattr(os, "urandom", no_urandom)
    drawn = [names.next() for _ in range(1000)]
    assert len(set(drawn)) == 1000 and all(n.startswith(f"{os.getpid()}-") for n in drawn)
    monkeypatch.undo()
    if not hasattr(os, "fork"):
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a forked child draws its own word
        os.write(write, names.next().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert child.startswith(f"{pid}-") and child.split("-")[1] != drawn[0].split("-")[1]
