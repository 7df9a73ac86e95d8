"""Settings: where the project and its data live, whether runs are recorded.

Every setting has a default, can be set from the environment (``SMTTASK_*``) and can be
changed at run time through the module-level ``settings`` object::

    import smttask
    smttask.config.settings.record = False

Tasks run in a *session* (``smttask.hooks.current()``): settings, project, data stores,
recorder. Outside an explicit one (``smttask run``, Snakemake jobs, ``RSView``), tasks use a
default session that follows ``settings`` and the working directory. smttask itself never
changes ``settings``: a command that runs tasks with other settings opens its own session.

The project root is the nearest folder, from the working directory up, that holds a Sumatra
project (``.smt/``), else a git repository (``.git``), else the working directory itself.
Where its data stores are is read from the project (``smttask.recording``), not here.
"""

from __future__ import annotations

import errno
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"Environment variable {name}={raw!r} is not a yes/no value. "
        f"Set it to one of 1/0, true/false, yes/no, on/off."
    )


def env_float(name: str, default: float) -> float:
    """A finite, non-negative number from the environment (`default` if unset or empty)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(
            f"Environment variable {name}={raw!r} is not a number of zero or more. Set it to a "
            f"number such as {default:g}, or unset it."
        )
    return value


def env_int(name: str, default: int) -> int:
    """A positive whole number from the environment (`default` if unset or empty)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if not (text.isdigit() and len(text) < 19 and int(text) >= 1):
        raise ConfigError(
            f"Environment variable {name}={raw!r} is not a positive whole number. Set it to a "
            f"number such as {default}, or unset it."
        )
    return int(text)


#: Data stores of a project that names none (relative to the project root).
DEFAULT_INPUT_DIR = Path("data")
DEFAULT_OUTPUT_DIR = Path("data/run_dump")


def _env_path(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw).expanduser() if raw else None


def _env_dir(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return default if raw is None else Path(raw)  # (a Path is immutable: one serves all)


_changes = itertools.count(1)


@dataclass
class Settings:
    #: Project folder; None means "discover from the working directory".
    project_root: Path | None = field(default_factory=lambda: _env_path("SMTTASK_PROJECT_ROOT"))
    #: Input data store (links to results), relative to the project root unless absolute.
    input_dir: Path = field(
        default_factory=lambda: _env_dir("SMTTASK_INPUT_DIR", DEFAULT_INPUT_DIR)
    )
    #: Output data store (where results are archived), relative to the project root.
    output_dir: Path = field(
        default_factory=lambda: _env_dir("SMTTASK_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)
    )
    #: Create provenance records for RecordedTask executions.
    record: bool = field(default_factory=lambda: env_flag("SMTTASK_RECORD", True))
    #: Show progress while a graph of tasks runs in a session (``task.run()``): a bar on a
    #: terminal, a text line in Jupyter, nothing when the output is not interactive.
    #: ``task.run(progress=False)`` switches it off for one call.
    progress: bool = field(default_factory=lambda: env_flag("SMTTASK_PROGRESS", True))
    #: Make results and records durable (survive a power cut or a crash of the machine):
    #: at the sync points (the end of ``smttask run``, the exit of the process,
    #: ``smttask.sync()``), one ``syncfs`` for all the files written since the last one. Off:
    #: left to the operating system (a killed process loses nothing either way).
    fsync: bool = field(default_factory=lambda: env_flag("SMTTASK_FSYNC", True))
    #: With ``fsync``: flush each result file before publishing it and each record before
    #: ``run()`` returns (durable once the call returns; ~2 fsyncs a task, several ms on a
    #: busy disk), instead of at the sync points.
    durable_calls: bool = field(default_factory=lambda: env_flag("SMTTASK_DURABLE_CALLS", False))
    #: Folders (relative to the project root) whose uncommitted changes never block a recorded
    #: run, e.g. ``reports``; added to those listed in ``.smt/smttask.json`` (see docs/recording.md).
    dirty_dirs: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            d for d in os.environ.get("SMTTASK_DIRTY_DIRS", "").split(os.pathsep) if d
        )
    )
    #: Seconds between two checks for code changes in one process (0: before every task).
    git_check_interval: float = field(
        default_factory=lambda: env_float("SMTTASK_GIT_CHECK_INTERVAL", 1.0)
    )
    #: Copy the task function's stdout/stderr into its record (it is still shown as usual).
    capture_output: bool = field(default_factory=lambda: env_flag("SMTTASK_CAPTURE", True))
    #: Move journaled records into the record store once this many are waiting (each move
    #: by a detached process costs about a second of CPU: a session of a thousand quick tasks
    #: moves them once, at its end)...
    flush_every: int = field(default_factory=lambda: env_int("SMTTASK_FLUSH_EVERY", 2000))
    #: ... or when a record finishes this many seconds after the last move.
    flush_interval: float = field(default_factory=lambda: env_float("SMTTASK_FLUSH_INTERVAL", 10.0))
    #: Whether this process moves its records into the store (in batches and at exit). Off:
    #: they stay in its journal until a command that opens the store moves them (cluster
    #: jobs: no store writes from compute nodes; `smttask store flush` after the workflow).
    flush_records: bool = field(default_factory=lambda: env_flag("SMTTASK_FLUSH_RECORDS", True))
    #: Seconds without a heartbeat after which a task's lease (or a record journal) counts
    #: as left by a dead process, and may be taken over (see ``smttask.storage.lease``).
    lease_timeout: float = field(default_factory=lambda: env_float("SMTTASK_LEASE_TIMEOUT", 60.0))
    #: Whether a task whose lease another live process holds waits for that process's result
    #: (then loads it), or fails at once with ``RunningElsewhereError``.
    wait_for_leases: bool = field(default_factory=lambda: env_flag("SMTTASK_WAIT_FOR_LEASES", True))
    #: Packages outside the project whose modules task files may import (their task types),
    #: e.g. ``("mylab.tasks",)``; a package covers its subpackages. See docs/security.md.
    trusted_packages: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p.strip()
            for p in os.environ.get("SMTTASK_TRUSTED_PACKAGES", "").split(":")
            if p.strip()
        )
    )

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        object.__setattr__(self, "_change", next(_changes))

    @property
    def change(self) -> int:
        """A number that differs after every change of any setting (of any Settings object)."""
        return self.__dict__.get("_change", 0)


#: The settings of this process, made from the environment on first use (not at import: a bad
#: environment variable is then reported by the first session or command, as a ConfigError).
settings: Settings


def __getattr__(name: str) -> object:
    if name == "settings":
        return current_settings()
    # ``smttask.config.process_number``: read at each access (workers set it after import).
    if name == "process_number":
        return get_process_number()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def current_settings() -> Settings:
    """``settings``, made from the environment if this is their first use (a bad value of an
    ``SMTTASK_*`` variable raises ConfigError here, and again at the next use)."""
    made = globals().get("settings")
    if made is None:
        made = Settings()
        globals()["settings"] = made
    return made


_root_cache: dict[str, Path] = {}
_generation = 0


def project_root() -> Path:
    """The project folder (see the module docstring for how it is found)."""
    root = current_settings().project_root
    if root is not None:
        return Path(root).resolve()
    cwd = os.getcwd()
    cached = _root_cache.get(cwd)
    if cached is not None:
        return cached
    found = _root_cache[cwd] = Path(_discover(cwd))
    return found


def find_root() -> Path:
    """The folder `project_root` would give now, found without making the settings (from
    ``SMTTASK_PROJECT_ROOT`` if they are not made yet) and not remembered: `project_root`
    looks for itself."""
    made = globals().get("settings")
    root = made.project_root if made is not None else _env_path("SMTTASK_PROJECT_ROOT")
    if root is not None:
        return Path(root).resolve()
    return Path(_discover(os.getcwd()))


def _discover(start: str) -> str:
    """The nearest folder from `start` (absolute) up holding ``.smt``, else ``.git``, else
    `start` (string paths: this runs before every first cache hit)."""
    for marker in (".smt", ".git"):
        folder = start
        while True:
            if _exists(os.path.join(folder, marker)):
                return folder
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return start


#: The errors for which ``Path.exists`` answers False (others, e.g. a folder that cannot be
#: read, are raised).
_ABSENT = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def _exists(path: str) -> bool:
    """``Path(path).exists()``, without making a Path."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return False
        raise
    except ValueError:  # a NUL byte in the path
        return False
    return True


def trusted_packages() -> tuple[str, ...]:
    """Packages outside the project root that task files may import: what the core asks."""
    return tuple(current_settings().trusted_packages)


def forget_project_root() -> None:
    """Forget what was found about projects (after creating or reconfiguring one): the next
    task run looks again, in a new default session."""
    global _generation
    _root_cache.clear()
    _generation += 1


def generation() -> int:
    """Changes whenever `forget_project_root` is called."""
    return _generation


#: Environment variable naming which worker process runs the current tasks: ``smttask run
#: -n N`` sets it to 1..N in its N workers (1 without -n); Snakemake jobs and plain Python leave
#: it unset.
PROCESS_NUM_ENV = "SMTTASK_PROCESS_NUM"


def get_process_number() -> int:
    """Which worker process this is: 1..N under ``smttask run -n N``, else 1.

    For task code that must choose a resource per worker (a GPU, a scratch folder). Never
    let it change a task's *result*: it is not a task input, so it is not in the digest.
    Also readable as ``smttask.config.process_number``.
    """
    raw = os.environ.get(PROCESS_NUM_ENV, "").strip()
    if not raw:
        return 1
    try:
        number = int(raw)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(
            f"Environment variable {PROCESS_NUM_ENV}={raw!r} is not a worker number (1, 2, "
            f"...). smttask run sets it; unset it or set it to a positive integer."
        )
    return number
