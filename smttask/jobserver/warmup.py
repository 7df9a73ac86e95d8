"""What the job server imports before it forks, and what a child must make anew.

At its start the server imports what every ``smttask run`` imports (`RUN_MODULES`). For each
job it reads the task files among the job's arguments and imports their task modules (those
of the embedded upstream tasks too) with the checks ``smttask run`` applies (a module outside
the project and the trusted packages is never imported), so that every later job of the same
task types finds them imported.

A module imported once serves every child: state it made at import is shared. For random
generators that matters (every job would draw the same numbers where fresh processes draw
different ones), so a task module holding one at its top level is not served
(`random_state`). Python's own ``random`` reseeds itself in a forked child; numpy's global
generator is reseeded here (`reseed`).

Before each fork the server also finds out what a child's record needs and is the same for
every job (`prepare_records`: the repository's state, the machine, the package versions),
so that children run no ``git``; a child trusts the repository's state only while a snapshot
of what ``git status`` reads still holds (see ``smttask.recording.prefork``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from .. import config, taskfile, trust
from ..errors import SmttaskError

#: What ``smttask run --quiet TASKFILE`` imports for a recorded task below the command line,
#: imported at the start (the caller adds the command line's own modules).
RUN_MODULES = (
    "smttask.runner",
    "smttask.session",
    "smttask.recording",
    "smttask.recording.recorder",
    "smttask.recording.journal",
    "smttask.recording.gitstate",
    "smttask.recording.context",
    "smttask.recording.capture",
    "smttask.recording.prefork",
    "smttask.storage",
    "concurrent.futures",
    "concurrent.futures.thread",
)


class WarmupError(Exception):
    """Importing a task module in the server failed (it may be half imported); the server
    stops (internal: never leaves the server)."""


def preimport(extra: tuple[str, ...] = ()) -> None:
    """Import `RUN_MODULES` and the modules `extra`."""
    for name in (*RUN_MODULES, *extra):
        importlib.import_module(name)


def task_files(argv: list[str]) -> Iterator[Path]:
    """The task files among the arguments of ``smttask run ...`` (existing ``*.json``)."""
    if not argv or argv[0] != "run":
        return
    for arg in argv[1:]:
        if arg.endswith(".json"):
            path = Path(arg)
            if path.is_file():
                yield path


def import_task_modules(argv: list[str]) -> list[str]:
    """Import the task modules the job's task files name (checked as ``smttask run``
    checks them); their names. A file that cannot be read, or names a module that may not
    be imported, is left to the child (which reports it as ``smttask run`` does)."""
    names: list[str] = []
    for path in task_files(argv):
        try:
            desc = taskfile.parse(taskfile.read(path), f"task file {path}")
        except SmttaskError:
            continue
        for name in taskfile.task_modules(desc):
            if name in names:
                continue
            if name not in sys.modules:
                before = set(sys.modules)
                try:
                    trust.import_module(name, f"task file {path}")
                except SmttaskError as exc:
                    if set(sys.modules) != before:
                        raise WarmupError(str(exc)) from exc
                    continue
                except BaseException as exc:
                    raise WarmupError(f"{type(exc).__name__}: {exc}") from exc
            names.append(name)
    return names


def random_state(module: ModuleType) -> str:
    """The names of the random generators at the top level of `module` ('' if none)."""
    kinds = []
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        kinds += [getattr(np_random, "Generator", None), getattr(np_random, "RandomState", None)]
    random = sys.modules.get("random")
    if random is not None:
        kinds.append(random.Random)
    types = tuple(k for k in kinds if isinstance(k, type))
    held = [name for name, value in vars(module).items() if isinstance(value, types)]
    return ", ".join(sorted(held))


def reseed() -> None:
    """In a child: seed numpy's global generator afresh, as a fresh process does."""
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        np_random.seed()


def prepare_records() -> str:
    """Find out, before a fork, what the child's record would find out for itself (see
    ``smttask.recording.prefork``; the job runs in the server's folder and environment, so
    in its project): "" when its git state is ready, else why not (the child asks git)."""
    from ..recording import prefork

    try:
        return prefork.prepare(config.find_root())
    except Exception as exc:  # the child finds it out again, and reports it as a run does
        return f"{type(exc).__name__}: {exc}"
