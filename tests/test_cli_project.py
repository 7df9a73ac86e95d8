"""`smttask project init | info | dirty-dirs`."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from smttask import DirtyRepositoryError, config, hooks
from smttask.cli import cli
from smttask.errors import ProjectError

SMTTASK = str(Path(sys.executable).with_name("smttask"))


def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), input=input)


def test_init_yes_uses_the_checked_defaults(project) -> None:  # type: ignore[no-untyped-def]
    result = invoke("project", "init", "--yes")
    assert result.exit_code == 0, result.output
    data = json.loads((project.root / ".smt" / "project").read_text())
    assert data["name"] == "project"  # the folder's name
    assert data["input_datastore"]["root"] == str(project.root / "data")
    assert data["data_store"]["root"] == str(project.root / "data" / "run_dump")
    assert data["default_repository"]["url"] == str(project.root)
    assert data["record_store"]["db_file"] == str(project.root / ".smt" / "records")
    with sqlite3.connect(project.root / ".smt" / "records") as db:  # tables exist already
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "django_store_record" in tables
    assert "records*" in (project.root / ".smt" / ".gitignore").read_text()
    # The project's .gitignore (tracked) only gained the lines it lacked: data/ was there.
    assert project.git("status", "--porcelain", "--untracked-files=no") == " M .gitignore\n"
    assert (project.root / ".gitignore").read_text().splitlines()[:2] == ["data/", "__pycache__/"]
    assert (project.root / ".gitignore").read_text().splitlines()[-2:] == [
        "/build/",
        "/.snakemake/",
    ]
    assert "Added to" in result.output and "Commit it: recorded runs refuse" in result.output


def in_terminal(root: Path, args: list[str], answers: str) -> tuple[int, str]:
    """Run `smttask ARGS` with a terminal as its stdin/stdout, typing `answers` into it."""
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([SMTTASK, *args], cwd=root, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    os.write(master, answers.encode())
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return proc.wait(timeout=60), out.decode(errors="replace").replace("\r\n", "\n")


def test_init_asks_for_each_value_and_data_roots_follow_the_project(project) -> None:  # type: ignore[no-untyped-def]
    answers = "deathstar\ninputs\ninputs/archive\n\ny\n"
    code, output = in_terminal(project.root, ["project", "init"], answers)
    assert code == 0, output
    assert "Project name [project]:" in output
    assert "Record store (SQLite file or postgresql:// URI) [.smt/records]:" in output
    assert "[]" not in output
    assert "Create this project?" in output
    config.forget_project_root()
    assert hooks.current().data_roots == (project.root / "inputs", project.root / "inputs/archive")
    data = json.loads((project.root / ".smt" / "project").read_text())
    assert data["record_store"]["db_file"] == str(project.root / ".smt" / "records")
    project.commit(".gitignore")
    tasks = project.write_module(
        "itasks",
        "from smttask import RecordedTask\n@RecordedTask\ndef f(x: int) -> int:\n    return x\n",
    )
    task = tasks.f(x=1)
    task.run()
    assert (project.root / "inputs" / "archive" / "f" / f"{task.key}.json").exists()
    assert (project.root / "inputs" / "f" / f"{task.key}.json").is_symlink()


def test_init_asks_only_for_what_options_do_not_give(project) -> None:  # type: ignore[no-untyped-def]
    code, output = in_terminal(
        project.root, ["project", "init", "--name", "x1", "--store", ""], "\n\ny\n"
    )
    assert code == 0, output
    assert "Project name" not in output and "Record store" not in output
    assert "Input data store" in output
    assert json.loads((project.root / ".smt" / "project").read_text())["name"] == "x1"


def test_init_without_a_terminal_takes_the_defaults_and_says_so(project) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [SMTTASK, "project", "init", "--name", "nt"], cwd=project.root, capture_output=True,
        text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Aborted" not in done.stderr and "not a terminal" in done.stderr
    assert "--yes" in done.stderr
    data = json.loads((project.root / ".smt" / "project").read_text())
    assert (data["name"], data["data_store"]["root"]) == ("nt", str(project.root / "data/run_dump"))


def test_init_extends_the_gitignore_once_and_keeps_the_users_lines(project) -> None:  # type: ignore[no-untyped-def]
    mine = "# mine\n/data\nnotes/*.tmp\n.snakemake/\n!keep.me"  # no newline at the end
    project.write(".gitignore", mine)
    project.commit(".gitignore")
    result = invoke("project", "init", "--yes", "--output", "results")
    assert result.exit_code == 0, result.output
    text = (project.root / ".gitignore").read_text()
    assert text.startswith(mine + "\n")
    added = text[len(mine) + 1 :].splitlines()
    assert added == ["", "# smttask: results, workflow builds and Snakemake's state are not code",
                     "/results/", "/build/"]  # fmt: skip
    assert "Added to" in result.output and "/results/, /build/" in result.output
    from smttask.recording.projectfile import require_project
    from smttask.recording.projectinit import ignore_in_git

    assert ignore_in_git(require_project(project.root)) == []  # nothing twice
    assert (project.root / ".gitignore").read_text() == text


def test_init_refuses_outside_git_twice_or_with_a_bad_name(project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plain = tmp_path / "plain"
    plain.mkdir()
    result = invoke("project", "init", "--yes", str(plain))
    assert isinstance(result.exception, ProjectError)
    assert "not inside a git repository" in str(result.exception)
    assert "git init" in str(result.exception)
    assert not (plain / ".smt").exists()

    result = invoke("project", "init", "--yes", "--name", "bad/name")
    assert isinstance(result.exception, ProjectError) and "Invalid project name" in str(
        result.exception
    )
    assert not (project.root / ".smt").exists()

    assert invoke("project", "init", "--yes").exit_code == 0
    result = invoke("project", "init", "--yes")
    assert isinstance(result.exception, ProjectError) and "already holds" in str(result.exception)


def test_errors_are_one_paragraph_without_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [SMTTASK, "project", "init", "--yes"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: The project folder") and "Traceback" not in done.stderr


def test_init_with_a_postgresql_store(project, postgres_dsn) -> None:  # type: ignore[no-untyped-def]
    result = invoke("project", "init", "--yes", "--store", postgres_dsn)
    assert result.exit_code == 0, result.output
    assert postgres_dsn in result.output
    project.commit(".gitignore")
    tasks = project.write_module(
        "pgi",
        "from smttask import RecordedTask\n@RecordedTask\ndef f(x: int) -> int:\n    return x\n",
    )
    tasks.f(x=2).run()
    listed = invoke("smt", "list")
    assert listed.exit_code == 0 and "_f_" in listed.output


def test_init_refuses_an_unreachable_store_and_leaves_nothing(project) -> None:  # type: ignore[no-untyped-def]
    result = invoke("project", "init", "--yes", "--store", "postgresql://nobody@127.0.0.1:9/none")
    assert isinstance(result.exception, ProjectError)
    assert "Cannot open the record store" in str(result.exception)
    assert not (project.root / ".smt").exists()


def test_dirty_dirs_info_and_help(project) -> None:  # type: ignore[no-untyped-def]
    assert invoke("project", "init", "--yes", "--dirty-dir", "reports").exit_code == 0
    project.commit(".gitignore")
    result = invoke("project", "dirty-dirs", "--add", "notes", "--remove", "reports")
    assert result.output.split() == ["notes"]
    tasks = project.write_module(
        "dd",
        "from smttask import RecordedTask\n@RecordedTask\ndef f(x: int) -> int:\n    return x\n",
    )
    project.write("notes/a.md", "1\n")
    project.commit("notes")
    project.write("notes/a.md", "2\n")
    assert tasks.f(x=3).run() == 3  # notes/ is dirty: allowed
    project.write("dd.py", "# changed\n")
    config.settings.git_check_interval = 0
    try:
        tasks.f(x=4).run()
        raise AssertionError("a change outside the dirty directories must block")
    except DirtyRepositoryError:
        pass
    info = invoke("project", "info")
    assert "dirty directories: notes" in info.output and "(sqlite)" in info.output
    for args in (["project", "--help"], ["project", "init", "--help"]):
        assert invoke(*args).exit_code == 0
    assert "never block" in invoke("project", "dirty-dirs", "--help").output


def test_data_roots_of_a_project_made_by_smt_init(project) -> None:  # type: ignore[no-untyped-def]
    smt = str(Path(sys.executable).with_name("smt"))
    subprocess.run([smt, "init", "-d", "out", "-i", "in", "p1"], cwd=project.root, check=True)
    config.forget_project_root()
    assert hooks.current().data_roots == (project.root / "in", project.root / "out")
    subprocess.run([smt, "configure", "-i", "/"], cwd=project.root, check=True)
    config.forget_project_root()  # `smt init` without -i reads inputs from "/": never used
    assert hooks.current().data_roots[0] == project.root / "data"


def test_one_message_for_an_unsupported_store_address(project) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording import find_project
    from smttask.recording.store import open_store

    expected = re.escape("Unsupported record store 'ftp://host/records'. Give nothing")
    result = invoke("project", "init", "--yes", "--store", "ftp://host/records")
    assert isinstance(result.exception, ProjectError)
    assert re.match(expected, str(result.exception)) and not (project.root / ".smt").exists()

    assert invoke("project", "init", "--yes").exit_code == 0
    merged = invoke("store", "merge", "ftp://host/records")  # another store to merge from
    assert isinstance(merged.exception, ProjectError) and re.match(expected, str(merged.exception))

    settings = project.root / ".smt" / "project"  # the project's own store
    data = json.loads(settings.read_text())
    data["record_store"]["db_file"] = "ftp://host/records"
    settings.write_text(json.dumps(data))
    info = find_project(project.root)
    assert info is not None and info.kind == "unsupported"
    with pytest.raises(ProjectError, match=expected):
        open_store()
    tasks = project.write_module(
        "unsup",
        "from smttask import RecordedTask\n@RecordedTask\ndef f(x: int) -> int:\n    return x\n",
    )
    with pytest.raises(ProjectError, match=expected):
        tasks.f(x=1).run()  # never run without its record
