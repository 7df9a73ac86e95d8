"""Recorded and memoized runs refuse uncommitted tracked changes, except in dirty directories."""

from __future__ import annotations

import pytest

from smttask import DirtyRepositoryError, config
from smttask.recording import RECORDER
from smttask.recording.projectfile import set_dirty_dirs
from smttask.recording.store import open_store

TASKS = """
from smttask import MemoizedTask, RecordedTask

@RecordedTask
def square(x: int) -> int:
    return x * x

@MemoizedTask
def half(x: float) -> float:
    return x / 2
"""


def _watcher(project):  # type: ignore[no-untyped-def]
    return RECORDER.projects[project.root].watcher()


def test_uncommitted_tracked_change_blocks_with_the_files_and_the_fix(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("gtasks", TASKS)
    smt_project.write("helpers.py", "A = 1\n")
    smt_project.commit("helpers.py")
    smt_project.write("helpers.py", "A = 2\n")
    with pytest.raises(DirtyRepositoryError) as info:
        tasks.square(x=2).run()
    message = str(info.value)
    assert "helpers.py" in message and "git commit" in message and "dirty-dirs" in message
    assert not (smt_project.root / "data" / "run_dump" / "square").exists()  # nothing ran
    with pytest.raises(DirtyRepositoryError):
        tasks.half(x=1.0).run()  # memoized runs refuse too
    smt_project.commit("helpers.py")
    assert tasks.square(x=2).run() == 4
    [rec] = open_store().records()
    assert rec.version == smt_project.git("rev-parse", "HEAD").strip()


def test_staged_changes_block_and_untracked_files_never_do(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("stasks", TASKS)
    smt_project.write("scratch.py", "untracked = True\n")  # untracked: fine
    assert tasks.square(x=3).run() == 9
    smt_project.git("add", "scratch.py")  # staged: now part of the code
    config.settings.git_check_interval = 0
    with pytest.raises(DirtyRepositoryError, match=r"scratch\.py"):
        tasks.square(x=4).run()


def test_changes_under_dirty_directories_never_block(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("dtasks", TASKS)
    smt_project.write("reports/summary.md", "v1\n")
    smt_project.write("notes/todo.md", "v1\n")
    smt_project.commit("reports", "notes")
    smt_project.write("reports/summary.md", "v2\n")
    config.settings.git_check_interval = 0
    with pytest.raises(DirtyRepositoryError, match=r"reports/summary\.md"):
        tasks.square(x=1).run()

    set_dirty_dirs(smt_project.root, add=("reports",))  # the project's own setting
    assert tasks.square(x=1).run() == 1
    [rec] = open_store().records()
    assert "reports/summary.md" in rec.diff and "+v2" in rec.diff  # the change is kept

    smt_project.write("notes/todo.md", "v2\n")
    with pytest.raises(DirtyRepositoryError, match=r"notes/todo\.md"):
        tasks.square(x=2).run()
    monkeypatch.setenv("SMTTASK_DIRTY_DIRS", "notes")  # a setting for this session
    monkeypatch.setattr(config, "settings", config.Settings())
    assert tasks.square(x=2).run() == 4


def test_dirty_directories_from_the_project_file_of_earlier_versions(smt_project) -> None:  # type: ignore[no-untyped-def]
    import json

    tasks = smt_project.write_module("otasks", TASKS)
    smt_project.write("labnotes/a.md", "v1\n")
    smt_project.commit("labnotes")
    smt_project.write("labnotes/a.md", "v2\n")
    project_file = smt_project.root / ".smt" / "project"
    data = json.loads(project_file.read_text())
    data["dirty_directories"] = ["labnotes"]
    project_file.write_text(json.dumps(data))
    assert tasks.square(x=5).run() == 25


def test_git_runs_once_per_process_and_later_changes_are_still_caught(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("ltasks", TASKS)
    for x in range(20):
        tasks.square(x=x).run()
    watcher = _watcher(smt_project)
    assert watcher.checks == 1  # one `git status` for 20 tasks

    # An edit of the task's own module is seen at once (its file's time is checked).
    (smt_project.root / "ltasks.py").write_text(TASKS + "\n# edited\n")
    with pytest.raises(DirtyRepositoryError, match=r"ltasks\.py"):
        tasks.square(x=100).run()
    smt_project.commit("ltasks.py")
    assert tasks.square(x=100).run() == 10_000  # a commit is seen at once too

    # Other files: seen within git_check_interval seconds (0: before every task).
    smt_project.write("util.py", "B = 1\n")
    smt_project.commit("util.py")
    smt_project.write("util.py", "B = 2\n")
    config.settings.git_check_interval = 0
    with pytest.raises(DirtyRepositoryError, match=r"util\.py"):
        tasks.square(x=101).run()


def test_without_a_sumatra_project_nothing_is_checked_or_recorded(project, caplog) -> None:  # type: ignore[no-untyped-def]
    tasks = project.write_module("ntasks", TASKS)
    project.write("ntasks.py", TASKS + "\n# uncommitted\n")
    with caplog.at_level("WARNING", logger="smttask.recording"):
        assert tasks.square(x=7).run() == 49
    assert "smttask project init" in caplog.text
    assert not (project.root / ".smt").exists()


def test_a_new_commit_of_the_branch_is_seen_in_its_loose_ref_or_in_packed_refs(smt_project) -> None:  # type: ignore[no-untyped-def]
    """The commit a record names follows the branch whether git keeps it in a loose ref
    file or (after `git pack-refs`) in packed-refs, without asking git each time."""
    tasks = smt_project.write_module("ptasks", TASKS)
    config.settings.git_check_interval = 3600.0
    tasks.square(x=1).run()
    watcher = _watcher(smt_project)
    head = smt_project.git("rev-parse", "HEAD").strip()
    assert watcher.state(3600.0).commit == head
    branch = smt_project.git("symbolic-ref", "HEAD").strip()

    def new_commit(parent: str) -> str:
        tree = smt_project.git("rev-parse", f"{parent}^{{tree}}").strip()
        return smt_project.git("commit-tree", tree, "-p", parent, "-m", "next").strip()

    # The branch moves in its loose ref file (index and HEAD unchanged).
    second = new_commit(head)
    smt_project.git("update-ref", branch, second)
    assert watcher.state(3600.0).commit == second
    # Packed: no loose ref left; the branch moves in packed-refs only.
    smt_project.git("pack-refs", "--all", "--prune")
    assert not (smt_project.root / ".git" / branch).exists()
    assert watcher.state(3600.0).commit == second
    third = new_commit(second)
    smt_project.git("update-ref", branch, third)
    smt_project.git("pack-refs", "--all", "--prune")
    assert not (smt_project.root / ".git" / branch).exists()
    assert watcher.state(3600.0).commit == third
    checks = watcher.checks
    assert watcher.state(3600.0).commit == third and watcher.checks == checks  # unchanged


@pytest.mark.parametrize(
    "config_text",
    [
        '[remote "origin"]\n\turl = https://example.org/a.git\n\tfetch = +refs/heads/*\n',
        '[remote "upstream"]\n\turl = https://example.org/up.git\n'
        '[Remote "origin"]\n\tURL = "ssh://host/p q.git" ; a comment\n',
        '[remote "origin"] url = https://example.org/one.git\n[remote "origin"]\n'
        "  url = https://example.org/last.git # the last one counts\n",
        '[remote "other"]\n\turl = https://example.org/no.git\n',
        "[core]\n\tbare = false\n",
    ],
)
def test_the_upstream_url_is_what_git_reads(tmp_path, config_text: str) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    from pathlib import Path

    from smttask.recording.gitstate import upstream_url

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    config_file = Path(tmp_path, ".git", "config")
    config_file.write_text(config_file.read_text() + config_text)
    asked = subprocess.run(
        ["git", "config", "--get", "remote.origin.url"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert upstream_url(Path(tmp_path, ".git")) == (asked or None)


def test_the_committer_is_asked_alongside_and_no_git_process_outlives_the_first_check(
    project, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording import gitstate

    started: list[gitstate.GitCall] = []
    real_start = gitstate.start

    def recording_start(root, *args):  # type: ignore[no-untyped-def]
        call = real_start(root, *args)
        started.append(call)
        return call

    monkeypatch.setattr(gitstate, "start", recording_start)
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Ada Lovelace")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "ada@example.org")
    watcher = gitstate.GitWatcher(project.root, ())
    assert started[0].args == gitstate.IDENT  # before `rev-parse`: the two run at once
    assert [c.args[0] for c in started] == ["var", "rev-parse"]
    state = watcher.check(1.0)
    assert state.commit == project.git("rev-parse", "HEAD").strip()
    assert all(c.process.returncode is not None for c in started)  # every one waited for
    assert watcher.user == "Ada Lovelace <ada@example.org>"
    assert [c.args[0] for c in started] == ["var", "rev-parse", "status"]  # no second `var`


def test_a_forked_child_asks_for_the_committer_itself(project) -> None:  # type: ignore[no-untyped-def]
    import os

    from smttask.recording import gitstate

    watcher = gitstate.GitWatcher(project.root, ())  # its `git var` not read yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's `git var` is not its own to read
        try:
            os.write(write, watcher.user.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        child_user = f.read().decode()
    os.waitpid(pid, 0)
    assert child_user == watcher.user == "Test <test@example.org>"


def test_outside_a_repository_the_early_committer_call_is_ended(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from smttask.errors import ProjectError
    from smttask.recording import gitstate

    started: list[gitstate.GitCall] = []
    real_start = gitstate.start
    monkeypatch.setattr(
        gitstate,
        "start",
        lambda root, *args: started.append(real_start(root, *args)) or started[-1],
    )
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(ProjectError, match="not inside a git repository"):
        gitstate.GitWatcher(tmp_path, ())
    assert started and all(c.process.returncode is not None for c in started)
