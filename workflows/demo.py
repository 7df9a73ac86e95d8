"""The main job: the example workflows end to end, in a fresh project folder.

    python workflows/demo.py [--seed-only] PROJECT_DIR

The folder is created (replaced if it exists), made a git repository holding the example
code, and the examples run in it exactly as a user would run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sh(*cmd: str, cwd: Path) -> None:
    print(f"\n$ {' '.join(cmd)}", flush=True)
    subprocess.run(cmd, cwd=cwd, check=True)


def make_project(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(HERE / "seed", folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        HERE / PIPELINE,
        folder / "workflows" / PIPELINE,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (folder / ".gitignore").write_text(
        "data/\ntaskdir/\n__pycache__/\nbuild/\n.snakemake/\nfigures/\ndag.*\n"
    )
    sh("git", "init", "-q", cwd=folder)
    sh("git", "-c", "user.name=demo", "-c", "user.email=demo@example.org", "add", ".", cwd=folder)
    sh(
        "git",
        "-c",
        "user.name=demo",
        "-c",
        "user.email=demo@example.org",
        "commit",
        "-q",
        "-m",
        "Example project",
        cwd=folder,
    )


#: The smttask command of the interpreter running this script (its venv need not be active).
SMTTASK = str(Path(sys.executable).with_name("smttask"))

#: The example pipeline (workflows/<PIPELINE>/), copied to the same place in the project.
PIPELINE = "ou_sweep"


def run_pipeline(folder: Path) -> None:
    """The sweep → analysis → summary pipeline, exported and run by Snakemake on 2 cores."""
    bin_dir = str(Path(sys.executable).parent)
    # Snakemake's jobs run `smttask run`: the environment's commands must be on PATH.
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    target = f"workflows/{PIPELINE}/pipeline.py:tasks"
    sh(SMTTASK, "export-snakemake", target, "-o", "build", "--batch", "analyze=6", cwd=folder)
    sh("snakemake", "-s", "build/Snakefile", "--cores", "2", "--quiet", "rules", cwd=folder)
    print("\nA second run finds every result on disk:", flush=True)
    sh("snakemake", "-s", "build/Snakefile", "--cores", "2", cwd=folder)
    picture = "dag.svg" if shutil.which("dot") else "dag.dot"
    sh(SMTTASK, "graph", target, "-o", picture, cwd=folder)
    sh(sys.executable, "-m", f"workflows.{PIPELINE}.pipeline", cwd=folder)


def main(folder: Path, seed_only: bool) -> None:
    folder = folder.resolve()
    make_project(folder)
    sh(SMTTASK, "project", "init", "--yes", cwd=folder)  # the Sumatra project: records go here
    sh(sys.executable, "run.py", cwd=folder)
    sh(SMTTASK, "run", "taskdir", cwd=folder)
    if not seed_only:
        run_pipeline(folder)
    print("\nThe provenance records of every task that ran:", flush=True)
    sh(SMTTASK, "smt", "list", cwd=folder)
    print(f"\nDemo finished: results under {folder / 'data'}, records in {folder / '.smt'}")


if __name__ == "__main__":
    args = sys.argv[1:]
    seed_only = "--seed-only" in args
    rest = [a for a in args if a != "--seed-only"]
    main(Path(rest[0] if rest else "demo"), seed_only)
