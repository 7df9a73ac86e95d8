"""The main job: the example workflows end to end, in a fresh project folder.

    python workflows/demo.py [--seed-only] PROJECT_DIR

The folder is created (replaced if it exists), made a git repository holding the example
code, and the examples run in it exactly as a user would run them.
"""

from __future__ import annotations

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
    (folder / ".gitignore").write_text("data/\ntaskdir/\n__pycache__/\n")
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


def main(folder: Path, seed_only: bool) -> None:
    folder = folder.resolve()
    make_project(folder)
    sh(sys.executable, "run.py", cwd=folder)
    sh(SMTTASK, "run", "taskdir", cwd=folder)
    print(f"\nDemo finished: results under {folder / 'data'}")


if __name__ == "__main__":
    args = sys.argv[1:]
    seed_only = "--seed-only" in args
    rest = [a for a in args if a != "--seed-only"]
    main(Path(rest[0] if rest else "demo"), seed_only)
