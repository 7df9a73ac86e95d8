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
from typing import TYPE_CHECKING, Any

from . import config, hooks

if TYPE_CHECKING:
    from .recording.recorder import SessionRecorder
    from .task import Task


def open_session(
    root: str | Path | None = None, settings: config.Settings | None = None
) -> hooks.Session:
    """A session for the project in `root` (default: found from the working directory) with
    `settings` (default: ``smttask.config.settings``, used as they are, not copied)."""
    from .storage import DataRoots, FileOutputStore  # lazy: `import smttask` stays light

    settings = settings if settings is not None else config.settings
    folder = Path(root).resolve() if root is not None else config.project_root()
    roots = data_roots(folder, settings)
    recorder: hooks.Recorder = hooks.NO_RECORDER
    if settings.record:
        recorder = _Recorder(folder, settings, roots)
    return hooks.Session(
        settings=settings,
        root=folder,
        data_roots=roots,
        outputs=FileOutputStore(
            DataRoots(*roots),
            fsync=settings.fsync,
            durable_calls=settings.durable_calls,
            lease_timeout=settings.lease_timeout,
            wait_for_leases=settings.wait_for_leases,
            hash_written=settings.record,  # records list each output's SHA-1
        ),
        recorder=recorder,
    )


def default_session() -> hooks.Session:
    """The session tasks use outside an explicit one (``hooks.current()``)."""
    return open_session()


def prepare_default_session() -> None:
    """Read ahead what the first default session will read (``hooks.prepare_default``, when a
    task type is defined): the data stores that ``.smt/project`` names in the project folder
    (``config.find_root``), and their real paths; both are caches checked when used (by the
    file's modification time; by the paths of the files read). Settings are not made here:
    the session makes them from the environment as it is then."""
    from .recording.projectfile import data_roots as project_data_roots
    from .storage import DataRoots, FileOutputStore

    named = project_data_roots(config.find_root())
    if named is not None:
        FileOutputStore.prepare(DataRoots(*named))


class _Recorder:
    """The recorder of a session (``recording.recorder.SessionRecorder``), made when a task
    first needs it: the recording code (git, journals, machine details) is imported then,
    and a session that only loads results never imports it."""

    __slots__ = ("_args", "_real")

    def __init__(self, root: Path, settings: config.Settings, roots: tuple[Path, Path]) -> None:
        self._args = (root, settings, roots)
        self._real: SessionRecorder | None = None

    def real(self) -> SessionRecorder:
        real = self._real
        if real is None:  # two threads may both make one: they are equal and hold no state
            from .recording.recorder import RECORDER

            real = self._real = RECORDER.session_recorder(*self._args)
        return real

    def guard(self, task: Task) -> None:
        self.real().guard(task)

    def begin(
        self, task: Task, *, reason: str | None, resumed_from: Task | None = None
    ) -> hooks.RecordHandle:
        return self.real().begin(task, reason=reason, resumed_from=resumed_from)

    def __getattr__(self, name: str) -> Any:  # the rest of SessionRecorder (``project()``)
        return getattr(self.real(), name)


def data_roots(root: Path, settings: config.Settings) -> tuple[Path, Path]:
    """(input, output) data stores of the project in `root` under `settings`."""
    from .recording.projectfile import data_roots as project_data_roots

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
    if (
        named is not None
        and env_name not in os.environ
        and (setting is default or Path(setting) == default)
    ):
        return named[index]
    return root / setting
