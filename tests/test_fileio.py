"""Crash-safe writes: complete files only, never replaced unless asked."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
