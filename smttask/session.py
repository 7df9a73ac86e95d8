"""Making sessions: the settings, project, data stores, output store and recorder tasks run with.

``open_session()`` is called once per run, command or view (``smttask run``, each worker of
``smttask run -n``, ``export-snakemake``...); ``smttask/__init__.py`` installs
``default_session`` as the factory of the default session (see ``smttask.hooks``).

Data stores: the project's (``smttask project init``: ``data/`` for links, ``data/run_dump/``
for archives, or what ``.smt/project`` names), unless ``settings.input_dir`` /
``output_dir`` (or ``SMTTASK_INPUT_DIR`` / ``SMTTASK_OUTPUT_DIR``) say otherwise; relative
paths are relative to the project root.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import config, hooks
from .recording.projectfile import data_roots as project_data_roots
from .recording.recorder import RECORDER
from .storage import DataRoots, FileOutputStore


def open_session(
    root: str | Path | None = None, settings: config.Settings | None = None
) -> hooks.Session:
    """A session for the project in `root` (default: found from the working directory) with
    `settings` (default: ``smttask.config.settings``, used as they are, not copied)."""
    settings = settings if settings is not None else config.settings
    folder = Path(root).resolve() if root is not None else config.project_root()
    roots = data_roots(folder, settings)
    recorder: hooks.Recorder = hooks.NO_RECORDER
    if settings.record:
        recorder = RECORDER.session_recorder(folder, settings, roots)
    return hooks.Session(
        settings=settings,
        root=folder,
        data_roots=roots,
        outputs=FileOutputStore(
            DataRoots(*roots),
            fsync=settings.fsync,
            lease_timeout=settings.lease_timeout,
            wait_for_leases=settings.wait_for_leases,
        ),
        recorder=recorder,
    )


def default_session() -> hooks.Session:
    """The session tasks use outside an explicit one (``hooks.current()``)."""
    return open_session()


def data_roots(root: Path, settings: config.Settings) -> tuple[Path, Path]:
    """(input, output) data stores of the project in `root` under `settings`."""
    named = project_data_roots(root)
    return (
        _root(root, settings.input_dir, config.DEFAULT_INPUT_DIR, "SMTTASK_INPUT_DIR", named, 0),
        _root(root, settings.output_dir, config.DEFAULT_OUTPUT_DIR, "SMTTASK_OUTPUT_DIR", named, 1),
    )


def _root(
    root: Path,
    setting: Path,
    default: Path,
    env_name: str,
    named: tuple[Path, Path] | None,
    index: int,
) -> Path:
    """The setting, unless it keeps its default and the project names its own store."""
    if named is not None and env_name not in os.environ and Path(setting) == default:
        return named[index]
    return root / setting
