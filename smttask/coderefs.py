"""What code names: the objects a function's code may read and the functions of a class body.

``referenced`` finds the globals a function's code names, the attributes it reads from project
modules (``helpers.smooth`` after ``import helpers``) and the project modules it imports in its
body; ``closure`` its closure cells; ``functions_of`` the functions a class defines;
``dotted`` and ``resolve`` turn a decorator into the object it names. Nothing here runs the
code it looks at (a project module a function imports in its body is imported, as it would be
when the function runs). ``smttask.codewalk`` follows what these find.
"""

from __future__ import annotations

import ast
import dis
import importlib
import inspect
import sys
import types
import typing
from collections.abc import Iterable, Iterator
from typing import Any

from .codeproject import is_project_module, would_be_project_module
from .codesource import Definition, all_codes

_IMPORT_NAME = dis.opmap["IMPORT_NAME"]


def is_code(obj: Any) -> bool:
    return inspect.isfunction(obj) or inspect.isclass(obj) or wrapped(obj) is not None


def wrapped(obj: Any) -> Any:
    """The object behind a decorator that keeps ``__wrapped__`` (None if there is none)."""
    try:
        if not hasattr(obj, "__wrapped__"):  # most objects: no need to ask `inspect`
            return None
        inner = inspect.unwrap(obj)
    except Exception:  # a __wrapped__ cycle, a proxy that raises
        return None
    return inner if inner is not obj else None


def package(obj: Any) -> str:
    module = getattr(obj, "__module__", None)
    return module.partition(".")[0] if isinstance(module, str) else ""


def annotation_classes(annotations: Iterable[Any]) -> Iterator[type]:
    """The classes named in type annotations, their arguments and origins included (e.g.
    ``Tuple[Model, Array[float]]``), each once."""
    stack, seen = list(annotations), set()
    while stack:
        ann = stack.pop()
        if id(ann) in seen:
            continue
        seen.add(id(ann))
        if inspect.isclass(ann):
            yield ann
        stack.extend(typing.get_args(ann))
        origin = typing.get_origin(ann)
        if origin is not None:
            stack.append(origin)


def inner_decorators(found: Definition) -> list[ast.expr]:
    """The decorators of the definitions in a class body (a class body's code is not kept,
    so the names they use are seen only here)."""
    out: list[ast.expr] = []
    if isinstance(found.node, ast.ClassDef):
        for node in ast.walk(found.node):
            if node is not found.node and isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                out.extend(node.decorator_list)
    return out


def dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a decorator ``@a.b.c`` or ``@a.b.c(...)``; None for other expressions."""
    if isinstance(node, ast.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def resolve(name: str, namespace: dict[str, Any]) -> Any:
    """The object a dotted name names in `namespace` (or the built-ins), through modules and
    classes only (nothing is called); None if it names nothing."""
    first, *rest = name.split(".")
    value = namespace.get(first)
    if value is None:
        builtins = namespace.get("__builtins__")
        table = vars(builtins) if isinstance(builtins, types.ModuleType) else builtins
        value = table.get(first) if isinstance(table, dict) else None
    for attr in rest:
        if isinstance(value, types.ModuleType):
            value = vars(value).get(attr)
        elif isinstance(value, type):
            value = inspect.getattr_static(value, attr, None)
        else:
            return None
    return value


def referenced(fn: types.FunctionType) -> list[tuple[str, Any]]:
    """(name, value) of the globals the code of `fn` may read (in first-use order), and of
    the attributes it may read from project modules (``helpers.smooth`` after ``import
    helpers``), including modules it imports in its body."""
    namespace = fn.__globals__
    codes = list(all_codes(fn.__code__))
    names = list(dict.fromkeys(name for code in codes for name in code.co_names))
    found: dict[str, Any] = {n: namespace[n] for n in names if n in namespace}
    modules = [v for v in found.values() if _is_project_module(v)]
    for code in codes:
        if _IMPORT_NAME in code.co_code[::2]:
            modules += _imported(code, namespace)
    seen: set[int] = set()
    while modules:
        module = modules.pop(0)
        if id(module) in seen:
            continue
        seen.add(id(module))
        attrs = vars(module)
        for name in names:
            if name in attrs:
                value = attrs[name]
                found.setdefault(f"{module.__name__}.{name}", value)
                if _is_project_module(value):
                    modules.append(value)
    return list(found.items())


def _imported(code: types.CodeType, namespace: dict[str, Any]) -> list[types.ModuleType]:
    """The project modules that `code` imports when it runs (imported now)."""
    out = []
    instructions = list(dis.get_instructions(code))
    for i, ins in enumerate(instructions):
        if ins.opname != "IMPORT_NAME":
            continue
        level = instructions[i - 2].argval if i >= 2 else 0
        name = str(ins.argval)
        if isinstance(level, int) and level > 0:
            base = str(namespace.get("__package__") or "").split(".")
            base = base[: len(base) - level + 1] if level > 1 else base
            name = ".".join([p for p in [*base, name] if p])
        module = _import_project(name)
        if module is not None:
            out.append(module)
            fromlist = instructions[i - 1].argval if i >= 1 else None
            for sub in fromlist or ():
                child = _import_project(f"{name}.{sub}") if isinstance(sub, str) else None
                if child is not None:
                    out.append(child)
    return out


def _import_project(name: str) -> types.ModuleType | None:
    """Module `name` if it is project code (imported if need be; None otherwise)."""
    module = sys.modules.get(name)
    if module is None:
        if not name or not would_be_project_module(name):
            return None
        try:
            module = importlib.import_module(name)
        except Exception:  # it fails when the function runs too, which then fails
            return None
    return module if _is_project_module(module) else None


def _is_project_module(value: Any) -> bool:
    return isinstance(value, types.ModuleType) and is_project_module(value.__name__)


def closure(fn: types.FunctionType) -> list[tuple[str, Any]]:
    cells = fn.__closure__ or ()
    out = []
    for name, cell in zip(fn.__code__.co_freevars, cells):
        try:
            out.append((name, cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    return out


def functions_of(cls: type) -> list[types.FunctionType]:
    """The functions defined in the body of `cls` (methods, static and class methods,
    property accessors), behind their decorators."""
    out: list[types.FunctionType] = []
    for value in vars(cls).values():
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        elif isinstance(value, property):
            out.extend(f for f in (value.fget, value.fset, value.fdel) if inspect.isfunction(f))
            continue
        if not inspect.isfunction(value) and not inspect.isclass(value):
            value = wrapped(value) or value
        if inspect.isfunction(value):
            out.append(value)
    return out


def module_of(fn: types.FunctionType) -> str:
    name = fn.__globals__.get("__name__")
    return name if isinstance(name, str) else str(fn.__module__)


def module_file(cls: type) -> str | None:
    file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return file if isinstance(file, str) else None
