"""Settings: where the project and its data live, whether runs are recorded.

Every setting has a default, can be set from the environment (``SMTTASK_*``) and can be
changed at run time through the module-level ``settings`` object::

    import smttask
    smttask.config.settings.record = False

The project root is the nearest folder, from the working directory up, that holds a Sumatra
project (``.smt/``), else a git repository (``.git``), else the working directory itself.
"""

from __future__ import annotations

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
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(
            f"Environment variable {name}={raw!r} is not a number. Set it to a number such as "
            f"{default:g}, or unset it."
        ) from None


def _env_path(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw).expanduser() if raw else None


@dataclass
class Settings:
    #: Project folder; None means "discover from the working directory".
    project_root: Path | None = field(default_factory=lambda: _env_path("SMTTASK_PROJECT_ROOT"))
    #: Input data store (links to results), relative to the project root unless absolute.
    input_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("SMTTASK_INPUT_DIR", "data"))
    )
    #: Output data store (where results are archived), relative to the project root.
    output_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("SMTTASK_OUTPUT_DIR", "data/run_dump"))
    )
    #: Create provenance records for RecordedTask executions.
    record: bool = field(default_factory=lambda: env_flag("SMTTASK_RECORD", True))
    #: fsync result files before publishing them (survives power loss, costs ~1 ms a file).
    fsync: bool = field(default_factory=lambda: env_flag("SMTTASK_FSYNC", True))
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
    #: Move journaled records into the record store once this many are waiting...
    flush_every: int = field(default_factory=lambda: int(env_float("SMTTASK_FLUSH_EVERY", 500)))
    #: ... or when a record finishes this many seconds after the last move.
    flush_interval: float = field(default_factory=lambda: env_float("SMTTASK_FLUSH_INTERVAL", 10.0))
    #: Whether this process moves its records into the store (in batches and at exit). Off:
    #: they stay in its journal until a command that opens the store moves them (cluster
    #: jobs: no store writes from compute nodes; `smttask store flush` after the workflow).
    flush_records: bool = field(default_factory=lambda: env_flag("SMTTASK_FLUSH_RECORDS", True))
    #: Packages outside the project whose modules task files may import (their task types),
    #: e.g. ``("mylab.tasks",)``; a package covers its subpackages. See docs/security.md.
    trusted_packages: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p.strip()
            for p in os.environ.get("SMTTASK_TRUSTED_PACKAGES", "").split(":")
            if p.strip()
        )
    )


settings = Settings()

_root_cache: dict[Path, Path] = {}


def project_root() -> Path:
    """The project folder (see the module docstring for how it is found)."""
    if settings.project_root is not None:
        return Path(settings.project_root).resolve()
    cwd = Path.cwd()
    cached = _root_cache.get(cwd)
    if cached is not None:
        return cached
    root = _discover(cwd)
    _root_cache[cwd] = root
    return root


def _discover(start: Path) -> Path:
    for marker in (".smt", ".git"):
        for folder in (start, *start.parents):
            if (folder / marker).exists():
                return folder
    return start


def trusted_packages() -> tuple[str, ...]:
    """Packages outside the project root that task files may import: what the core asks."""
    return tuple(settings.trusted_packages)


def forget_project_root() -> None:
    """Clear the discovery cache (after creating a project in the working directory)."""
    _root_cache.clear()
    _data_roots_cache.clear()


DEFAULT_INPUT_DIR = Path("data")
DEFAULT_OUTPUT_DIR = Path("data/run_dump")
_project_file_cache: dict[Path, tuple[int, tuple[Path, Path] | None]] = {}


def input_root() -> Path:
    """The input data store: links to results (default ``data/``)."""
    return _data_root(0, "SMTTASK_INPUT_DIR", settings.input_dir, DEFAULT_INPUT_DIR)


def output_root() -> Path:
    """The output data store: the results themselves (default ``data/run_dump/``)."""
    return _data_root(1, "SMTTASK_OUTPUT_DIR", settings.output_dir, DEFAULT_OUTPUT_DIR)


def _data_root(index: int, env_name: str, setting: Path, default: Path) -> Path:
    """The setting, unless it keeps its default and the Sumatra project names its own store."""
    root = project_root()
    if env_name not in os.environ and Path(setting) == default:
        stores = project_data_roots(root)
        if stores is not None:
            return stores[index]
    return root / setting


def project_data_roots(root: Path) -> tuple[Path, Path] | None:
    """(input, output) data store roots of the Sumatra project in `root`, if it has one.

    Read from ``.smt/project`` (plain JSON; no Sumatra import). They take precedence over
    ``settings.input_dir``/``output_dir`` while those keep their defaults.
    """
    path = root / ".smt" / "project"
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _project_file_cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    roots: tuple[Path, Path] | None = None
    try:
        import json

        data = json.loads(path.read_text(encoding="utf-8"))
        found = [(data.get(k) or {}).get("root") for k in ("input_datastore", "data_store")]
        if isinstance(found[0], str) and isinstance(found[1], str) and found[0] and found[1]:
            roots = (root / Path(found[0]).expanduser(), root / Path(found[1]).expanduser())
            if any(r == Path(r.anchor) for r in roots):
                roots = None  # `smt init` without -i reads inputs from "/": not a data store
    except (OSError, ValueError, AttributeError):
        roots = None
    _project_file_cache[path] = (mtime, roots)
    return roots


_data_roots_cache: dict[tuple[object, ...], tuple[str, str]] = {}


def data_roots() -> tuple[str, str]:
    """(input root, output root) as strings; cached, for the hot path of loading results."""
    key = (os.getcwd(), settings.project_root, settings.input_dir, settings.output_dir)
    roots = _data_roots_cache.get(key)
    if roots is None:
        roots = (str(input_root()), str(output_root()))
        _data_roots_cache[key] = roots
    return roots
