"""The templates ship inside the package: found the same way in an editable and a wheel install."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = [
    "Snakefile.j2",
    "README.md.j2",
    "profiles/local/config.yaml.j2",
    "profiles/slurm/config.yaml.j2",
]


def test_editable_install_finds_the_templates():
    root = files("smttask.templates")
    for name in TEMPLATES:
        assert root.joinpath(*name.split("/")).is_file(), name


@pytest.mark.slow
def test_wheel_install_finds_the_templates(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(REPO), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("smttask-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in TEMPLATES:
        assert f"smttask/templates/{name}" in names
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
print(render("profiles/local/config.yaml.j2", {{"outdir": "build"}}))
"""
    run = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "snakemake -s build/Snakefile --profile build/profiles/local" in run.stdout
