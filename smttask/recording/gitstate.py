"""The code repository's state: commit, uncommitted changes, and a cheap change detector.

A recorded run must be reproducible from its record, so tracked files may not differ from the
commit the record names, except under *dirty directories* (folders holding no code, such as
``reports/``). Untracked files never count.

The state costs a few ``git`` calls (~4 ms) once per process. Later checks are cheap
(a few µs): before every task, ``stat`` calls on git's index, HEAD and branch ref, and on the
task's own module file detect a commit or an edit of the task's module at once; any other
tracked file is re-checked with ``git status`` at most once per
``config.settings.git_check_interval`` seconds.

A process about to fork children that record (the job server) calls ``prepare``: it asks git
once, with a ``Snapshot`` of everything git's answer depends on, and a child's first check
compares the snapshot's stamps instead of running git (any difference: it asks git itself).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DirtyRepositoryError, ProjectError
from ..frozen import Frozen
from .gitsnapshot import Snapshot, git_files, tracked

if TYPE_CHECKING:
    import subprocess

#: Largest diff (of changes under dirty directories) kept in a record, in characters.
MAX_DIFF = 1_000_000


class GitState(Frozen):
    """What `git status` said of a working tree (immutable)."""

    __slots__ = ("allowed", "blocking", "commit", "diff", "root")
    FIELDS = ("root", "commit", "blocking", "allowed", "diff")
    root: Path  # top folder of the working tree
    commit: str  # HEAD commit, "" before the first commit
    blocking: tuple[str, ...]  # changed tracked files outside the dirty directories
    allowed: tuple[str, ...]  # changed tracked files inside them
    diff: str  # `git diff HEAD` of the allowed changes (stored in the record)

    def __init__(
        self,
        root: Path,
        commit: str,
        blocking: tuple[str, ...],
        allowed: tuple[str, ...],
        diff: str,
    ) -> None:
        self._set(root, commit, blocking, allowed, diff)


def git(root: Path, *args: str) -> str:
    """Run git in `root`; return its stdout. Raise ProjectError if git is missing or fails."""
    return finish(start(root, *args))


class GitCall:
    """A git command started by `start`, its answer read by `finish`."""

    __slots__ = ("args", "pid", "process", "root")

    def __init__(self, root: Path, args: tuple[str, ...], process: subprocess.Popen[str]) -> None:
        self.root, self.args, self.process = root, args, process
        self.pid = os.getpid()  # the process that started it (only it can read the answer)


def start(root: Path, *args: str) -> GitCall:
    """Start git in `root` (its answer read by `finish`), so that other work (another git
    call) runs meanwhile. Raise ProjectError if git is missing."""
    import subprocess  # (only a recorded run asks git)

    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        process = subprocess.Popen(
            ["git", *args],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except FileNotFoundError:
        raise ProjectError(
            "Recording needs git, but the `git` command was not found. Install git (e.g. "
            "apt-get install git) or run without recording (smttask.config.settings.record = "
            "False, or `smttask run --no-record`)."
        ) from None
    return GitCall(root, args, process)


def finish(call: GitCall) -> str:
    """The stdout of `call` (see `start`), once it has ended; raise ProjectError if it
    failed."""
    stdout, stderr = call.process.communicate()
    if call.process.returncode != 0:
        raise ProjectError(
            f"`git {' '.join(call.args)}` failed in {call.root}: {stderr.strip() or stdout}. "
            f"Recorded runs need the project inside a git repository with its code committed."
        )
    return stdout


def locate(folder: Path) -> tuple[Path, Path]:
    """(working tree root, absolute git dir) of the repository holding `folder`."""
    try:
        out = git(folder, "rev-parse", "--show-toplevel", "--absolute-git-dir").splitlines()
    except ProjectError as exc:
        raise ProjectError(
            f"The project folder {folder} is not inside a git repository, so a record could "
            f"not name the code version. Run `git init` there and commit your code, or run "
            f"without recording. ({exc})"
        ) from None
    return Path(out[0]), Path(out[1])


def user_name(root: Path, call: GitCall | None = None) -> str:
    """'Name <email>' as git would sign a commit here ('' if git has no identity); `call`:
    ``git var GIT_COMMITTER_IDENT`` started already (see `start`)."""
    try:
        ident = (finish(call) if call is not None else git(root, *IDENT)).strip()
    except ProjectError:
        return ""
    return ident.rsplit(">", 1)[0] + ">" if ">" in ident else ident


IDENT = ("var", "GIT_COMMITTER_IDENT")


def upstream_url(git_dir: Path) -> str | None:
    """URL of the `origin` remote, read from the repository's config file (no subprocess;
    ``include`` directives are not followed)."""
    try:
        text = (git_dir / "config").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    section: tuple[str, str] | None = None
    found = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            end = line.find("]")
            if end < 0:
                section = None
                continue
            name, _, sub = line[1:end].strip().partition(" ")
            sub = sub.strip()
            sub = sub[1:-1] if len(sub) >= 2 and sub[0] == sub[-1] == '"' else sub
            if not sub and "." in name:  # the old form, [remote.origin]
                name, _, sub = name.partition(".")
            section = (name.lower(), sub)
            line = line[end + 1 :].strip()  # (a variable may follow on the same line)
        if section != ("remote", "origin") or not line or line[0] in "#;":
            continue
        key, eq, value = line.partition("=")
        if eq and key.strip().lower() == "url":
            found = _config_value(value.strip())  # the last one counts, as for git
    return found


def _config_value(value: str) -> str:
    """A git config value: double quotes removed, a comment (# or ;) outside them cut."""
    out, quoted = [], False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif ch in "#;" and not quoted:
            break
        else:
            out.append(ch)
    return "".join(out).strip()


def read_state(root: Path, dirty_dirs: Iterable[str]) -> GitState:
    """Ask git for HEAD and the changed tracked files; split them by the dirty directories."""
    out = git(root, "status", "--porcelain=v2", "-z", "--branch", "--untracked-files=no")
    commit = ""
    changed: list[str] = []
    fields = iter(out.split("\0"))
    for entry in fields:
        if entry.startswith("# branch.oid "):
            oid = entry[len("# branch.oid ") :]
            commit = "" if oid == "(initial)" else oid
        elif entry[:2] in ("1 ", "u "):
            changed.append(entry.split(" ", 8 if entry[0] == "1" else 10)[-1])
        elif entry.startswith("2 "):
            changed.append(entry.split(" ", 9)[-1])
            changed.append(next(fields, ""))  # the path it was renamed from
    prefixes = tuple(d.strip("/") + "/" for d in dirty_dirs if d.strip("/"))
    blocking = tuple(p for p in changed if p and not p.startswith(prefixes))
    allowed = tuple(p for p in changed if p and p.startswith(prefixes))
    diff = ""
    if allowed and commit:
        diff = git(root, "diff", "--no-color", "HEAD", "--", *allowed)
        if len(diff) > MAX_DIFF:
            diff = diff[:MAX_DIFF] + f"\n[diff cut at {MAX_DIFF} characters]\n"
    return GitState(root, commit, blocking, allowed, diff)


def dirty_error(state: GitState, project_root: Path) -> DirtyRepositoryError:
    shown = ", ".join(state.blocking[:8])
    more = f" and {len(state.blocking) - 8} more" if len(state.blocking) > 8 else ""
    return DirtyRepositoryError(
        f"Uncommitted changes in tracked files of {state.root}: {shown}{more}. A record names "
        f"the commit its code came from, so recorded (and memoized) runs need those changes "
        f"committed: `git commit -am '...'` (or `git stash` them). Folders that hold no code "
        f"(reports, notes) can be declared dirty directories, whose changes never block: "
        f"`smttask project dirty-dirs --add DIR` in {project_root}, or SMTTASK_DIRTY_DIRS. "
        f"Untracked files never block."
    )


class GitWatcher:
    """Keeps the state of one repository for the life of the process, re-checked cheaply."""

    def __init__(self, project_root: Path, dirty_dirs: Iterable[str]) -> None:
        # The committer is asked first: git answers while `locate` and `git status` run.
        try:
            self._ident: GitCall | None = start(project_root, *IDENT)
        except ProjectError:  # no git: `locate` says so
            self._ident = None
        try:
            self.root, self.git_dir = locate(project_root)
        except BaseException:
            self._drop_ident()
            raise
        self.project_root = project_root
        base = project_root.resolve().relative_to(self.root.resolve()).as_posix()
        prefix = "" if base == "." else base + "/"
        self.dirty_dirs = tuple(prefix + d.strip("/") for d in dirty_dirs if d.strip("/"))
        self._state: GitState | None = None
        self._checked = 0.0  # time.monotonic() of the last `git status`
        self._checked_wall = 0  # time.time_ns() just before it
        self._stamp: tuple[object, ...] = ()
        git_dir = str(self.git_dir)
        self._index, self._head = os.path.join(git_dir, "index"), os.path.join(git_dir, "HEAD")
        self._packed = os.path.join(git_dir, "packed-refs")
        #: HEAD's stamp when it was last read, and the branch ref file it named ("" if none)
        self._head_ref: tuple[tuple[int, int, int] | None, str] = (None, "")
        self._user: str | None = None
        self._upstream: tuple[str | None] | None = None
        self.checks = 0  # full `git status` calls made (for tests and benchmarks)
        #: What vouches for `_state` in a forked child's first check (see `prepare`).
        self._snapshot: Snapshot | None = None
        self._retry_ns = 0  # (wall clock) before then, `prepare` takes no new snapshot

    @property
    def user(self) -> str:
        if self._user is None:
            call, self._ident = self._ident, None
            if call is not None and call.pid != os.getpid():
                # Started by the parent of this forked process: its answer is the parent's.
                call = None
            self._user = user_name(self.root, call)
        return self._user

    def _drop_ident(self) -> None:
        call, self._ident = self._ident, None
        if call is not None and call.pid == os.getpid():
            call.process.kill()
            call.process.communicate()

    @property
    def upstream(self) -> str | None:
        if self._upstream is None:
            self._upstream = (upstream_url(self.git_dir),)
        return self._upstream[0]

    def state(self, interval: float, module_file: str | None = None) -> GitState:
        """The current state; runs `git status` only when something may have changed."""
        now = time.monotonic()
        stamp = self._repo_stamp()
        snapshot, self._snapshot = self._snapshot, None  # vouches for one check only
        if snapshot is not None:
            if (
                self._state is not None
                and snapshot.holds(stamp)
                and not self._modified_since_check(module_file)
            ):
                self._stamp, self._checked = stamp, now
                return self._state
            self._state, self._user, self._upstream = None, None, None
        fresh = (
            self._state is not None
            and stamp == self._stamp
            and now - self._checked < interval
            and not self._modified_since_check(module_file)
        )
        if fresh:
            assert self._state is not None
            return self._state
        # Stamps are taken before asking git: a change made during the call is seen next time.
        self._stamp = stamp
        self._checked_wall = time.time_ns()
        try:
            self._state = read_state(self.root, self.dirty_dirs)
        finally:
            if self._ident is not None:  # (done by now: read, so that no git process lingers)
                _ = self.user
        self._checked = now
        self.checks += 1
        return self._state

    def prepare(self) -> str:
        """Before forking children that record (the job server): know the state, the
        committer and the upstream URL, with a trusted `Snapshot` vouching for them, so that
        a child's first `check` runs no git. "" if they are ready; else why not (the
        children then ask git, as fresh processes do). Asks git only when the last
        snapshot no longer holds."""
        now_ns = time.time_ns()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.holds(self._repo_stamp()):
            return ""
        # Nothing a child could trust without a snapshot (not by `interval` either).
        self._snapshot, self._state, self._checked = None, None, 0.0
        self._user, self._upstream = None, None
        if now_ns < self._retry_ns:
            return "the repository changed a moment ago"
        repo = self._repo_stamp()  # stamps first: a change made while git runs is seen
        listing = git(self.root, "ls-files", "-z", "--stage")
        files, submodules = tracked(listing, self.root)
        configs = git(self.root, "config", "--list", "--show-origin", "-z")
        found = Snapshot.take(
            repo,
            files,
            git_files(configs, self.root, self.git_dir),
            now_ns,
            "the repository has submodules" if submodules else "",
        )
        if found.untrusted:
            self._retry_ns = time.time_ns() + (_NEVER_NS if submodules else _RETRY_NS)
            return found.untrusted
        state = read_state(self.root, self.dirty_dirs)
        self.checks += 1
        _ = self.user, self.upstream  # read now, for the children
        self._state, self._stamp, self._checked = state, repo, time.monotonic()
        self._checked_wall = now_ns
        self._snapshot = found
        return ""

    def check(self, interval: float, module_file: str | None = None) -> GitState:
        """The current state; raise DirtyRepositoryError if tracked code is uncommitted."""
        state = self.state(interval, module_file)
        if state.blocking:
            # Ask again next time: the user is about to commit.
            self._checked = 0.0
            raise dirty_error(state, self.project_root)
        if not state.commit:
            self._checked = 0.0
            raise ProjectError(
                f"The git repository {state.root} has no commit yet, so a record could not name "
                f"the code version. Commit your code (git add ... && git commit) first."
            )
        return state

    def _repo_stamp(self) -> tuple[object, ...]:
        """Stamps of git's index, HEAD, and the branch HEAD names (its ref file, or
        packed-refs while there is none). HEAD is read again only when its own stamp changes: git rewrites it
        through a new file (a rename), so its inode changes with every write."""
        head = _stat(self._head)
        stamp: list[object] = [_stat(self._index), head]
        seen, ref = self._head_ref
        if head is None or head != seen:
            try:
                with open(self._head, encoding="utf-8") as f:
                    text = f.read().strip()
            except OSError:
                text = ""
            ref = os.path.join(str(self.git_dir), text[5:]) if text.startswith("ref: ") else ""
            self._head_ref = (head, ref)
        if ref:
            loose = _stat(ref)
            stamp.append(loose)
            if loose is None:  # (a loose ref file, while it exists, is the branch's commit)
                stamp.append(_stat(self._packed))
        return tuple(stamp)

    def _modified_since_check(self, path: str | None) -> bool:
        if path is None:
            return False
        st = _stat(path)
        # File times come from a coarse kernel clock (a few ms): allow for it.
        return st is not None and st[0] >= self._checked_wall - _CLOCK_SLACK_NS


_CLOCK_SLACK_NS = 10_000_000
#: How long `prepare` waits before it takes a new snapshot after one it could not trust.
_RETRY_NS = 100_000_000
_NEVER_NS = 1 << 62


def _stat(path: str) -> tuple[int, int, int] | None:
    """(modification time, size, inode) of `path`; None if it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
