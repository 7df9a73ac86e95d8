"""The snapshot a job server hands its children (``GitWatcher.prepare``): a child's first
check runs no git while nothing git reads has changed, and sees every change git would."""

from __future__ import annotations

import os

import pytest

from smttask.recording import gitsnapshot, gitstate
from smttask.recording.gitsnapshot import COARSE_SLACK_NS, SLACK_NS, recent
from smttask.recording.gitstate import GitWatcher


@pytest.fixture
def repo(project, monkeypatch):  # type: ignore[no-untyped-def]
    """A committed repository; every git call counted (`repo.calls`); stamps trusted however
    recent (a test's files are written just before its snapshot)."""
    project.write("code.py", "A = 1\n")
    project.write("notes/plan.md", "v1\n")
    project.commit()
    calls: list[tuple[str, ...]] = []
    real = gitstate.git

    def counted(root, *args):  # type: ignore[no-untyped-def]
        calls.append(args)
        return real(root, *args)

    monkeypatch.setattr(gitstate, "git", counted)
    monkeypatch.setattr(gitsnapshot, "SLACK_NS", -(10**12))
    monkeypatch.setattr(gitsnapshot, "COARSE_SLACK_NS", -(10**12))
    project.calls = calls
    return project


def prepared(repo, dirty=()):  # type: ignore[no-untyped-def]
    watcher = GitWatcher(repo.root, dirty)
    assert watcher.prepare() == ""
    repo.calls.clear()
    return watcher


def test_a_prepared_state_is_used_without_git(repo) -> None:  # type: ignore[no-untyped-def]
    watcher = prepared(repo)
    assert watcher.prepare() == "" and repo.calls == []  # (the server) unchanged: no git
    head = repo.git("rev-parse", "HEAD").strip()
    state = watcher.check(0.0)  # interval 0 (check before every task): still no git
    assert state.commit == head and not state.blocking
    assert watcher.user and repo.calls == []


@pytest.mark.parametrize(
    "change",
    [
        "edit",  # a tracked file, another size
        "same size",  # the same size, its time set back: the change time still differs
        "stage",  # git add of a new file
        "remove",
        "commit",
        "config",  # git's configuration (the upstream URL)
    ],
)
def test_a_change_after_the_snapshot_makes_the_child_ask_git(repo, change) -> None:  # type: ignore[no-untyped-def]
    watcher = prepared(repo)
    path = repo.root / "code.py"
    if change == "edit":
        path.write_text("A = 22\n")
    elif change == "same size":
        st = path.stat()
        path.write_text("A = 2\n")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "stage":
        repo.write("new.py", "B = 1\n")
        repo.git("add", "new.py")
    elif change == "remove":
        path.unlink()
    elif change == "commit":
        path.write_text("A = 22\n")
        repo.commit("code.py")
    else:
        repo.git("remote", "add", "origin", "https://example.org/code.git")
    state = watcher.state(3600.0)  # (a long interval would otherwise trust the state)
    assert ("status", "--porcelain=v2", "-z", "--branch", "--untracked-files=no") in repo.calls
    if change == "commit":
        assert state.commit == repo.git("rev-parse", "HEAD").strip() and not state.blocking
    elif change == "config":
        assert watcher.upstream == "https://example.org/code.git"
    else:
        assert state.blocking


def test_a_snapshot_vouches_for_one_check_only(repo) -> None:  # type: ignore[no-untyped-def]
    watcher = prepared(repo)
    watcher.state(3600.0)
    (repo.root / "notes/plan.md").write_text("v2, longer\n")
    watcher.state(0.0)  # after the first check: the usual rules (interval 0: ask git)
    assert len(repo.calls) == 1


def test_changes_under_dirty_directories_keep_their_diff(repo) -> None:  # type: ignore[no-untyped-def]
    (repo.root / "notes/plan.md").write_text("v2\n")
    watcher = prepared(repo, dirty=("notes",))
    state = watcher.check(0.0)
    assert "+v2" in state.diff and not state.blocking and repo.calls == []


def test_without_a_trusted_snapshot_nothing_is_handed_down(repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    watcher = GitWatcher(repo.root, ())
    watcher.check(3600.0)  # a state a later check would trust for an hour...
    monkeypatch.setattr(gitsnapshot, "SLACK_NS", 10**18)  # ...but every stamp is too recent
    monkeypatch.setattr(gitsnapshot, "COARSE_SLACK_NS", 10**18)
    reason = watcher.prepare()
    assert "changed just before the snapshot" in reason
    repo.calls.clear()
    watcher.state(3600.0)  # so the child asks git, as a fresh process does
    assert len([c for c in repo.calls if c[0] == "status"]) == 1


def test_recent_stamps_are_not_trusted() -> None:
    now = 1_700_000_000_123_456_789

    def stamp(ctime: int):  # type: ignore[no-untyped-def]
        return (1, 2, 0o100644, 3, ctime - 5, ctime)

    assert recent(stamp(now - SLACK_NS // 2), now)
    assert not recent(stamp(now - 2 * SLACK_NS - 1), now)
    assert recent(stamp(now + 10**9), now)  # in the future (another clock): not trusted
    whole = (now // 10**9 - 1) * 10**9  # a file system keeping whole seconds
    assert recent(stamp(whole), now) and whole > now - COARSE_SLACK_NS
    assert not recent(stamp(whole - 3 * 10**9), now)
    assert not recent(None, now)


def test_submodules_are_never_trusted(tmp_path) -> None:
    listing = "100644 abc 0\tcode.py\x00160000 def 0\tlib\x00"
    paths, submodule = gitsnapshot.tracked(listing, tmp_path)
    assert submodule and paths == [str(tmp_path / "code.py"), str(tmp_path / "lib")]


def test_a_branch_moved_in_a_linked_worktrees_common_folder_is_seen(repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A linked worktree keeps HEAD and its index in its own folder, its branch's ref in the
    common one: a commit of the branch that changes neither (update-ref) is seen too."""
    other = tmp_path / "other"
    repo.git("worktree", "add", "-q", "-b", "side", str(other))
    watcher = GitWatcher(other, ())
    assert watcher.prepare() == ""
    head = repo.git("rev-parse", "side").strip()
    tree = repo.git("rev-parse", "side^{tree}").strip()
    moved = repo.git("commit-tree", tree, "-p", head, "-m", "next").strip()
    repo.git("update-ref", "refs/heads/side", moved)
    assert watcher.state(3600.0).commit == moved
