"""File hashes for records: a file just written is not read back; a changed file is hashed anew."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from smttask import filehash


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def test_a_file_is_hashed_from_its_content(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"[1, 2, 3]")
    digest, st = filehash.sha1_of(str(path))
    assert digest == _sha1(b"[1, 2, 3]")
    assert st.st_size == 9


def test_a_noted_file_is_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(b"12")
    filehash.note_written(str(path), b"12")
    opened: list[str] = []
    watching = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if watching and event == "open":
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # (hooks stay for the life of the process: this one goes quiet)
    try:
        digest = filehash.sha1_of(str(path))[0]
    finally:
        watching.clear()
    assert digest == _sha1(b"12")
    assert str(path) not in opened


def test_a_note_of_other_bytes_than_the_file_holds_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b"123")
    filehash.note_written(str(path), b"1234")  # not what the file holds: not noted
    assert filehash.sha1_of(str(path))[0] == _sha1(b"123")


def test_a_changed_file_is_hashed_anew(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_bytes(b"old")
    filehash.note_written(str(path), b"old")
    assert filehash.sha1_of(str(path))[0] == _sha1(b"old")
    path.write_bytes(b"newer")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert filehash.sha1_of(str(path))[0] == _sha1(b"newer")
