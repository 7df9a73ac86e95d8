"""Sumatra's own command line (``smt``), run on the current project after moving every
journaled record into the record store."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from pathlib import Path
from typing import TextIO

from .. import config
from ..errors import RecordingError
from .address import MASK, has_password, masked, passwords_in
from .projectfile import keep_secret, require_project
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
    if command == "delete" and _deletes_data(args):
        raise RecordingError(
            "`smttask smt delete --data` is refused: Sumatra deletes the files a record names "
            "wherever its paths lead (a record merged from another store can name files "
            "outside the data stores). Delete records with their outputs by `smttask store "
            "delete LABELS` (inside the data stores only), or drop --data."
        )
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
    mask = Masking(info.store)
    try:
        with (
            contextlib.redirect_stdout(mask.stream(sys.stdout)),
            contextlib.redirect_stderr(mask.stream(sys.stderr)),
        ):
            getattr(commands, command)(args)
    except SystemExit as exc:  # argparse: --help, usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as exc:
        raise RecordingError(
            mask(
                f"`smt {command} {' '.join(args)}` failed: {type(exc).__name__}: {exc}. Check "
                f"the arguments (`smttask smt {command} --help`); labels are listed by "
                f"`smttask smt list`."
            )
        ) from None
    finally:
        os.chdir(before)
        keep_secret(info.root)  # Sumatra may have rewritten .smt/project or exported it
    if command in ("configure", "migrate"):
        config.forget_project_root()
    return 0


def _deletes_data(args: list[str]) -> bool:
    """Whether `smt delete ARGS` has -d/--data (also among combined short options)."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--data" or (arg.startswith("-") and not arg.startswith("--") and "d" in arg):
            return True
    return False


class Masking:
    """Text with the password of a store address replaced by ``***``."""

    def __init__(self, address: str) -> None:
        self._pairs = [(address, masked(address))] if has_password(address) else []
        self._pairs += [(p, MASK) for p in passwords_in(address)]

    def __call__(self, text: str) -> str:
        for secret, shown in self._pairs:
            text = text.replace(secret, shown)
        return text

    def stream(self, out: TextIO) -> TextIO:
        mask = self

        class _Stream(io.TextIOBase):
            def write(self, text: str) -> int:
                out.write(mask(text))
                return len(text)

            def flush(self) -> None:
                out.flush()

        return _Stream()  # type: ignore[return-value]
