"""Code identity: a stable fingerprint of what a task function computes.

A task's digest covers the code of its function, so a committed change to what the function
computes gives new digests (and new result files), while edits that cannot change a result do
not. The fingerprint of a function is built from its *normalised syntax tree*
(``smttask.codesource``):

- formatting, comments and docstrings do not count (they are not in the tree, or are removed);
- the smttask decorator line does not count (its options either enter the digest on their own,
  like ``version``, or do not change results, like ``threads``), nor, for a task function, the
  default values of its parameters (they are task inputs, and count as such);
- everything else does: statements, expressions, names, literals, nested functions, other
  decorators.

What the function *uses* counts too (``smttask.codewalk``), found by following what its code
may read:

- functions and classes defined in the project's own code (``smttask.codeproject``: any
  module that is not part of Python, of an installed package, or of smttask), recursively:
  through their globals, the modules they import, closures, default values, decorators, base
  classes and class attributes; and the project classes named in the task's annotations
  (their methods run on the task's inputs and output);
- values by value, read when the fingerprint is taken: constants, and data (containers,
  arrays, enums... whatever ``smttask.digest.hash_value`` hashes); instances of project
  classes by their class's code and their attributes;
- modules and installed packages do not count (library code is identified by the package
  versions kept in each record), unless a function or class of theirs is named in ``uses``:
  then that package's code is followed like the project's; objects whose state cannot be read
  (a logger, a lock) count by their type only, as parts marked ``untracked``.

The tree is written out by ``canonical()``, a serializer that skips empty fields, so that the
fingerprint of the same source is the same under every supported Python version.

When the source on disk is not the code that runs (a module edited after it was imported),
or there is no source at all, the fingerprint is taken from the code object instead (its
instructions, exception table, names and constants, without line numbers): always faithful
to the running code, at the price of differing between Python versions. Never the other way
round: a fingerprint never describes source that is not running. Source digests are kept in
a cache beside the bytecode cache (``smttask.codecache``), used only for the very code that
runs.
"""

from __future__ import annotations

import hashlib
import inspect
import types
from collections.abc import Callable, Iterable
from typing import Any

from . import codecache
from .codeproject import is_project_code
from .coderefs import annotation_classes, functions_of, is_code, module_file, package, wrapped
from .codesource import canonical, definition, file_key
from .codewalk import CodePart, Walker, bytecode_digest
from .frozen import Frozen

__all__ = [
    "CodePart",
    "Fingerprint",
    "canonical",
    "fingerprint",
    "is_project_code",
    "prepare",
    "source_text",
]


class Fingerprint(Frozen):
    """The code identity of a task function and of everything it uses (immutable; equal when
    both fields are)."""

    __slots__ = ("digest", "parts")
    FIELDS = ("digest", "parts")
    digest: str  # hex: covers every part
    parts: tuple[CodePart, ...]  # the task function first, then by name

    def __init__(self, digest: str, parts: tuple[CodePart, ...]) -> None:
        self._set(digest, parts)

    def changed_parts(self, recorded: dict[str, str]) -> list[str]:
        """Names of the parts whose digest differs from `recorded` ({name: digest}), or that
        are new or gone."""
        mine = self.as_dict()
        names = sorted(set(mine) | set(recorded))
        return [n for n in names if mine.get(n) != recorded.get(n)]

    def as_dict(self) -> dict[str, str]:
        """{part name: part digest}: what task files keep of the parts."""
        return {p.name: p.digest for p in self.parts}

    @property
    def untracked(self) -> list[str]:
        """Names of the values that count by their type only (their state is not read)."""
        return [p.name for p in self.parts if p.how == "untracked"]


def fingerprint(
    fn: Callable[..., Any],
    *,
    uses: Iterable[Any] = (),
    own_decorator: Callable[[Any], bool] = lambda obj: False,
    defaults_are_inputs: bool = False,
    annotations: Iterable[Any] = (),
) -> Fingerprint:
    """The fingerprint of `fn` and of the project code it uses.

    `uses` lists more functions or classes whose code counts (e.g. ones the function reaches
    through ``getattr``, or code of an installed package: that package is then followed like
    the project's). `own_decorator(obj)` tells whether a decorator is smttask's own (then it
    does not count). With `defaults_are_inputs`, the default values of `fn`'s parameters do
    not count (a task's defaults are inputs). The project classes named in `annotations`
    count too.
    """
    declared = list(uses)
    for obj in declared:
        if not is_code(obj):
            raise TypeError(
                f"uses= lists functions and classes whose code counts, not "
                f"{type(obj).__name__} {obj!r:.60}."
            )
    packages = frozenset(package(obj) for obj in declared) - {""}
    walker = Walker(is_project_code, own_decorator, packages)
    walker.add(fn, top=True, strip_defaults=defaults_are_inputs)
    for obj in declared:
        walker.add(obj, declared=True)
    walker.annotations(annotations)
    codecache.flush()
    parts = [walker.parts[0], *sorted(walker.parts[1:], key=lambda p: p.name)]
    h = hashlib.blake2b(b"smttask-code-v1", digest_size=16)
    for part in parts:
        for field in (part.name, part.kind, part.digest):
            data = field.encode()
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
    return Fingerprint(h.hexdigest(), tuple(parts))


def prepare(fn: Callable[..., Any], *, annotations: Iterable[Any] = ()) -> None:
    """Read ahead what the first `fingerprint` of `fn` needs that no later definition can
    change: the code-identity cache of its source file, which modules are project code (its
    own, those of the classes named in `annotations`). Only caches that are checked when
    used: the fingerprint itself is taken at the first digest, since what `fn` uses may be
    defined after it."""
    fn = wrapped(fn) or fn
    code = getattr(fn, "__code__", None)
    if isinstance(code, types.CodeType):
        bytecode_digest([code])
        version = file_key(code.co_filename)
        if version is not None:
            codecache.preload(code.co_filename, version)
    is_project_code(fn)
    for cls in annotation_classes(annotations):
        is_project_code(cls)


def source_text(obj: Any) -> str | None:
    """The source of a function or class as it is on disk now, decorators included, dedented
    (None if it cannot be found)."""
    obj = wrapped(obj) or obj
    found = None
    if inspect.isfunction(obj):
        code = obj.__code__
        for line in (code.co_firstlineno, None):
            found = found or definition(
                code.co_filename, code.co_qualname, first_line=line, kind="function"
            )
    elif inspect.isclass(obj):
        functions = functions_of(obj)
        filename = functions[0].__code__.co_filename if functions else module_file(obj)
        if filename is not None:
            found = definition(filename, obj.__qualname__, first_line=None, kind="class")
    return None if found is None else found.text()
