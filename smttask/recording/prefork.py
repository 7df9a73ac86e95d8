"""What a process about to fork children that record finds out once for all of them.

The job server forks a child per job; each child records its task as a fresh ``smttask run``
would. Without this, every child would find out for itself what is the same for all of them:
the repository's state (three ``git`` processes), the committer's name and upstream URL, the
interpreter and machine (``/proc/cpuinfo``), the versions of the imported packages (their
``METADATA`` files) and the system's MIME type tables. ``prepare`` finds them in the server,
before the fork; the children inherit them. Each is only used while it still holds: the
repository's state with a snapshot of everything ``git status`` reads (``gitsnapshot``), which
a child compares before it trusts the state; the package versions are those of the files the
server imported, which the server watches (``jobserver.stamps``).
"""

from __future__ import annotations

from pathlib import Path


def prepare(root: Path) -> str:
    """Prepare the record of a child's run in the project in `root`: "" when its git state is
    ready, else why not (no project, not a git repository, the repository changed a moment
    ago...: the child then asks git itself)."""
    import concurrent.futures.thread  # noqa: F401 (the recorder imports it for its exit)
    import mimetypes
    import subprocess  # noqa: F401 (a child asking git after all)

    from . import context, recorder
    from .projectfile import find_project

    context.executable()
    context.platform_info()
    recorder._DEPENDENCIES.current()
    if not mimetypes.inited:
        mimetypes.init()
    if find_project(root) is None:
        return f"no Sumatra project in {root}"
    rec = recorder.RECORDER.for_root(root)
    if rec is None:
        return f"no Sumatra project in {root}"
    return rec.watcher().prepare()
