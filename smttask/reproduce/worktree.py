"""A recorded commit, checked out into a temporary git worktree that is always removed.

``git worktree add --detach`` makes a second working tree of the same repository at the
commit, in a temporary folder, without touching the user's own working tree, index or
branch; repository hooks do not run. The worktree (and its folder, and git's entry for it)
is removed when the block ends, whatever ends it: an error, Ctrl-C or SIGTERM (a signal that
arrives while it is being removed is delivered once it is gone).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from ..errors import ReproductionError

#: Prefix of the temporary folders (`tempfile.gettempdir()`) that hold the worktrees.
PREFIX = "smttask-reproduce-"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", *args],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise ReproductionError(
            "Reproducing a record needs git, but the `git` command was not found. Install "
            "git (e.g. apt-get install git)."
        ) from None
    if check and done.returncode != 0:
        raise ReproductionError(
            f"`git {' '.join(args)}` failed in {repo}: {done.stderr.strip() or done.stdout}."
        )
    return done


def has_commit(repo: Path, commit: str) -> bool:
    """Whether the repository holds `commit` (a full or abbreviated hash)."""
    if not commit or commit.startswith("-"):
        return False
    return git(repo, "cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode == 0


@contextlib.contextmanager
def checkout(repo: Path, commit: str) -> Iterator[Path]:
    """The working tree of `commit` of the repository `repo`, in a temporary folder (whose
    other entries the caller may use), for the duration of the block."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    tree = folder / "tree"
    try:
        git(repo, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        yield tree
    finally:
        with _signals_held():
            _remove(repo, tree)
            shutil.rmtree(folder, ignore_errors=True)


def _remove(repo: Path, tree: Path) -> None:
    if git(repo, "worktree", "remove", "--force", "--force", str(tree), check=False).returncode:
        # Never registered (the add failed) or half made: delete it, then let git forget
        # worktrees whose folders are gone.
        shutil.rmtree(tree, ignore_errors=True)
        git(repo, "worktree", "prune", check=False)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM during the block (main thread only), then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if held:
            signal.raise_signal(held[0])
