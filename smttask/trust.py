"""Which modules a file may make smttask import.

A task file names the module of its task type. Loading it imports that module (and those of
the upstream tasks embedded in it) and nothing else, and only if the module lies inside the
project root (``smttask.config.project_root()``; a virtual environment or a ``site-packages``
folder inside it does not count) or in a package the user trusts explicitly
(``smttask.config.trusted_packages()``). Importing ``a.b.c`` runs ``a/__init__.py`` and
``a/b/__init__.py`` first, so each level is located without being run, and checked, before it
is imported; a module imported already is checked all the same.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Iterable
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from . import config
from .errors import TaskFileError, UnsafeContentError

__all__ = ["import_failure", "import_module", "module_allowed"]

#: Compiled on first use (by `re`, which keeps it): importing smttask compiles no pattern.
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"


def import_module(name: str, origin: str) -> ModuleType:
    """Import module `name` for `origin` (e.g. "task file x.json"), level by level, if each
    level is inside the project or in a trusted package; raise otherwise."""
    if not isinstance(name, str) or not re.fullmatch(_NAME, name):
        raise TaskFileError(
            f"{origin} names the module {name!r}, which is not a module name. Regenerate the "
            f"file with task.save()."
        )
    if name == "__main__":
        raise TaskFileError(
            f"{origin} refers to a task defined in a script run as __main__, which other "
            f"processes cannot import. Define tasks in an importable module (e.g. tasks.py)."
        )
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        level = ".".join(parts[:i])
        module = sys.modules.get(level)
        if module is not None:
            _check(level, name, _module_paths(module), origin)
            continue
        spec = _find(level, origin, first=i == 1)
        _check(level, name, _spec_paths(spec), origin)
        try:
            importlib.import_module(level)
        except Exception as exc:
            raise import_failure(level, exc, origin) from exc
    return sys.modules[name]


def import_failure(name: str, exc: Exception, origin: str) -> TaskFileError:
    """The error to raise when importing module `name` for `origin` raised `exc`: what went
    wrong (a missing module, a syntax error, an exception at import), where, and the fix."""
    if isinstance(exc, SyntaxError):
        return TaskFileError(
            f"{origin}: module {name!r} has a syntax error ({exc.msg}) in {exc.filename}, "
            f"line {exc.lineno}. Fix the module and run again."
        )
    if isinstance(exc, ImportError) and exc.name == name:
        return TaskFileError(
            f"{origin} needs module {name!r}, which cannot be imported (no module named "
            f"{name!r}). Run from the project folder, or add the folder holding the module to "
            f"PYTHONPATH."
        )
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (in {frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    if isinstance(exc, ImportError):
        return TaskFileError(
            f"{origin}: module {name!r} cannot be imported: {type(exc).__name__}: "
            f"{exc}{where}. Install the missing package, or fix the module's imports."
        )
    return TaskFileError(
        f"{origin}: importing module {name!r} raised {type(exc).__name__}: {exc}{where}. "
        f"Fix the module (`smttask -v` shows the traceback) and run again."
    )


def module_allowed(name: str) -> bool:
    """Whether the imported module `name` (and each package above it) is one a file may use."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        module = sys.modules.get(".".join(parts[:i]))
        if module is None or not _allowed(".".join(parts[:i]), name, _module_paths(module)):
            return False
    return True


def _find(level: str, origin: str, *, first: bool) -> ModuleSpec:
    try:
        spec = importlib.util.find_spec(level)
        if spec is None and first:
            root = str(config.project_root())
            if root not in sys.path:
                sys.path.insert(0, root)
                spec = importlib.util.find_spec(level)
    except (ImportError, ValueError) as exc:
        raise TaskFileError(
            f"{origin} needs module {level!r}, which cannot be found ({exc}). Run from the "
            f"project folder, or add the folder holding it to PYTHONPATH."
        ) from None
    if spec is None:
        raise TaskFileError(
            f"{origin} needs module {level!r}, which cannot be imported (no module named "
            f"{level!r}). Run from the project folder, or add the folder holding the module to "
            f"PYTHONPATH (now: {os.environ.get('PYTHONPATH', '')!r})."
        )
    return spec


def _check(level: str, target: str, paths: list[str], origin: str) -> None:
    if _allowed(level, target, paths):
        return
    where = paths[0] if paths else "built into Python"
    top = level.split(".")[0]
    raise UnsafeContentError(
        f"{origin} asks smttask to import module {level!r} ({where}), which lies neither "
        f"inside the project {config.project_root()} nor in a trusted package, so it is not "
        f"imported: if you trust it, add {top!r} to the trusted packages "
        f"(SMTTASK_TRUSTED_PACKAGES={top}, or smttask.config.settings.trusted_packages)."
    )


def _allowed(level: str, target: str, paths: list[str]) -> bool:
    for package in config.trusted_packages():
        inside = target == package or target.startswith(package + ".")
        if inside and (level == package or level.startswith(package + ".")):
            return True
        if inside and package.startswith(level + "."):  # a package above the trusted one
            return True
    return bool(paths) and all(_in_project(p) for p in paths)


def _in_project(path: str) -> bool:
    return _inside(str(config.project_root()), path)


@functools.lru_cache(maxsize=4096)
def _inside(project_root: str, path: str) -> bool:
    """Whether `path` lies in the project at `project_root`, outside any environment there.
    Cached: a module's files are looked up once per process, not once per task file."""
    root = Path(os.path.realpath(project_root))
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(root):
        return False
    if {"site-packages", "dist-packages"} & set(real.parts):
        return False
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        env = Path(os.path.realpath(prefix))
        if env != root and env.is_relative_to(root) and real.is_relative_to(env):
            return False  # a virtual environment inside the project
    return True


def _spec_paths(spec: ModuleSpec) -> list[str]:
    paths: list[str] = []
    if spec.submodule_search_locations is not None:
        paths.extend(str(p) for p in spec.submodule_search_locations)
    if spec.origin and spec.has_location:
        paths.append(spec.origin)
    return paths


def _module_paths(module: ModuleType) -> list[str]:
    spec = getattr(module, "__spec__", None)
    if isinstance(spec, ModuleSpec):
        return _spec_paths(spec)
    found: list[str] = []
    file = getattr(module, "__file__", None)
    if isinstance(file, str):
        found.append(file)
    path = getattr(module, "__path__", None)
    if isinstance(path, Iterable) and not isinstance(path, str):
        found.extend(str(p) for p in path)
    return found
