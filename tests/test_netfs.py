"""SQLite on a network file system: detected by ``statfs``'s ``f_type`` (Linux's own magic
numbers), opened without WAL, one warning recommending PostgreSQL."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pytest

from smttask.recording import netfs

MAGIC = {  # from linux/magic.h and the file systems' sources
    "NFS": 0x6969,
    "Lustre": 0x0BD00BD0,
    "BeeGFS": 0x19830326,
    "GPFS": 0x47504653,
    "CIFS": 0xFF534D42,
    "SMB2": 0xFE534D42,
    "CephFS": 0x00C36400,
}


@pytest.mark.parametrize("name", sorted(MAGIC))
def test_network_file_systems_are_named_from_their_magic_number(name: str, tmp_path: Path) -> None:
    found = netfs.network_filesystem(tmp_path, lambda p: MAGIC[name])
    assert found is not None and name.rstrip("2") in found


def test_local_file_systems_are_not_network_ones(tmp_path: Path) -> None:
    ext4, tmpfs, xfs, btrfs, overlay = 0xEF53, 0x01021994, 0x58465342, 0x9123683E, 0x794C7630
    for magic in (ext4, tmpfs, xfs, btrfs, overlay):
        assert netfs.network_filesystem(tmp_path, lambda p, m=magic: m) is None
    real = netfs.filesystem_type(tmp_path / "not" / "made")  # the nearest existing folder
    assert real is not None and netfs.network_filesystem(tmp_path) is None


def test_an_sqlite_store_on_nfs_gets_no_wal_and_one_warning(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording.django import setup
    from smttask.recording.projectinit import InitOptions, init_project

    monkeypatch.setattr(setup, "filesystem_type", lambda p: MAGIC["NFS"])
    other = smt_project.root / "sub"
    other.mkdir()
    (other / "keep").write_text("")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info = init_project(other, InitOptions(name="nfs"))
        from smttask.recording.store import backend

        backend(info)
        backend(info)
    notes = [w for w in caught if issubclass(w.category, setup.NetworkStoreWarning)]
    assert len(notes) == 1
    assert "NFS" in str(notes[0].message) and "PostgreSQL" in str(notes[0].message)
    with sqlite3.connect(info.store) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
