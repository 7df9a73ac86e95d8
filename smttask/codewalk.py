"""Walking what a function uses: the parts of a code fingerprint (see ``smttask.codeid``).

From a function, the walk follows the objects its code may read: globals and attributes of
project modules named in its code, modules it imports inside its body, closure cells,
default values, decorators, and the classes named in its annotations; from a class: its
methods, base classes, class attributes and decorators. Project code (``is_project``) is
followed; values count by value; everything else is library code and does not count.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import re
import sys
import types
from collections.abc import Callable, Iterable
from typing import Any

from . import codecache, stalecode
from .coderefs import (
    annotation_classes,
    closure,
    dotted,
    functions_of,
    inner_decorators,
    is_code,
    module_file,
    module_of,
    package,
    referenced,
    resolve,
    wrapped,
)
from .codesource import (
    bytecode_text,
    canonical,
    definition,
    file_key,
    runs_as_written,
    without,
)
from .digest import hash_value
from .frozen import Frozen

#: Constants whose value counts (hashable, immutable, with a stable repr).
CONSTANT_TYPES = (int, float, complex, str, bytes, bool, type(None))
#: Deepest nesting of a data value read for a fingerprint.
_MAX_DEPTH = 32
_DESCRIPTORS = (types.MemberDescriptorType, types.GetSetDescriptorType)
_PY = f"py{sys.version_info[0]}.{sys.version_info[1]}"


class CodePart(Frozen):
    """One piece of code or data that counts: a function, a class, a constant, a value
    (immutable; equal when all four fields are)."""

    __slots__ = ("digest", "how", "kind", "name")
    FIELDS = ("name", "kind", "digest", "how")
    name: str  # module.qualname (values: <reader>:<name>)
    kind: str  # "function" | "class" | "constant" | "value" | "object"
    digest: str  # hex digest of its canonical form
    how: str  # "source" | "bytecode" | "value" | "untracked"

    def __init__(self, name: str, kind: str, digest: str, how: str) -> None:
        self._set(name, kind, digest, how)


class Walker:
    """Collects the parts of one fingerprint."""

    def __init__(
        self,
        is_project: Callable[[Any], bool],
        own_decorator: Callable[[Any], bool],
        packages: frozenset[str] = frozenset(),
    ) -> None:
        self.is_project = is_project
        self.own_decorator = own_decorator
        self.packages = packages
        self.parts: list[CodePart] = []
        self._seen: set[int] = set()
        self._names: dict[str, str] = {}

    def tracked(self, obj: Any) -> bool:
        return self.is_project(obj) or (bool(self.packages) and package(obj) in self.packages)

    def add(
        self, obj: Any, *, top: bool = False, declared: bool = False, strip_defaults: bool = False
    ) -> None:
        """Count the code of `obj` (a function or class; `top`: the task function) and what
        it uses."""
        if id(obj) in self._seen:
            return
        if not inspect.isfunction(obj):
            inner = wrapped(obj)
            if inner is not None:  # a task type, functools.cache, an instance wrapping code
                self._seen.add(id(obj))
                if not inspect.isclass(obj) and self.tracked(type(obj)):
                    self.add(type(obj))
                self.add(inner, top=top, declared=declared, strip_defaults=strip_defaults)
                return
            if not inspect.isclass(obj):
                return
        if not (top or declared or self.tracked(obj)):
            return
        self._seen.add(id(obj))
        if inspect.isfunction(obj):
            part, refs = self._function(obj, strip_defaults)
        else:
            part, refs = self._class(obj)
        self._append(part)
        for name, value in refs:
            self.ref(f"{part.name}:{name}", value)

    def annotations(self, annotations: Iterable[Any]) -> None:
        """Count the project classes named in type annotations (those of a task's inputs and
        output: their methods compute too)."""
        for cls in annotation_classes(annotations):
            self.add(cls)

    def ref(self, label: str, value: Any) -> None:
        """Count `value`, which the code of a part reads under `label`."""
        if isinstance(value, types.ModuleType) or inspect.isbuiltin(value):
            return
        if isinstance(value, CONSTANT_TYPES) or _is_constant_tuple(value):
            self._append(_constant(label, value))
        elif is_code(value):
            self.add(value)
        else:
            text = self.data(value, 0, frozenset())
            if text is not None:
                self._append(CodePart(label, "value", _hex(text), "value"))
            elif not (callable(value) and not self.tracked(type(value))):  # library code
                digest = _hex(f"type:{_qual(type(value))}")
                self._append(CodePart(label, "object", digest, "untracked"))

    def data(self, value: Any, depth: int, seen: frozenset[int]) -> str | None:
        """A text standing for a data value (None if its state cannot be read); code found
        inside it is walked."""
        if isinstance(value, CONSTANT_TYPES):
            return f"{type(value).__name__}:{value!r}"
        if isinstance(value, types.ModuleType):
            return f"module:{value.__name__}"
        if is_code(value):
            self.add(value)
            return f"code:{_qual(value)}"
        if inspect.isbuiltin(value):
            return f"builtin:{_qual(value)}"
        if id(value) in seen or depth > _MAX_DEPTH:
            return None
        seen = seen | {id(value)}
        items: list[str | None]
        if isinstance(value, list | tuple):
            items = [self.data(v, depth + 1, seen) for v in value]
            return None if None in items else f"{type(value).__name__}[{','.join(items)}]"  # type: ignore[arg-type]
        if isinstance(value, set | frozenset):
            items = [self.data(v, depth + 1, seen) for v in value]
            return None if None in items else f"set{{{','.join(sorted(items))}}}"  # type: ignore[arg-type]
        if isinstance(value, dict):
            pairs = []
            for k, v in value.items():
                kt, vt = self.data(k, depth + 1, seen), self.data(v, depth + 1, seen)
                if kt is None or vt is None:
                    return None
                pairs.append(f"{kt}={vt}")
            return f"{type(value).__name__}{{{','.join(sorted(pairs))}}}"
        if isinstance(value, functools.partial):
            inner = self.data((value.func, value.args, value.keywords), depth + 1, seen)
            return None if inner is None else f"partial:{inner}"
        if isinstance(value, re.Pattern):
            return f"re:{value.pattern!r}:{value.flags}"
        if getattr(type(value), "digest_from_output", False):
            return None  # a task whose identity is its output: reading it would run it
        project = self.tracked(type(value))
        if project:
            self.add(type(value))
        with contextlib.suppress(Exception):
            return f"hash:{_qual(type(value))}:{hash_value(value).hex()}"
        state = getattr(value, "__dict__", None)
        if project and isinstance(state, dict):
            inner = self.data(state, depth + 1, seen)
            return None if inner is None else f"object:{_qual(type(value))}:{inner}"
        return None

    def _append(self, part: CodePart) -> None:
        if self._names.get(part.name) == part.digest:
            return
        name, n = part.name, 1
        while name in self._names:  # another object of the same name (e.g. two lambdas)
            n += 1
            name = f"{part.name}#{n}"
        if name != part.name:
            part = CodePart(name, part.kind, part.digest, part.how)
        self._names[name] = part.digest
        self.parts.append(part)

    # -- parts ------------------------------------------------------------------------------

    def _function(
        self, fn: types.FunctionType, strip_defaults: bool
    ) -> tuple[CodePart, list[tuple[str, Any]]]:
        code = fn.__code__
        name = f"{module_of(fn)}.{code.co_qualname}"
        refs = referenced(fn) + closure(fn)
        if not strip_defaults:
            if fn.__defaults__:
                refs.append(("__defaults__", fn.__defaults__))
            if fn.__kwdefaults__:
                refs.append(("__kwdefaults__", fn.__kwdefaults__))
        source = _Source(code.co_filename, code.co_qualname, code.co_firstlineno, "function")
        digest, decorators = self._source_digest(source, [code], fn.__globals__, strip_defaults)
        if digest is None:
            return CodePart(
                name, "function", _hex(f"{_PY}|{bytecode_text(code)}"), "bytecode"
            ), refs
        return CodePart(name, "function", digest, "source"), refs + decorators

    def _class(self, cls: type) -> tuple[CodePart, list[tuple[str, Any]]]:
        functions = functions_of(cls)
        refs: list[tuple[str, Any]] = []
        for f in functions:
            refs += referenced(f) + closure(f)
            if f.__defaults__:
                refs.append((f"{f.__name__}.__defaults__", f.__defaults__))
        refs += [(f"__bases__.{b.__qualname__}", b) for b in cls.__bases__ if b is not object]
        for attr, value in vars(cls).items():
            if _is_class_data(attr, value):
                refs.append((attr, value))
        filename = functions[0].__code__.co_filename if functions else module_file(cls)
        codes = [f.__code__ for f in functions]
        digest: str | None = None
        decorators: list[tuple[str, Any]] = []
        if filename is not None:
            source = _Source(
                filename, cls.__qualname__, getattr(cls, "__firstlineno__", None), "class"
            )
            namespace = getattr(sys.modules.get(cls.__module__), "__dict__", {})
            digest, decorators = self._source_digest(source, codes, namespace, False)
        if digest is None:
            text = "|".join(sorted(bytecode_text(c) for c in codes))
            return CodePart(_qual(cls), "class", _hex(f"{_PY}|{text}"), "bytecode"), refs
        return CodePart(_qual(cls), "class", digest, "source"), refs + decorators

    def _source_digest(
        self,
        source: _Source,
        codes: list[types.CodeType],
        namespace: dict[str, Any],
        strip_defaults: bool,
    ) -> tuple[str | None, list[tuple[str, Any]]]:
        """The digest of the definition's source if that source is the running code, and the
        decorators that count (as refs); (None, []) if it is not the running code."""
        code_digest = bytecode_digest(codes)
        version = file_key(source.filename)
        key = f"{source.kind}:{source.qualname}:{source.first_line}:{int(strip_defaults)}"
        if version is not None:
            entry = codecache.lookup(source.filename, version, key, code_digest)
            if entry is not None:
                decorators = self._decorators_agree(entry.get("decorators"), namespace)
                if decorators is not None and isinstance(entry.get("digest"), str):
                    return entry["digest"], decorators
        found = definition(
            source.filename, source.qualname, first_line=source.first_line, kind=source.kind
        )
        if found is None or not runs_as_written(found, codes):
            stalecode.report_mismatch(source.filename, source.qualname, edited=found is not None)
            return None, []
        level = list(getattr(found.node, "decorator_list", ()))
        names = [dotted(d) for d in level + inner_decorators(found)]
        own = [n is not None and bool(self.own_decorator(resolve(n, namespace))) for n in names]
        mine = {id(d) for d, o in zip(level, own) if o}
        tree = without(found.node, decorators=lambda d: id(d) in mine, defaults=strip_defaults)
        digest = _hex(canonical(tree))
        if version is not None:
            recorded = [[n, o] for n, o in zip(names, own)]
            entry = {"code": code_digest, "digest": digest, "decorators": recorded}
            codecache.store(source.filename, version, key, entry)
        return digest, [(f"@{n}", resolve(n, namespace)) for n, o in zip(names, own) if n and not o]

    def _decorators_agree(
        self, recorded: Any, namespace: dict[str, Any]
    ) -> list[tuple[str, Any]] | None:
        """The decorators a cache entry recorded, as refs, if each is still smttask's own or
        not as it was then (None if not: the entry does not apply)."""
        if not isinstance(recorded, list):
            return None
        out = []
        for item in recorded:
            if not (isinstance(item, list) and len(item) == 2):
                return None
            name, own = item
            if name is None:
                if own:
                    return None
                continue
            obj = resolve(name, namespace)
            if bool(self.own_decorator(obj)) != own:
                return None
            if not own:
                out.append((f"@{name}", obj))
        return out


#: The digest of each code object walked, by identity (the object is kept: its id is not
#: reused); a code object never changes.
_code_digests: dict[int, tuple[types.CodeType, str]] = {}


def bytecode_digest(codes: list[types.CodeType]) -> str:
    """The digest of what the code objects `codes` compute (their ``bytecode_text``)."""
    one = codes[0] if len(codes) == 1 else None
    if one is not None:
        known = _code_digests.get(id(one))
        if known is not None and known[0] is one:
            return known[1]
    digest = _hex("|".join(bytecode_text(c) for c in codes))
    if one is not None:
        _code_digests[id(one)] = (one, digest)
    return digest


class _Source:
    """Where a definition is: what `_source_digest` looks up."""

    __slots__ = ("filename", "first_line", "kind", "qualname")

    def __init__(self, filename: str, qualname: str, first_line: int | None, kind: str) -> None:
        self.filename = filename
        self.qualname = qualname
        self.first_line = first_line
        self.kind = kind


def _is_class_data(attr: str, value: Any) -> bool:
    """Whether a class attribute counts by value (methods count as code, dunders and the
    machinery of abc and slots not at all)."""
    if (attr.startswith("__") and attr.endswith("__")) or attr.startswith("_abc_"):
        return False
    if isinstance(value, (staticmethod, classmethod, property, *_DESCRIPTORS)):
        return False
    return not inspect.isfunction(value) and (inspect.isclass(value) or wrapped(value) is None)


def _is_constant_tuple(value: Any) -> bool:
    if not isinstance(value, tuple | frozenset):
        return False
    return all(isinstance(v, CONSTANT_TYPES) or _is_constant_tuple(v) for v in value)


def _constant(name: str, value: Any) -> CodePart:
    text = repr(sorted(value, key=repr)) if isinstance(value, frozenset) else repr(value)
    return CodePart(name, "constant", _hex(f"{type(value).__name__}:{text}"), "value")


def _qual(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def _hex(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
