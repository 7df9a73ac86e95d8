"""The source of a record's task function, as it was at the record's commit.

A record names the commit (``version``) and the file of the task's module (``main_file``,
relative to the repository). The file is read from git's object store (``git cat-file blob
<version>:<main_file>``, the committed bytes, as ``git show`` prints them), parsed with
``ast`` (never run), and the function named by the task's qualified name is cut out with its
decorators. Nothing is read from the working tree, which may have changed since.
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import textwrap
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CodeNotFoundError

if TYPE_CHECKING:
    from .record import Record

_COMMIT = re.compile(r"[0-9a-f]{4,64}")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def task_code(record: Record) -> str:
    """The source of `record`'s task function (decorators included) at its commit."""
    version, main_file = record.version, record.main_file
    where = f"record {record.label}"
    if not _COMMIT.fullmatch(version or ""):
        raise CodeNotFoundError(
            f"The {where} names no commit ({version!r}), so its code cannot be read back. "
            f"Records made by `smttask store create-surrogates` or outside a git repository "
            f"have none."
        )
    if not main_file or os.path.isabs(main_file) or ".." in Path(main_file).parts:
        raise CodeNotFoundError(
            f"The {where} names its task's file as {main_file!r}, which is not a path inside "
            f"the repository, so its code cannot be read from commit {version[:12]}."
        )
    root = record._source.info.root
    text = _committed(root, version, main_file, where)
    qualname = record.params.get("task") if isinstance(record.params, dict) else None
    if not isinstance(qualname, str) or not qualname:
        qualname = record.name
    return function_source(text, qualname, f"{main_file} at commit {version[:12]}")


def _committed(root: Path, version: str, main_file: str, where: str) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    command = ["git", "cat-file", "blob", f"{version}:{Path(main_file).as_posix()}"]
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, check=False)
    except FileNotFoundError:
        raise CodeNotFoundError(
            "Reading a record's code needs git, but the `git` command was not found. Install "
            "git (e.g. apt-get install git)."
        ) from None
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()
        raise CodeNotFoundError(
            f"The {where} ran the code of {main_file} at commit {version[:12]}, but git "
            f"cannot read it in {root}: {why}. The commit may be gone (a rebase, a shallow "
            f"or another clone: fetch it, e.g. `git fetch origin {version}`), or the file was "
            f"not in it."
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(done.stdout).readline)
        return done.stdout.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise CodeNotFoundError(
            f"{main_file} at commit {version[:12]} is not readable Python text: {exc}."
        ) from None


def function_source(text: str, qualname: str, where: str) -> str:
    """The source of the function `qualname` (``f``, ``Class.f``) defined in the module
    text `text`, with its decorators, as written (indentation removed)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise CodeNotFoundError(f"{where} is not valid Python: {exc}.") from None
    scope: list[ast.stmt] = tree.body
    found: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None = None
    parts = qualname.split(".")
    for depth, name in enumerate(parts):
        last = depth == len(parts) - 1
        defined = [
            n
            for n in scope
            if isinstance(n, _FUNCTIONS if last else ast.ClassDef) and n.name == name
        ]
        if not defined:
            names = sorted({n.name for n in ast.walk(tree) if isinstance(n, _FUNCTIONS)})
            raise CodeNotFoundError(
                f"{where} defines no function {qualname} (it defines: "
                f"{', '.join(names) or 'no function'}). The task may have been defined "
                f"elsewhere, or renamed."
            )
        found = defined[-1]  # the last definition is the one the module keeps
        scope = found.body
    assert found is not None
    start = min([d.lineno for d in found.decorator_list] + [found.lineno])
    lines = text.splitlines(keepends=True)[start - 1 : found.end_lineno]
    return textwrap.dedent("".join(lines))
