"""Sumatra's own command line (``smt``), run on the current project after moving every
journaled record into the record store."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from .. import config
from ..errors import RecordingError
from .projectfile import require_project
from .store import backend, move_waiting

#: smt sub-commands passed through, with one line of help each.
COMMANDS = {
    "list": "List records (newest first); -l for details, TAGS to filter.",
    "info": "Show the project's settings.",
    "view": "Show one record in full: smt view LABEL.",
    "tag": "Add (or -r remove) a tag: smt tag TAG [LABEL...].",
    "comment": "Add a comment to a record's outcome: smt comment [LABEL] TEXT.",
    "delete": "Delete records (not their outputs; see `smttask store delete`).",
    "diff": "Show the differences between two records: smt diff LABEL1 LABEL2.",
    "export": "Export the project and its records to JSON files in .smt/.",
    "migrate": "Update the data store paths recorded after moving the data.",
    "configure": "Change project settings (see `smt configure --help`).",
    "help": "Help on an smt command: smt help CMD.",
    "version": "Print Sumatra's version.",
}


def run_smt(command: str, args: list[str], root: Path | None = None) -> int:
    """Run `smt COMMAND ARGS...` on the project; return its exit code."""
    info = require_project(root or config.project_root())
    move_waiting(info)
    backend(info)  # Sumatra's commands read the store as Django's default database
    shown = warnings.showwarning
    import sumatra.commands as commands  # it replaces warnings.showwarning on import

    warnings.showwarning = shown
    before = os.getcwd()
    inside = Path(before).resolve().is_relative_to(info.root.resolve())
    if not inside:
        os.chdir(info.root)  # Sumatra finds the project from the working directory
    try:
        getattr(commands, command)(args)
    except SystemExit as exc:  # argparse: --help, usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as exc:
        raise RecordingError(
            f"`smt {command} {' '.join(args)}` failed: {type(exc).__name__}: {exc}. Check the "
            f"arguments (`smttask smt {command} --help`); labels are listed by `smttask smt list`."
        ) from None
    finally:
        os.chdir(before)
    if command in ("configure", "migrate"):
        config.forget_project_root()
    return 0
