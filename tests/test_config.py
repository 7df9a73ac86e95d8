"""Settings from the environment, and how the project folder is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from smttask import config, hooks
from smttask.errors import ConfigError


def test_flags_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTTASK_RECORD", "no")
    assert config.Settings().record is False
    monkeypatch.setenv("SMTTASK_RECORD", "ON")
    assert config.Settings().record is True
    monkeypatch.setenv("SMTTASK_RECORD", "maybe")
    with pytest.raises(ConfigError, match=r"SMTTASK_RECORD='maybe' is not a yes/no value"):
        config.Settings()


def test_project_root_is_the_nearest_sumatra_project_then_git_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTTASK_PROJECT_ROOT", raising=False)
    monkeypatch.setattr(config, "settings", config.Settings())
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    sub = repo / "analysis" / "notebooks"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    config.forget_project_root()
    assert config.project_root() == repo
    (repo / "analysis" / ".smt").mkdir()
    config.forget_project_root()
    assert config.project_root() == repo / "analysis"
    assert hooks.current().data_roots == (
        repo / "analysis" / "data",
        repo / "analysis" / "data" / "run_dump",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert config.project_root() == elsewhere  # no project anywhere above: the working directory


def test_explicit_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTTASK_PROJECT_ROOT", str(tmp_path))
    monkeypatch.setenv("SMTTASK_OUTPUT_DIR", "/scratch/out")
    monkeypatch.setattr(config, "settings", config.Settings())
    config.forget_project_root()
    assert config.project_root() == tmp_path.resolve()
    assert hooks.current().data_roots[1] == Path("/scratch/out")  # absolute paths stay absolute
