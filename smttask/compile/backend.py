"""Workflow backends: what one must provide, and the registry that finds them by name.

A backend turns a plan (``smttask.compile.plan``) into the files of a workflow for one
engine. It lives in one module or package under ``smttask/compile/`` (or anywhere, for a
backend of one's own) and becomes available with one call::

    register_backend("mybackend", MyBackend())

The backends shipped with smttask are listed in ``BUILTIN_BACKENDS`` and imported on first
use (a backend may bring a template engine, which ``import smttask`` must not pay for).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from ..errors import CompileError
from .plan import Plan

#: name -> "module:attribute" of the backends shipped with smttask.
BUILTIN_BACKENDS: dict[str, str] = {
    "snakemake": "smttask.compile.snakemake:BACKEND",
}

Options = TypeVar("Options")


@dataclass(frozen=True)
class Description:
    """What a backend makes of a plan, in words, for the export's summary."""

    text: str = ""  # e.g. "named layout, 4 rules"
    entry: str | None = None  # the file that starts the workflow, in the output folder
    run: str = ""  # a shell command running it; "{entry}" stands for the entry file's path
    details: Mapping[str, str | int] = field(default_factory=dict)  # e.g. {"rules": 4}
    notes: tuple[str, ...] = ()  # what a user must know before running it, said once


@runtime_checkable
class Backend(Protocol[Options]):
    """A workflow engine smttask compiles to.

    `render` and `describe` are pure: the same plan and options always give the same
    result, with no time stamps, absolute paths or other traces of the machine.
    """

    #: The name it is registered under (``export(..., backend=name)``).
    name: str
    #: The type `validate_options` returns.
    options_type: type[Options]

    def validate_options(self, options: Mapping[str, object]) -> Options:
        """Check the keyword options of an export; raise CompileError naming a bad one."""
        ...

    def render(self, plan: Plan, options: Options) -> dict[str, str]:
        """The workflow's files: {path relative to the output folder: text}."""
        ...

    def describe(self, plan: Plan, options: Options) -> Description:
        """How the rendered workflow is shaped and run (the same choices `render` makes)."""
        ...


_REGISTRY: dict[str, Backend[Any]] = {}


def register_backend(name: str, backend: Backend[Any], *, replace: bool = False) -> None:
    """Make `backend` available as ``export(..., backend=name)``."""
    if not isinstance(backend, Backend):
        missing = [
            attr
            for attr in ("name", "options_type", "validate_options", "render", "describe")
            if not hasattr(backend, attr)
        ]
        raise CompileError(
            f"Cannot register {backend!r} as workflow backend {name!r}: it lacks "
            f"{', '.join(missing)}. A backend provides name, options_type, "
            f"validate_options(options), render(plan, options) and describe(plan, options) "
            f"(see smttask.compile.backend.Backend)."
        )
    if backend.name != name:
        raise CompileError(
            f"Cannot register {backend!r} as workflow backend {name!r}: its name is "
            f"{backend.name!r}. Register it under its own name."
        )
    current = _REGISTRY.get(name)
    if current is not None and current is not backend and not replace:
        raise CompileError(
            f"A workflow backend named {name!r} is already registered ({current!r}). "
            f"Choose another name, or pass replace=True to replace it."
        )
    _REGISTRY[name] = backend


def unregister_backend(name: str) -> None:
    """Forget the backend registered as `name` (a built-in one comes back on next use)."""
    _REGISTRY.pop(name, None)


def get_backend(name: str) -> Backend[Any]:
    """The backend registered as `name`."""
    backend = _REGISTRY.get(name)
    if backend is not None:
        return backend
    target = BUILTIN_BACKENDS.get(name)
    if target is None:
        raise CompileError(
            f"Unknown workflow backend {name!r}. Known backends: {', '.join(backends())}. "
            f"A backend of your own becomes known with "
            f"smttask.compile.backend.register_backend({name!r}, backend)."
        )
    module, _, attr = target.partition(":")
    register_backend(name, getattr(importlib.import_module(module), attr))
    return _REGISTRY[name]


def backends() -> tuple[str, ...]:
    """The names of all known backends (registered or shipped with smttask), sorted."""
    return tuple(sorted({*_REGISTRY, *BUILTIN_BACKENDS}))
