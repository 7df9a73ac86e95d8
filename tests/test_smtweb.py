"""Sumatra's web interface (`smtweb`) browses the records smttask writes."""

from __future__ import annotations

import html
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from smttask import TaskExecutionError
from smttask.cli import cli
from smttask.view import RSView

SMTWEB = str(Path(sys.executable).with_name("smtweb"))

TASKS = """
from smttask import RecordedTask

@RecordedTask
def scale(x: float, factor: float) -> float:
    return x * factor

@RecordedTask
def broken(x: int) -> int:
    raise RuntimeError("no luck")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str, server: subprocess.Popen[str], timeout: float = 30) -> str:
    """The page at `url`, waiting for the server to start (failing if it exits)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode("utf-8"))
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None:
                out, err = server.communicate()
                pytest.fail(f"smtweb exited with {server.returncode}: {out}\n{err}")
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_smtweb_lists_and_shows_the_records(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("web_tasks", TASKS)
    tasks.scale(x=2.0, factor=1.5).run()
    tasks.scale(x=3.0, factor=1.5).run()
    with pytest.raises(TaskExecutionError):
        tasks.broken(x=1).run()
    result = CliRunner().invoke(cli, ["store", "flush"])  # smtweb reads the store only
    assert result.exit_code == 0, result.output
    rs = RSView()
    assert len(rs) == 3

    port = free_port()
    server = subprocess.Popen(
        [SMTWEB, "--no-browser", "--port", str(port)],
        cwd=smt_project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        projects = fetch(f"{base}/", server)
        assert "/test/" in projects
        listing = fetch(f"{base}/test/", server)
        for label in rs.list_labels():
            assert label in listing
        crash = rs.filter.status("crashed").latest
        page = html.unescape(fetch(f"{base}/test/{crash.label}/", server))
        assert crash.label in page and "RuntimeError: no luck" in page
        record = rs.filter.task("scale").filter.params(eq={"x": 3.0}).latest
        page = html.unescape(fetch(f"{base}/test/{record.label}/", server))
        assert record.label in page and "factor: 1.5" in page and "x: 3.0" in page
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_smtweb_serves_a_postgresql_store_with_the_password_from_the_environment(
    project, postgres_password_dsn, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Django maps Sumatra's old backend name (`postgresql_psycopg2`) to its current one, so
    `smtweb` opens a PostgreSQL store; libpq reads the password from PGPASSWORD."""
    dsn, password = postgres_password_dsn
    monkeypatch.setenv("PGPASSWORD", password)
    result = CliRunner().invoke(cli, ["project", "init", "--yes", "--name", "pg", "--store", dsn])
    assert result.exit_code == 0, result.output
    project.commit(".gitignore")
    tasks = project.write_module("pg_web_tasks", TASKS)
    tasks.scale(x=2.0, factor=1.5).run()
    assert CliRunner().invoke(cli, ["store", "flush"]).exit_code == 0
    [label] = RSView().list_labels()

    port = free_port()
    server = subprocess.Popen(
        [SMTWEB, "--no-browser", "--port", str(port)],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert "/pg/" in fetch(f"{base}/", server)
        assert label in fetch(f"{base}/pg/", server)
        page = html.unescape(fetch(f"{base}/pg/{label}/", server))
        assert label in page and "factor: 1.5" in page
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert password not in out + err
