"""Which code is the project's own: not Python's, not an installed package's, not smttask's.

A module is project code when its file lies outside the standard library and the
environment's package folders (an editable install of the project counts as the project), or
when it has no file but is ``__main__`` (a notebook or an interactive session).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import site
import sys
from typing import Any

#: Packages whose code never counts (smttask itself: its version is in every record).
FRAMEWORK = frozenset({"smttask"})

_library_roots: tuple[str, ...] | None = None
_project_modules: dict[str, bool] = {}


def _libraries() -> tuple[str, ...]:
    """The folders of Python's standard library and of installed packages (found without
    ``sysconfig``, whose configuration data loading a task file would otherwise import)."""
    global _library_roots
    if _library_roots is None:
        roots = {os.path.dirname(os.__file__)}
        prefixes = sorted({sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix})
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        for prefix in prefixes:
            roots.add(os.path.join(prefix, "lib", version))
        with contextlib.suppress(AttributeError):  # missing in some virtualenv flavours
            roots.update(site.getsitepackages(prefixes))
        user_site = site.getusersitepackages()
        if isinstance(user_site, str):
            roots.add(user_site)
        real = {os.path.realpath(r) for r in roots if r}
        _library_roots = tuple(sorted(r.rstrip(os.sep) + os.sep for r in real))
    return _library_roots


def is_project_code(obj: Any) -> bool:
    """Whether `obj` (a function or class) is defined in the project's own code: not in
    Python's standard library, an installed package, a built-in module or smttask."""
    module_name = getattr(obj, "__module__", None)
    return isinstance(module_name, str) and is_project_module(module_name)


def _outside(name: str) -> bool:
    top = name.partition(".")[0]
    return top in sys.stdlib_module_names or top in FRAMEWORK or name == "builtins"


def is_project_module(module_name: str) -> bool:
    """Whether the imported module `module_name` is project code."""
    known = _project_modules.get(module_name)
    if known is not None:
        return known
    result: bool
    if _outside(module_name):
        result = False
    else:
        module = sys.modules.get(module_name)
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            result = module_name == "__main__"  # a notebook or an interactive session
        else:
            result = not os.path.realpath(file).startswith(_libraries())
    if module_name in sys.modules:
        _project_modules[module_name] = result
    return result


def would_be_project_module(module_name: str) -> bool:
    """Whether importing `module_name` (not imported yet) would load project code, judged
    from where its file is (its parent packages are imported to find it)."""
    if _outside(module_name):
        return False
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return False
    origin = getattr(spec, "origin", None)
    if not isinstance(origin, str) or not os.path.isfile(origin):
        return False
    return not os.path.realpath(origin).startswith(_libraries())
