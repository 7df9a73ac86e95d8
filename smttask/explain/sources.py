"""Short diffs of code parts between an earlier commit and the code that runs now.

A code part (``smttask.codeid``) is named ``module.qualname``. Its earlier source is read
from git's object store at the commit a record names (``git cat-file blob``: never from the
working tree), the current one from the module's file; both are parsed with ``ast`` (never
run) and the definition, decorators included, is cut out of each.
"""

from __future__ import annotations

import ast
import difflib
import os
import subprocess
import sys
from pathlib import Path

#: Lines of diff shown per changed part.
MAX_LINES = 30
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class Sources:
    """Reads module texts at commits (each once) and diffs definitions."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._top: Path | bool | None = False
        self._texts: dict[tuple[str, str], str | None] = {}
        self._diffs: dict[tuple[str, str], str | None] = {}

    def top(self) -> Path | None:
        if self._top is False:
            done = _git(self.folder, "rev-parse", "--show-toplevel")
            self._top = Path(done.decode().strip()) if done is not None else None
        return self._top if isinstance(self._top, Path) else None

    def diff(self, part: str, commit: str) -> str | None:
        """A unified diff of part `part` from `commit` to now (None: a source is unknown)."""
        key = (part, commit)
        if key not in self._diffs:
            self._diffs[key] = self._diff(part, commit)
        return self._diffs[key]

    def _diff(self, part: str, commit: str) -> str | None:
        found = _module_of(part)
        top = self.top()
        if found is None or top is None or not commit:
            return None
        filename, qualname = found
        try:
            rel = Path(os.path.realpath(filename)).relative_to(os.path.realpath(top))
        except ValueError:
            return None
        old_text = self._at(commit, rel.as_posix())
        try:
            new_text = Path(filename).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        old = definition(old_text, qualname) if old_text is not None else None
        new = definition(new_text, qualname)
        if old is None and new is None:
            return None
        lines = list(
            difflib.unified_diff(
                (old or "").splitlines(),
                (new or "").splitlines(),
                f"{part} at {commit[:12]}",
                f"{part} now",
                n=1,
                lineterm="",
            )
        )
        if len(lines) > MAX_LINES:
            lines = [*lines[:MAX_LINES], f"... ({len(lines) - MAX_LINES} more lines)"]
        return "\n".join(lines) or None

    def _at(self, commit: str, rel: str) -> str | None:
        key = (commit, rel)
        if key not in self._texts:
            top = self.top()
            data = _git(top, "cat-file", "blob", f"{commit}:{rel}") if top else None
            self._texts[key] = data.decode("utf-8", "replace") if data is not None else None
        return self._texts[key]


def _git(folder: Path, *args: str) -> bytes | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return done.stdout if done.returncode == 0 else None


def _module_of(part: str) -> tuple[str, str] | None:
    """(file of the module, qualname) of a code part named ``module.qualname``."""
    if ":" in part:  # a value read by code: no definition of its own
        return None
    names = part.split(".")
    for i in range(len(names) - 1, 0, -1):
        module = sys.modules.get(".".join(names[:i]))
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str) and filename.endswith(".py"):
            return filename, ".".join(names[i:])
    return None


def definition(text: str, qualname: str) -> str | None:
    """The source of the function or class `qualname` in module text `text`, decorators
    included (None if it is not defined there)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    scope: list[ast.stmt] = tree.body
    found: ast.stmt | None = None
    for name in qualname.split("."):
        matches = [n for n in scope if isinstance(n, _DEFS) and n.name == name]
        if not matches:
            return None
        found = matches[-1]  # the last definition is the one the module keeps
        scope = found.body
    if found is None or not isinstance(found, _DEFS):
        return None
    start = min([d.lineno for d in found.decorator_list] + [found.lineno])
    lines = text.splitlines(keepends=True)[start - 1 : found.end_lineno]
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    return "".join(line[indent:] if line[:indent].isspace() else line for line in lines)
