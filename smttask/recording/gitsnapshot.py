"""A snapshot of a repository that says, with ``stat`` calls only, whether ``git status``
would still give the answer it gave: the job server takes one before it forks, so that its
children record without running git (see ``GitWatcher.prepare``).

``git status --untracked-files=no`` answers from the commit HEAD names, git's index, the
tracked files of the working tree and git's configuration. The snapshot holds stamps of all
of them, taken *before* git is asked: HEAD, the branch ref and the index
(``GitWatcher._repo_stamp``; the ref again where a linked worktree keeps it, see
`git_files`), every tracked file (``lstat``: device, inode, mode, size, modification and
change time) and the configuration files git reads. While every stamp is the same, nothing git looks
at has changed since, so its answer (and the committer's name, and the ``origin`` URL) holds.

A file written in the same tick of the kernel's clock as the snapshot, and written again
later in that tick with the same size, would keep its stamp (git calls such entries "racily
clean"). So a snapshot in which any stamp is that recent (its change time within `SLACK_NS`
of the snapshot, or `COARSE_SLACK_NS` on a file system keeping whole seconds) is not
trusted: its holders ask git themselves, as without a snapshot. A repository with
submodules is never trusted either (a submodule's own changes are not in its folder's stamp).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..frozen import Frozen

#: How far behind the wall clock a file's change time may be when written now: the kernel's
#: coarse clock (one tick, 1-10 ms), with room.
SLACK_NS = 20_000_000
#: The same on a file system that keeps whole seconds (ext3, FAT: 2 s).
COARSE_SLACK_NS = 2_100_000_000
#: git's file mode of a submodule (a "gitlink").
GITLINK = "160000"

Stamp = tuple[int, int, int, int, int, int] | None


def file_stamp(path: str, *, follow: bool = False) -> Stamp:
    """(device, inode, mode, size, mtime, ctime) of `path` (``lstat`` unless `follow`);
    None if it does not exist or cannot be read."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def recent(stamp: Stamp, wall_ns: int) -> bool:
    """Whether a later write could leave `stamp` unchanged (see the module docstring)."""
    if stamp is None:
        return False
    ctime = max(stamp[4], stamp[5])
    slack = COARSE_SLACK_NS if ctime % 1_000_000_000 == 0 else SLACK_NS
    return ctime >= wall_ns - slack


def tracked(listing: str, root: Path) -> tuple[list[str], bool]:
    """The absolute paths of the tracked files in the output of ``git ls-files -z --stage``
    run in `root`, and whether there is a submodule among them."""
    paths, submodule = [], False
    base = str(root)
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        if meta.split(" ", 1)[0] == GITLINK:
            submodule = True
        paths.append(os.path.join(base, path))
    return sorted(set(paths)), submodule


def git_files(listing: str, root: Path, git_dir: Path) -> list[str]:
    """git's own files that its answer here depends on, besides HEAD and the index: the
    configuration files it reads (those named in the output of ``git config --list
    --show-origin -z`` run in `root`, includes too, and the places it would look for one
    that does not exist yet), and where the branch HEAD names may move: its loose ref,
    ``packed-refs`` and the reftable of the repository's common folder (which a linked
    worktree shares with the main one)."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    found = {
        os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig",
        os.environ.get("GIT_CONFIG_GLOBAL") or os.path.join(home, ".gitconfig"),
        os.path.join(xdg, "git", "config"),
        os.path.join(str(git_dir), "config"),
        os.path.join(str(git_dir), "config.worktree"),
    }
    fields = listing.split("\0")
    for origin in fields[0::2]:  # origin, "key\nvalue", origin, ...
        if origin.startswith("file:"):
            found.add(os.path.join(str(root), origin[len("file:") :]))
    common = str(git_dir)
    try:
        with open(os.path.join(common, "commondir"), encoding="utf-8") as f:
            common = os.path.normpath(os.path.join(common, f.read().strip()))
    except OSError:
        pass
    found |= {os.path.join(common, "packed-refs"), os.path.join(common, "reftable", "tables.list")}
    try:
        with open(os.path.join(str(git_dir), "HEAD"), encoding="utf-8") as f:
            head = f.read().strip()
    except OSError:
        head = ""
    if head.startswith("ref: "):
        found.add(os.path.join(common, head[len("ref: ") :]))
    return sorted(found)


class Snapshot(Frozen):
    """Stamps of what ``git status`` reads, taken at `wall_ns` (``time.time_ns``); immutable."""

    __slots__ = ("files", "gitfiles", "repo", "untrusted", "wall_ns")
    FIELDS = ("repo", "files", "gitfiles", "wall_ns", "untrusted")
    repo: tuple[object, ...]  # GitWatcher._repo_stamp(): HEAD, the branch ref, the index
    files: tuple[tuple[str, Stamp], ...]  # the tracked files (not followed: git tracks links)
    gitfiles: tuple[tuple[str, Stamp], ...]  # git's configuration and refs (followed)
    wall_ns: int
    untrusted: str  # why it must not be trusted ("" if it may be)

    def __init__(
        self,
        repo: tuple[object, ...],
        files: tuple[tuple[str, Stamp], ...],
        gitfiles: tuple[tuple[str, Stamp], ...],
        wall_ns: int,
        untrusted: str = "",
    ) -> None:
        self._set(repo, files, gitfiles, wall_ns, untrusted)

    @classmethod
    def take(
        cls,
        repo: tuple[object, ...],
        paths: Iterable[str],
        gitfiles: Iterable[str],
        wall_ns: int,
        untrusted: str = "",
    ) -> Snapshot:
        """Stamp `paths` and `gitfiles` now (`wall_ns`: the time just before `repo` was
        stamped)."""
        files = tuple((p, file_stamp(p)) for p in paths)
        own = tuple((p, file_stamp(p, follow=True)) for p in gitfiles)
        if not untrusted:
            racy = next((p for p, s in files + own if recent(s, wall_ns)), None)
            if racy is not None:
                untrusted = f"{racy} changed just before the snapshot"
        return cls(repo, files, own, wall_ns, untrusted)

    def holds(self, repo: tuple[object, ...]) -> bool:
        """Whether it is trusted and nothing it stamped has changed (`repo`: the repository's
        stamp now)."""
        if self.untrusted or repo != self.repo:
            return False
        return all(file_stamp(p) == s for p, s in self.files) and all(
            file_stamp(p, follow=True) == s for p, s in self.gitfiles
        )
