"""The templates ship inside the package: found the same way in an editable and a wheel install."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = [
    "snakemake/Snakefile.j2",
    "snakemake/README.md.j2",
    "snakemake/profiles/local/config.yaml.j2",
    "snakemake/profiles/slurm/config.yaml.j2",
]


def test_editable_install_finds_the_templates():
    root = files("smttask.templates")
    for name in TEMPLATES:
        assert root.joinpath(*name.split("/")).is_file(), name


@pytest.mark.slow
def test_wheel_install_finds_the_templates(tmp_path):
    # Build from a clean copy: setuptools reuses an in-tree build/ folder, whose leftovers
    # (modules since moved or removed) would otherwise end up in the wheel.
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("smttask-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in TEMPLATES:
        assert f"smttask/templates/{name}" in names
    # Every package of the source tree ships (the packages are listed in pyproject.toml).
    packages = {
        str(init.parent.relative_to(source))
        for top in ("smttask", "smttask_job")
        for init in (source / top).rglob("__init__.py")
        if "templates" not in init.parts
    }
    missing = sorted(p for p in packages if f"{p}/__init__.py" not in names)
    assert not missing, f"packages missing from the wheel: {missing}"
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # -S: no .pth files, so the editable install's import hook stays out; dependencies come
    # from this environment's site-packages, smttask from the unpacked wheel.
    code = f"""
import sys
sys.path[:0] = [{str(site)!r}, {sysconfig.get_paths()["purelib"]!r}]
from importlib.resources import files
import smttask
assert smttask.__file__.startswith({str(site)!r}), smttask.__file__
root = files("smttask.templates")
assert str(root).startswith({str(site)!r}), root
from smttask.compile.templates import render
print(render("snakemake/profiles/local/config.yaml.j2", {{"outdir": "build"}}))
from smttask.compile.backend import get_backend
backend = get_backend("snakemake")  # the backend's package ships too
assert sys.modules[type(backend).__module__].__file__.startswith({str(site)!r})
assert sys.modules["smttask.compile.plan"].__file__.startswith({str(site)!r})
"""
    run = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "snakemake -s build/Snakefile --profile build/profiles/local" in run.stdout
