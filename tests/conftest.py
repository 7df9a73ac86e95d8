"""Shared fixtures: a fresh project folder (a git repository) for each test.

Tests write their task modules into the project with ``project.write_module(...)``, commit
them, and import them: every project has its own import names, so modules never leak
between tests.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

pytest_plugins = ["services"]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}


class Project:
    """A temporary project folder: a git repository, the working directory of the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._modules: list[str] = []

    def git(self, *args: str) -> str:
        env = {**os.environ, **GIT_ENV}
        out = subprocess.run(
            ["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True
        )
        return out.stdout

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        if path.suffix == ".py":
            # Bytecode cached from an earlier text of the same size, written within the same
            # second, would pass Python's (mtime, size) check: the stale code would run.
            for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
                cached.unlink()
        return path

    def write_module(self, name: str, text: str, *, commit: bool = True):  # type: ignore[no-untyped-def]
        """Write ``<name>.py`` into the project, commit it, and import it (fresh)."""
        self.write(f"{name}.py", text)
        if commit:
            self.commit(f"{name}.py")
        sys.modules.pop(name, None)
        importlib.invalidate_caches()
        self._modules.append(name)
        return importlib.import_module(name)

    def commit(self, *paths: str, message: str = "update") -> None:
        self.git("add", *(paths or (".",)))
        self.git("commit", "-q", "-m", message)

    def cleanup(self) -> None:
        for name in self._modules:
            sys.modules.pop(name, None)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    import smttask
    from smttask import config

    root = tmp_path / "project"
    root.mkdir()
    proj = Project(root)
    proj.git("init", "-q")
    proj.write(".gitignore", "data/\n__pycache__/\n")
    proj.commit(".gitignore", message="init")
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SMTTASK_PROJECT_ROOT", str(root))
    monkeypatch.setattr(config, "settings", config.Settings())
    config.forget_project_root()
    smttask.clear_memory_cache()
    yield proj
    proj.cleanup()
    smttask.clear_memory_cache()
    config.forget_project_root()


@pytest.fixture
def smt_project(project: Project) -> Project:
    """`project` with a Sumatra project in it, as `smttask project init --yes` makes it."""
    from smttask.recording.projectinit import InitOptions, init_project

    init_project(project.root, InitOptions(name="test"))
    return project
