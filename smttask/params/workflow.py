"""Running a workflow module with some of its globals replaced.

A workflow module defines its parameters as ordinary globals, then declares which of them may
be set from outside::

    # sweep.py
    from smttask import workflow_args

    TAUS = [0.5, 1.0, 2.0]
    SEEDS: list[int] = [1, 2]      # annotated globals are validated when set
    workflow_args(globals())       # the globals defined above may be set

    tasks = [simulate(tau=t, seed=s) for t in TAUS for s in SEEDS]

Another module (or a notebook) runs it with other values::

    wf = run_workflow("sweep.py", TAUS=[4.0])
    wf.tasks

Each run executes the module's code afresh in a new module object, which is returned; the
module imported the usual way (``import sweep``) is left as it is, with its own values.
Under ``run_workflow`` the module's ``__name__`` is its import name, never ``"__main__"``, so
an ``if __name__ == "__main__":`` block does not run.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import config, runlog
from ..errors import WorkflowError, short_repr
from .validation import validate_value

__all__ = ["run_workflow", "set_workflow_args", "workflow_args"]

#: Where run_workflow leaves the values for workflow_args in the module's namespace.
_RUN = "__smttask_workflow_run__"


@dataclass
class _Run:
    target: str
    values: dict[str, Any]
    applied: bool = False
    declared: list[str] = field(default_factory=list)


def run_workflow(module: str | os.PathLike[str] | ModuleType, /, **values: Any) -> ModuleType:
    """Run workflow `module` (a path to a ``.py`` file, a dotted module name or a module) with
    the globals in `values` replaced; return the namespace it built, as a new module object.

    The module must call ``workflow_args(globals())`` after defining those globals; a name it
    does not declare there is refused (a typo never runs the defaults silently). The tasks
    the module runs share one progress display and log (see ``smttask.runlog``; the setting
    ``progress`` switches the display off).
    """
    name, spec = _find(module)
    target = f"run_workflow({name!r}{''.join(f', {k}=…' for k in values)})"
    run = _Run(target, dict(values))
    mod = importlib.util.module_from_spec(spec)
    mod.__dict__[_RUN] = run
    earlier = sys.modules.get(name)
    sys.modules[name] = mod  # while it runs, as during an import (dataclasses, typing need it)
    try:
        with runlog.progress_of(f"run_workflow({name})"):  # the tasks it runs: one progress
            spec.loader.exec_module(mod)
    finally:
        mod.__dict__.pop(_RUN, None)
        if earlier is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = earlier
    if values and not run.applied:
        raise WorkflowError(
            f"{target}: the module never called workflow_args(globals()), so the values given "
            f"were not used. Call it in {name} after defining {', '.join(values)}."
        )
    return mod


def workflow_args(
    namespace: dict[str, Any], *names: str, _allow_new: bool = False
) -> dict[str, Any]:
    """Declare the globals of a workflow module that ``run_workflow`` may set, and set them.

    Call it as ``workflow_args(globals())`` after the parameter globals: every public global
    defined so far that is a value (not a module, class or function) may be set; or list
    the names: ``workflow_args(globals(), "TAUS", "SEEDS")``. Globals with an annotation
    (``SEEDS: list[int] = [1, 2]``) are validated. Returns the values set (``{}`` when the
    module runs on its own).
    """
    modname = str(namespace.get("__name__", "the workflow"))
    missing = [n for n in names if n not in namespace]
    if missing:
        raise WorkflowError(
            f"{modname}: workflow_args(globals(), {', '.join(map(repr, names))}) declares "
            f"{missing[0]!r}, which is not defined above the call. Define it first."
        )
    declared = list(names) or [k for k, v in namespace.items() if _is_parameter(k, v)]
    run = namespace.get(_RUN)
    if not isinstance(run, _Run):
        return {}
    if run.applied:
        raise WorkflowError(f"{modname} calls workflow_args() twice; call it once.")
    run.declared = declared
    unknown = [k for k in run.values if k not in declared]
    if unknown and not _allow_new:
        raise WorkflowError(
            f"{run.target}: {modname} does not declare {unknown[0]!r} as a global that may be "
            f"set; it declares {', '.join(declared) or 'none'}. Check the name, or define it "
            f"before workflow_args(globals()) in {modname}."
        )
    annotations = namespace.get("__annotations__", {})
    out = {}
    for key, value in run.values.items():
        annotation = annotations.get(key)
        if isinstance(annotation, str):  # from __future__ import annotations
            annotation = eval(annotation, dict(namespace))
        out[key] = (
            value if annotation is None else validate_value(annotation, value, f"{modname}.{key}")
        )
    namespace.update(out)
    run.applied = True
    return out


def set_workflow_args(__name__: str, globals: dict[str, Any], existing_only: bool = False) -> None:
    """SumatraTask's spelling: ``set_workflow_args(__name__, globals())``. As in SumatraTask,
    names the module does not define are set too unless `existing_only`."""
    workflow_args(globals, _allow_new=not existing_only)


def _is_parameter(name: str, value: Any) -> bool:
    return not (name.startswith("_") or isinstance(value, (ModuleType, type)) or callable(value))


def _find(module: str | os.PathLike[str] | ModuleType) -> tuple[str, Any]:
    if isinstance(module, ModuleType):
        origin = getattr(module, "__file__", None)
        if origin is None:
            raise WorkflowError(f"run_workflow({module!r}): the module has no source file.")
        if module.__name__ != "__main__":
            return _spec_from_file(module.__name__, Path(origin))
        module = origin
    text = os.fspath(module)
    path = Path(text)
    if text.endswith(".py") or os.sep in text or path.is_file():
        if not path.is_file():
            raise WorkflowError(f"run_workflow({text!r}): there is no file {path}. Check the path.")
        return _spec_from_file(_module_name(path), path)
    try:
        spec = importlib.util.find_spec(text)
    except (ImportError, ValueError) as exc:
        spec, error = None, f" ({exc})"
    else:
        error = ""
    if spec is None or spec.loader is None or spec.origin is None:
        raise WorkflowError(
            f"run_workflow({text!r}): no module {text!r} can be imported{error}. Pass a path to "
            f"the file, or run from the folder that holds the module."
        )
    return text, spec


def _spec_from_file(name: str, path: Path) -> tuple[str, Any]:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise WorkflowError(f"run_workflow: {short_repr(str(path))} is not a Python module.")
    return name, spec


def _module_name(path: Path) -> str:
    """The dotted import name of `path` inside the project (else its file name's stem)."""
    resolved = path.resolve().with_suffix("")
    try:
        parts = resolved.relative_to(config.project_root().resolve()).parts
    except ValueError:
        parts = ()
    if parts and all(p.isidentifier() for p in parts):
        return ".".join(parts)
    return resolved.name if resolved.name.isidentifier() else "workflow"
