"""A PostgreSQL password is never shown or committed, and need not be written down at all.

Against a real server whose test role must log in with its password (scram-sha-256, see
``scripts/services/postgres password-db``): connecting without it fails, so a store that
works was given the password — by the address, ``PGPASSWORD`` or ``~/.pgpass``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from smttask.recording.address import has_password, masked, passwords_in

SMTTASK = str(Path(sys.executable).with_name("smttask"))
TASKS = """
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    return x * x
"""


def smttask(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PGPASS")}
    return subprocess.run(
        [SMTTASK, *args], cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        env={**clean, "SMTTASK_PROJECT_ROOT": str(root), **env},
    )  # fmt: skip


def with_password(dsn: str, password: str) -> str:
    user, _, rest = dsn.partition("@")
    return f"{user}:{password}@{rest}"


def shown(done: subprocess.CompletedProcess[str], password: str) -> str:
    text = done.stdout + done.stderr
    assert password not in text, text
    assert "Traceback" not in text, text
    return text


def test_masked_hides_every_form_of_password() -> None:
    cases = {
        "postgresql://ada:s%40cret@db:5432/r": "postgresql://ada:***@db:5432/r",
        "postgres://ada:pw@db/r?sslmode=require&password=pw": (
            "postgres://ada:***@db/r?sslmode=require&password=***"
        ),
        "postgresql://ada@db/r": "postgresql://ada@db/r",
        "/home/ada/.smt/records": "/home/ada/.smt/records",
    }
    for address, expected in cases.items():
        assert masked(address) == expected
        assert has_password(address) == (address != expected)
    assert passwords_in("postgresql://ada:s%40cret@db/r") == ["s%40cret", "s@cret"]


def test_a_password_in_the_address_is_never_printed_nor_committed(
    project, postgres_password_dsn
) -> None:  # type: ignore[no-untyped-def]
    dsn, password = postgres_password_dsn
    root = project.root
    address = with_password(dsn, password)
    done = smttask(root, "project", "init", "--yes", "--store", address)
    assert done.returncode == 0, shown(done, password)
    assert masked(address) in shown(done, password)
    project_file = root / ".smt" / "project"
    assert password in project_file.read_text()  # Sumatra's own file keeps the address...
    assert stat.S_IMODE(project_file.stat().st_mode) == 0o600  # ...for its owner only
    assert "/.smt/project" in (root / ".gitignore").read_text().splitlines()
    assert ".smt/project" not in project.git("status", "--porcelain", "--untracked-files=all")
    project.commit(".gitignore")
    project.write_module("stasks", TASKS)
    (root / "taskdir").mkdir()
    run = smttask(root, "run", "--help")
    assert run.returncode == 0
    import stasks  # type: ignore[import-not-found]

    stasks.square(x=2).save(root / "taskdir")
    ran = smttask(root, "run", "taskdir")
    assert ran.returncode == 0, shown(ran, password)
    for args in (["project", "info"], ["smt", "list", "-l"], ["smt", "info"],
                 ["smt", "view", "--help"], ["store", "flush"]):  # fmt: skip
        out = smttask(root, *args)
        assert out.returncode == 0, shown(out, password)
        shown(out, password)
    assert masked(address) in smttask(root, "smt", "info").stdout
    assert "_square_" in smttask(root, "smt", "list").stdout

    # A wrong password: every failure message names the store, masked.
    wrong = with_password(dsn, "wrong-" + password)
    project_file.write_text(project_file.read_text().replace(address, wrong))
    stasks.square(x=3).save(root / "taskdir")
    # The run works; its record waits in the journal (the detached process that would store
    # it cannot, and leaves a note saying so).
    ran = smttask(root, "run", "taskdir")
    text = shown(ran, "wrong-" + password)
    assert ran.returncode == 0, text
    note = root / ".smt" / "records-not-stored"
    deadline = time.monotonic() + 60
    while not note.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert note.exists()
    # The next run stores its records itself, and says why it cannot: the store, masked.
    stasks.square(x=4).save(root / "taskdir")
    ran = smttask(root, "run", "taskdir")
    text = shown(ran, "wrong-" + password)
    assert ran.returncode == 0 and masked(wrong) in text, text
    for args in (["store", "flush"], ["store", "rebuild"], ["smt", "list"]):
        out = smttask(root, *args)
        text = shown(out, "wrong-" + password)
        assert out.returncode == 1 and masked(wrong) in text, text
    # The right password again: a flush stores the waiting records and removes the note.
    project_file.write_text(project_file.read_text().replace(wrong, address))
    out = smttask(root, "store", "flush")
    assert out.returncode == 0 and not note.exists(), shown(out, password)
    assert smttask(root, "smt", "list").stdout.count("_square_") == 3


def test_a_failed_init_never_prints_the_password(project, postgres_password_dsn) -> None:  # type: ignore[no-untyped-def]
    dsn, password = postgres_password_dsn
    wrong = with_password(dsn, "not-" + password)
    done = smttask(project.root, "project", "init", "--yes", "--store", wrong)
    text = shown(done, "not-" + password)
    assert done.returncode == 1 and "Cannot open the record store" in text
    assert masked(wrong) in text and "password authentication failed" in text
    assert not (project.root / ".smt").exists()


def test_the_password_can_come_from_pgpassword_or_pgpass(
    project, postgres_password_dsn, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    dsn, password = postgres_password_dsn
    root = project.root
    # The server enforces it: without a password, nothing opens.
    done = smttask(root, "project", "init", "--yes", "--store", dsn)
    assert done.returncode == 1 and "no password supplied" in shown(done, password)
    wrong = smttask(root, "project", "init", "--yes", "--store", dsn, PGPASSWORD="wrong-pw")
    assert wrong.returncode == 1 and "password authentication failed" in wrong.stderr

    done = smttask(root, "project", "init", "--yes", "--store", dsn, PGPASSWORD=password)
    assert done.returncode == 0, shown(done, password)
    project_file = root / ".smt" / "project"
    assert password not in project_file.read_text()
    assert "/.smt/project" not in (root / ".gitignore").read_text()  # nothing secret in it
    project.commit(".gitignore")

    # The same project, with the password in a pgpass file instead (libpq's convention).
    host_port_db = dsn.split("@", 1)[1]
    host, port_db = host_port_db.split(":", 1)
    port, db = port_db.split("/", 1)
    user = dsn.split("//", 1)[1].split("@", 1)[0]
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{host}:{port}:{db}:{user}:{password}\n")
    pgpass.chmod(0o600)
    assert smttask(root, "store", "rebuild").returncode == 1  # no password: refused
    done = smttask(root, "store", "rebuild", PGPASSFILE=str(pgpass))
    assert done.returncode == 0, shown(done, password)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pgpass").write_text(pgpass.read_text())
    (home / ".pgpass").chmod(0o600)
    done = smttask(root, "smt", "list", HOME=str(home))
    assert done.returncode == 0, shown(done, password)


def test_merge_source_password_is_masked(project, postgres_password_dsn) -> None:  # type: ignore[no-untyped-def]
    dsn, password = postgres_password_dsn
    assert smttask(project.root, "project", "init", "--yes").returncode == 0
    address = with_password(dsn, "bad-" + password)
    done = smttask(project.root, "store", "merge", address)
    text = shown(done, "bad-" + password)
    assert done.returncode == 1 and masked(address) in text, text
