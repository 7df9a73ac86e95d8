"""Switching the record store (``smttask project set-store``): every record copied and
checked before ``.smt/project`` names the new store; Sumatra's ``configure --store``, which
copies nothing, is refused. SQLite → PostgreSQL with a few hundred records."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner

from smttask.cli import cli
from smttask.recording import find_project
from smttask.recording.store import open_store

pytestmark = pytest.mark.postgres

TASKS = """
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    return x * x
"""


def test_set_store_copies_every_record_then_switches(smt_project, postgres_dsn) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("sw_tasks", TASKS)
    for x in range(200):
        tasks.square(x=x).run()
    before = sorted(open_store().labels())
    assert len(before) == 200
    untracked = _status(smt_project.root)
    refused = CliRunner().invoke(cli, ["smt", "configure", "-s", postgres_dsn])
    assert refused.exit_code != 0 and "smttask project set-store" in str(refused.exception)
    assert find_project(smt_project.root).kind == "sqlite"  # type: ignore[union-attr]
    done = CliRunner().invoke(cli, ["project", "set-store", postgres_dsn])
    assert done.exit_code == 0, done.output
    assert "200 record(s) there (200 copied now)" in done.output
    info = find_project(smt_project.root)
    assert info is not None and info.kind == "postgresql"
    assert sorted(open_store().labels()) == before
    tasks.square(x=1000).run()  # new records go to PostgreSQL
    assert len(open_store().labels()) == 201
    assert _status(smt_project.root) == untracked  # no backup folder, nothing new
    again = CliRunner().invoke(cli, ["project", "set-store", postgres_dsn])
    assert again.exit_code != 0 and "already this project" in str(again.exception)


def test_set_store_to_sqlite_in_the_repository_is_ignored_by_git(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("sw_tasks2", TASKS)
    for x in range(3):
        tasks.square(x=x).run()
    done = CliRunner().invoke(cli, ["project", "set-store", "stores/other.db"])
    assert done.exit_code == 0, done.output
    data = json.loads((smt_project.root / ".smt" / "project").read_text())
    assert data["record_store"]["db_file"] == "stores/other.db"  # relative to the project
    assert len(open_store().labels()) == 3
    assert "/stores/other.db*" in (smt_project.root / ".gitignore").read_text()


def _status(root):  # type: ignore[no-untyped-def]
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
