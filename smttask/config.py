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


def forget_project_root() -> None:
    """Clear the discovery cache (after creating a project in the working directory)."""
    _root_cache.clear()
    _data_roots_cache.clear()


def input_root() -> Path:
    return project_root() / settings.input_dir


def output_root() -> Path:
    return project_root() / settings.output_dir


_data_roots_cache: dict[tuple[object, ...], tuple[str, str]] = {}


def data_roots() -> tuple[str, str]:
    """(input root, output root) as strings; cached, for the hot path of loading results."""
    key = (os.getcwd(), settings.project_root, settings.input_dir, settings.output_dir)
    roots = _data_roots_cache.get(key)
    if roots is None:
        roots = (str(input_root()), str(output_root()))
        _data_roots_cache[key] = roots
    return roots
