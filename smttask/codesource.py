"""The source of running code: finding a function's or class's definition, its canonical form,
and whether it is the code that runs.

A definition is found in the parsed source of its file (read through ``linecache``, so that
notebook cells count as files), by its qualified name and, for functions, by the first line
of its code object; it *runs as written* when compiling the top-level statement holding it
gives the running code objects again (line numbers aside). ``canonical()`` writes a syntax
tree as a compact text that depends only on what the code computes; ``bytecode_text()`` does
the same for a code object.
"""

from __future__ import annotations

import ast
import copy
import linecache
import os
import types
from collections.abc import Callable, Iterator
from typing import Any

from .frozen import Frozen

#: AST fields that never change what code computes.
_SKIPPED_FIELDS = frozenset({"ctx", "type_comment", "kind"})
_DOC_OWNERS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FunctionDef = ast.FunctionDef | ast.AsyncFunctionDef

_FUTURE_FLAGS = 0
for _feature in ("annotations", "generator_stop", "division"):
    _flag = getattr(__import__("__future__"), _feature, None)
    if _flag is not None:
        _FUTURE_FLAGS |= _flag.compiler_flag


class Definition(Frozen):
    """A definition found in a source file (immutable; equal when all fields are)."""

    __slots__ = ("filename", "lines", "node", "top", "tree")
    FIELDS = ("node", "top", "filename", "lines", "tree")
    node: ast.AST  # FunctionDef, AsyncFunctionDef, ClassDef or Lambda
    top: ast.stmt  # the module-level statement holding it
    filename: str
    lines: tuple[str, ...]
    tree: ast.Module | None  # the whole file (its imports matter to how code compiles)

    def __init__(
        self,
        node: ast.AST,
        top: ast.stmt,
        filename: str,
        lines: tuple[str, ...],
        tree: ast.Module | None = None,
    ) -> None:
        self._set(node, top, filename, lines, tree)

    def text(self) -> str:
        """The definition's source, decorators included, dedented."""
        first = _first_line(self.node)
        end = getattr(self.node, "end_lineno", None) or first
        chunk = self.lines[first - 1 : end]
        indent = min((len(s) - len(s.lstrip()) for s in chunk if s.strip()), default=0)
        return "".join(s[indent:] if s.strip() else s.lstrip(" \t") for s in chunk)


# -- reading and parsing files -------------------------------------------------------------------

_parsed: dict[str, tuple[object, ast.Module | None, tuple[str, ...]]] = {}


def file_key(filename: str) -> tuple[int, int] | None:
    """(mtime in ns, size) of a source file; None if it is not a file on disk."""
    try:
        st = os.stat(filename)
    except (OSError, ValueError):
        return None
    return (st.st_mtime_ns, st.st_size)


def parse_file(filename: str) -> tuple[ast.Module | None, tuple[str, ...]]:
    """The syntax tree and lines of `filename` as it is now (None if unreadable), parsed once
    per version of the file."""
    linecache.checkcache(filename)  # forget lines of a file changed on disk
    lines = tuple(linecache.getlines(filename))
    version: object = file_key(filename) or hash(lines)
    known = _parsed.get(filename)
    if known is not None and known[0] == version and known[2] == lines:
        return known[1], known[2]
    tree: ast.Module | None
    try:
        tree = ast.parse("".join(lines), filename) if lines else None
    except (SyntaxError, ValueError):
        tree = None
    _parsed[filename] = (version, tree, lines)
    return tree, lines


def parse_text(text: str, filename: str = "<source>") -> ast.Module | None:
    try:
        return ast.parse(text, filename)
    except (SyntaxError, ValueError):
        return None


# -- finding definitions ---------------------------------------------------------------------------


def find(
    tree: ast.Module,
    qualname: str,
    *,
    first_line: int | None = None,
    kind: str = "function",
) -> tuple[ast.AST, ast.stmt] | None:
    """The definition of `qualname` in `tree` and its module-level statement. With
    `first_line` (a code object's ``co_firstlineno``), only a definition starting there;
    without, the last one (the one a module's execution keeps)."""
    want = qualname.split(".")
    found: tuple[ast.AST, ast.stmt] | None = None
    for node, path, top in _definitions(tree):
        if path != want:
            continue
        if kind == "class" and not isinstance(node, ast.ClassDef):
            continue
        if kind == "function" and isinstance(node, ast.ClassDef):
            continue
        if first_line is not None and _first_line(node) != first_line:
            continue
        if isinstance(node, ast.Lambda) and found is not None and first_line is not None:
            return None  # two lambdas start on that line: ambiguous
        found = (node, top)
    return found


def _first_line(node: ast.AST) -> int:
    return min([node.lineno, *(d.lineno for d in _decorators(node))])  # type: ignore[attr-defined]


def _decorators(node: ast.AST) -> list[ast.expr]:
    return list(getattr(node, "decorator_list", ()))


def _definitions(tree: ast.Module) -> Iterator[tuple[ast.AST, list[str], ast.stmt]]:
    """(definition, qualified name as parts, module-level statement) of every function,
    class and lambda, in source order."""
    stack: list[tuple[ast.AST, list[str], ast.stmt | None]] = [(tree, [], None)]
    while stack:
        node, path, top = stack.pop()
        children: list[tuple[ast.AST, list[str], ast.stmt | None]] = []
        for child in ast.iter_child_nodes(node):
            child_top = top if top is not None else child
            if isinstance(child, _DEFS):
                qual = [*path, child.name]
                yield child, qual, child_top  # type: ignore[misc]
                inner = [*qual, "<locals>"] if not isinstance(child, ast.ClassDef) else qual
                children.append((child, inner, child_top))  # type: ignore[arg-type]
            elif isinstance(child, ast.Lambda):
                yield child, [*path, "<lambda>"], child_top  # type: ignore[misc]
                children.append((child, [*path, "<lambda>", "<locals>"], child_top))  # type: ignore[arg-type]
            else:
                children.append((child, path, child_top))  # type: ignore[arg-type]
        stack.extend(reversed(children))


def definition(
    filename: str, qualname: str, *, first_line: int | None, kind: str
) -> Definition | None:
    """The definition of `qualname` in file `filename` as it is now (None if not found)."""
    tree, lines = parse_file(filename)
    if tree is None:
        return None
    hit = find(tree, qualname, first_line=first_line, kind=kind)
    if hit is None:
        return None
    return Definition(hit[0], hit[1], filename, lines, tree)


def runs_as_written(found: Definition, codes: list[types.CodeType]) -> bool:
    """Whether compiling the module-level statement of `found` gives the code objects `codes`
    (line numbers aside): the source on disk is the code that runs."""
    if not codes:
        return True
    flags = codes[0].co_flags & _FUTURE_FLAGS
    # The compiler reads an attribute of a name the module imports with LOAD_ATTR, of any
    # other name with LOAD_METHOD (CPython 3.11): the module's imports come along.
    imports = _module_imports(found.tree) if found.tree is not None else []
    module = ast.Module(body=[*imports, found.top], type_ignores=[])
    try:
        compiled = compile(module, found.filename, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError, TypeError):
        return False
    wanted = {bytecode_text(c) for c in codes}
    present = {bytecode_text(c) for c in all_codes(compiled) if c is not compiled}
    return wanted <= present


def _module_imports(tree: ast.Module) -> list[ast.stmt]:
    """The import statements of `tree` that bind names at module level (inside ``if``,
    ``try`` and ``with`` blocks too, not inside definitions), ``__future__`` ones aside."""
    found: list[ast.stmt] = []
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import) or (
            isinstance(node, ast.ImportFrom) and node.module != "__future__"
        ):
            found.append(node)
        elif not isinstance(node, _DEFS):
            stack.extend(
                reversed([c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt)])
            )
    return found


def all_codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """`code` and every code object nested in it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from all_codes(const)


# -- canonical forms ------------------------------------------------------------------------------


def without(node: ast.AST, *, decorators: Callable[[ast.expr], bool], defaults: bool) -> ast.AST:
    """A shallow copy of a definition without the decorators `decorators` selects and, with
    `defaults`, without its parameters' default values (they are task inputs)."""
    node = copy.copy(node)
    if hasattr(node, "decorator_list"):
        node.decorator_list = [d for d in node.decorator_list if not decorators(d)]
    if defaults and isinstance(node, _FunctionDef):
        args = copy.copy(node.args)
        args.defaults = []
        args.kw_defaults = []
        node.args = args
    return node


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


def bytecode_text(code: types.CodeType) -> str:
    """What a code object computes: instructions, exception table, names, constants
    (docstring and line numbers aside), recursively; the same in every process."""
    consts = []
    for i, const in enumerate(code.co_consts):
        if isinstance(const, types.CodeType):
            consts.append(f"<{bytecode_text(const)}>")
        elif i == 0 and isinstance(const, str) and code.co_name != "<lambda>":
            consts.append("doc")  # the docstring (functions without one start with None)
        else:
            consts.append(_const_text(const))
    fields = (
        code.co_name,
        code.co_code.hex(),
        getattr(code, "co_exceptiontable", b"").hex(),
        ",".join(consts),
        ",".join(code.co_names),
        ",".join(code.co_varnames),
        ",".join(code.co_freevars),
        ",".join(code.co_cellvars),
        str(code.co_argcount),
        str(code.co_kwonlyargcount),
        str(code.co_posonlyargcount),
        str(code.co_flags & ~_FUTURE_FLAGS),
    )
    return "|".join(fields)


def _const_text(const: Any) -> str:
    """A constant of a code object, written the same way in every process (a frozenset's
    order depends on string hashing)."""
    if isinstance(const, frozenset):
        return "frozenset{" + ",".join(sorted(_const_text(c) for c in const)) + "}"
    if isinstance(const, tuple):
        return "(" + ",".join(_const_text(c) for c in const) + ")"
    return f"{type(const).__name__}:{const!r}"
