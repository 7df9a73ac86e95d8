"""Code identity: a stable fingerprint of what a task function computes.

A task's digest covers the code of its function, so a committed change to what the function
computes gives new digests (and new result files), while edits that cannot change a result do
not. The fingerprint of a function is built from its *normalised syntax tree*:

- formatting, comments and docstrings do not count (they are not in the tree, or are removed);
- the smttask decorator line does not count (its options either enter the digest on their own,
  like ``version``, or do not change results, like ``threads``);
- everything else does: statements, expressions, names, literals, nested functions, other
  decorators.

What the function *uses* counts too, found by following the global names its code refers to:

- functions and classes defined in the project's own code (any module that is not part of
  Python, of an installed package, or of smttask), recursively, through their own globals;
- module-level constants (numbers, strings, bytes, booleans, None, and tuples or frozensets
  of those) by value;
- modules, installed packages and mutable objects do not count: library code is identified
  by the package versions kept in each record, and mutable globals should be task inputs.

The tree is written out by ``canonical()``, a serializer of our own that skips empty fields, so
that the fingerprint of the same source is the same under every supported Python version.

When the source on disk is not the code that runs (a module edited after it was imported),
or there is no source at all, the fingerprint is taken from the code object instead (its
instructions, names and constants, without line numbers): always faithful to the running
code, at the price of differing between Python versions. Never the other way round: a
fingerprint never describes source that is not running.

Fingerprints are computed once per function object and cached.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import os
import site
import sys
import sysconfig
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: Constants whose value counts (hashable, immutable, with a stable repr).
_CONSTANT_TYPES = (int, float, complex, str, bytes, bool, type(None))
#: AST fields that never change what code computes.
_SKIPPED_FIELDS = frozenset({"ctx", "type_comment", "kind"})
#: Packages whose code never counts (smttask itself: its version is in every record).
_FRAMEWORK = frozenset({"smttask"})
_DOC_OWNERS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)


@dataclass(frozen=True)
class CodePart:
    """One piece of code that counts: a function, a class or a constant."""

    name: str  # module.qualname
    kind: str  # "function" | "class" | "constant"
    digest: str  # hex digest of its canonical form
    how: str  # "source" | "bytecode" | "value"


@dataclass(frozen=True)
class Fingerprint:
    """The code identity of a task function and of everything it uses."""

    digest: str  # hex: covers every part
    parts: tuple[CodePart, ...]  # the task function first, then by name

    def changed_parts(self, recorded: dict[str, str]) -> list[str]:
        """Names of the parts whose digest differs from `recorded` ({name: digest}), or that
        are new or gone."""
        mine = {p.name: p.digest for p in self.parts}
        names = sorted(set(mine) | set(recorded))
        return [n for n in names if mine.get(n) != recorded.get(n)]


def fingerprint(
    fn: Callable[..., Any],
    *,
    uses: Iterable[Any] = (),
    own_decorator: Callable[[Any], bool] = lambda obj: False,
) -> Fingerprint:
    """The fingerprint of `fn` and of the project code it uses.

    `uses` lists more functions or classes whose code counts (e.g. ones the function reaches
    through ``getattr``, or code of an installed package). `own_decorator(obj)` tells whether a
    decorator of `fn` is smttask's own (then it does not count).
    """
    walker = _Walker(own_decorator)
    walker.add(fn, top=True)
    for obj in uses:
        walker.add(obj, top=False, declared=True)
    parts = [walker.parts[0], *sorted(walker.parts[1:], key=lambda p: p.name)]
    h = hashlib.blake2b(b"smttask-code-v1", digest_size=16)
    for part in parts:
        for field in (part.name, part.kind, part.digest):
            data = field.encode()
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
    return Fingerprint(h.hexdigest(), tuple(parts))


# -- walking what a function uses ----------------------------------------------------------------


class _Walker:
    def __init__(self, own_decorator: Callable[[Any], bool]) -> None:
        self.own_decorator = own_decorator
        self.parts: list[CodePart] = []
        self._seen: set[int] = set()
        self._names: set[str] = set()

    def add(self, obj: Any, *, top: bool, declared: bool = False) -> None:
        obj = _unwrap(obj)
        if id(obj) in self._seen:
            return
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            if declared:
                raise TypeError(
                    f"uses= lists functions and classes whose code counts, not "
                    f"{type(obj).__name__} {obj!r:.60}."
                )
            return
        if not top and not declared and not is_project_code(obj):
            return
        self._seen.add(id(obj))
        part, refs = _part(obj, self.own_decorator if top else None)
        self._append(part)
        for name, value in refs:
            if isinstance(value, _CONSTANT_TYPES) or _is_constant_tuple(value):
                self._append(_constant(f"{part.name}:{name}", value))
            elif (
                inspect.isfunction(value) or inspect.isclass(value) or hasattr(value, "__wrapped__")
            ):
                self.add(value, top=False)
            elif not isinstance(value, types.ModuleType):
                self.add(type(value), top=False)  # an instance: the code of its class counts

    def _append(self, part: CodePart) -> None:
        if part.name in self._names:
            return
        self._names.add(part.name)
        self.parts.append(part)


def _unwrap(obj: Any) -> Any:
    """The function behind decorators that keep ``__wrapped__`` (task types do)."""
    try:
        return inspect.unwrap(obj)
    except ValueError:  # a __wrapped__ cycle
        return obj


def _is_constant_tuple(value: Any) -> bool:
    if not isinstance(value, tuple | frozenset):
        return False
    return all(isinstance(v, _CONSTANT_TYPES) or _is_constant_tuple(v) for v in value)


def _constant(name: str, value: Any) -> CodePart:
    text = repr(sorted(value, key=repr)) if isinstance(value, frozenset) else repr(value)
    return CodePart(name, "constant", _hex(f"{type(value).__name__}:{text}"), "value")


def _referenced(
    codes: Iterable[types.CodeType], namespace: dict[str, Any]
) -> list[tuple[str, Any]]:
    """(name, value) of the globals the code objects may read (in first-use order), and of
    the attributes they may read from project modules (``helpers.smooth`` after
    ``import helpers``)."""
    names = list(dict.fromkeys(name for code in codes for name in code.co_names))
    found: dict[str, Any] = {n: namespace[n] for n in names if n in namespace}
    modules = [v for v in found.values() if _is_project_module(v)]
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


def _is_project_module(value: Any) -> bool:
    return isinstance(value, types.ModuleType) and _is_project_module_name(value.__name__)


def _closure(fn: types.FunctionType) -> list[tuple[str, Any]]:
    cells = fn.__closure__ or ()
    out = []
    for name, cell in zip(fn.__code__.co_freevars, cells):
        try:
            out.append((name, cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    return out


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _functions_of(cls: type) -> list[types.FunctionType]:
    out: list[types.FunctionType] = []
    for value in vars(cls).values():
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        elif isinstance(value, property):
            out.extend(f for f in (value.fget, value.fset, value.fdel) if inspect.isfunction(f))
            continue
        value = _unwrap(value)
        if inspect.isfunction(value):
            out.append(value)
    return out


def _part(
    obj: Any, own_decorator: Callable[[Any], bool] | None
) -> tuple[CodePart, list[tuple[str, Any]]]:
    name = f"{obj.__module__}.{obj.__qualname__}"
    if inspect.isfunction(obj):
        functions = [obj]
        refs = _referenced(_codes(obj.__code__), obj.__globals__) + _closure(obj)
        kind = "function"
    else:
        functions = _functions_of(obj)
        refs = []
        for f in functions:
            refs += _referenced(_codes(f.__code__), f.__globals__) + _closure(f)
        kind = "class"
    tree = _parse(obj, functions)
    if tree is not None:
        if own_decorator is not None and isinstance(tree, ast.FunctionDef | ast.AsyncFunctionDef):
            namespace = obj.__globals__
            tree.decorator_list = [
                d for d in tree.decorator_list if not own_decorator(_resolve(d, namespace))
            ]
        return CodePart(name, kind, _hex(canonical(tree)), "source"), refs
    text = "|".join(_bytecode_text(f.__code__) for f in sorted(functions, key=_qualname))
    return CodePart(
        name, kind, _hex(f"py{sys.version_info[0]}.{sys.version_info[1]}|{text}"), "bytecode"
    ), refs


def _qualname(fn: types.FunctionType) -> str:
    return fn.__qualname__


def _hex(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# -- project code ---------------------------------------------------------------------------------

_library_roots: tuple[str, ...] | None = None
_project_modules: dict[str, bool] = {}


def _libraries() -> tuple[str, ...]:
    global _library_roots
    if _library_roots is None:
        paths = sysconfig.get_paths()
        roots = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        with contextlib.suppress(AttributeError):  # missing in some virtualenv flavours
            roots.update(site.getsitepackages())
        user_site = site.getusersitepackages()
        roots.add(user_site if isinstance(user_site, str) else None)
        real = {os.path.realpath(r) for r in roots if r}
        _library_roots = tuple(sorted(r.rstrip(os.sep) + os.sep for r in real))
    return _library_roots


def is_project_code(obj: Any) -> bool:
    """Whether `obj` (a function or class) is defined in the project's own code: not in
    Python's standard library, an installed package, a built-in module or smttask."""
    module_name = getattr(obj, "__module__", None)
    return isinstance(module_name, str) and _is_project_module_name(module_name)


def _is_project_module_name(module_name: str) -> bool:
    known = _project_modules.get(module_name)
    if known is not None:
        return known
    top = module_name.partition(".")[0]
    result: bool
    if top in sys.stdlib_module_names or top in _FRAMEWORK or module_name == "builtins":
        result = False
    else:
        module = sys.modules.get(module_name)
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            result = module_name == "__main__"  # a notebook or an interactive session
        else:
            result = not os.path.realpath(file).startswith(_libraries())
    _project_modules[module_name] = result
    return result


# -- source ---------------------------------------------------------------------------------------


def source_text(obj: Any) -> str | None:
    """The source of a function or class, dedented (None if Python cannot find it)."""
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        return None


def _parse(obj: Any, functions: list[types.FunctionType]) -> ast.AST | None:
    text = source_text(obj)
    if text is None:
        return None
    try:
        module = ast.parse(text)
    except SyntaxError:  # e.g. a lambda cut out of a longer expression
        return None
    if len(module.body) != 1:
        return None
    if not _runs_as_written(text, functions, getattr(obj, "__name__", "")):
        return None  # the file changed after the module was imported
    return module.body[0]


def _runs_as_written(text: str, functions: list[types.FunctionType], name: str) -> bool:
    """Whether compiling `text` gives the code objects of `functions` (line numbers aside)."""
    if not functions:
        return True
    flags = functions[0].__code__.co_flags & _FUTURE_FLAGS
    try:
        compiled = compile(text, "<smttask-code-check>", "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    wanted = {_bytecode_text(f.__code__) for f in functions}
    found = {_bytecode_text(c) for c in _codes(compiled) if c is not compiled}
    return wanted <= found


_FUTURE_FLAGS = 0
for _feature in ("annotations", "generator_stop", "division"):
    _flag = getattr(__import__("__future__"), _feature, None)
    if _flag is not None:
        _FUTURE_FLAGS |= _flag.compiler_flag


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    """The object a decorator expression names (``X``, ``a.X``, ``X(...)``), without calling
    anything; None if it is not a plain dotted name."""
    if isinstance(node, ast.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in namespace:
        return None
    value = namespace[node.id]
    for attr in reversed(parts):
        if not isinstance(value, types.ModuleType | type):
            return None
        value = getattr(value, attr, None)
    return value


# -- canonical forms ------------------------------------------------------------------------------


def canonical(node: Any) -> str:
    """A compact text of a syntax tree that depends only on what the code computes.

    Node types and field names, in order; empty fields (None, []) and fields that never matter
    (``ctx``, type comments, string prefixes) are skipped, so that trees of one source under
    different Python versions write the same text. Docstrings are dropped.
    """
    out: list[str] = []
    _write(node, out)
    return "".join(out)


def _write(node: Any, out: list[str]) -> None:
    if isinstance(node, ast.AST):
        out.append(type(node).__name__)
        out.append("(")
        for field in node._fields:
            if field in _SKIPPED_FIELDS:
                continue
            value = getattr(node, field, None)
            if value is None or value == []:
                continue
            if field == "body" and isinstance(node, _DOC_OWNERS):
                value = _without_docstring(value)
                if not value:
                    continue
            out.append(field)
            out.append("=")
            _write(value, out)
            out.append(";")
        out.append(")")
    elif isinstance(node, list):
        out.append("[")
        for item in node:
            _write(item, out)
            out.append(",")
        out.append("]")
    else:
        out.append(f"{type(node).__name__}:{node!r}")


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return body[1:]
    return body


def _bytecode_text(code: types.CodeType) -> str:
    """What a code object computes: instructions, names, constants (docstring and line numbers
    aside), recursively."""
    consts = []
    for i, const in enumerate(code.co_consts):
        if isinstance(const, types.CodeType):
            consts.append(f"<{_bytecode_text(const)}>")
        elif i == 0 and isinstance(const, str) and code.co_name != "<lambda>":
            consts.append("doc")  # the docstring (functions without one start with None)
        else:
            consts.append(f"{type(const).__name__}:{const!r}")
    fields = (
        code.co_name,
        code.co_code.hex(),
        ",".join(consts),
        ",".join(code.co_names),
        ",".join(code.co_varnames),
        ",".join(code.co_freevars),
        str(code.co_argcount),
        str(code.co_kwonlyargcount),
        str(code.co_posonlyargcount),
        str(code.co_flags & ~_FUTURE_FLAGS),
    )
    return "|".join(fields)
