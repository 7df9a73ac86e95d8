"""The package's layers, checked on its source (``DESIGN.md``, "Layers": imports point down).

Every module of ``smttask`` is parsed with ``ast`` and every import counts: at module level or
inside a function (a lazy import is still a dependency). Imports under ``if TYPE_CHECKING:``
never run: they count for the layer rules, not for import cycles. Importing a submodule also
runs its package's ``__init__``; that implicit import does not count (the package root
``smttask`` is the façade that wires the layers together). Imports by computed name
(``importlib.import_module``) are not seen: smttask uses them only for user modules and for
its own CLI commands.

Rules name modules by prefix: ``smttask.recording`` is that package and every module in it,
so a module added to a package falls under the package's rules. To place a new top-level
module, add it to ``LAYERS``; to add a rule, add a row to the tables below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "smttask"

#: Every module of the package belongs to one layer (lowest first). The first three are the
#: task core.
LAYERS: dict[str, tuple[str, ...]] = {
    "base": (
        "smttask.errors",
        "smttask.config",
        "smttask.fileio",
        "smttask.filehash",
        "smttask.frozen",
    ),
    "values": (
        "smttask.strict",
        "smttask.strictarrays",
        "smttask.validators",
        "smttask.trust",
        "smttask.datatypes",
        "smttask.decoding",
        "smttask.jsonparse",
        "smttask.netcdf",
        "smttask.serialization",
        "smttask.digest",
        "smttask.codeproject",
        "smttask.codesource",
        "smttask.codecache",
        "smttask.stalecode",
        "smttask.coderefs",
        "smttask.codewalk",
        "smttask.codeid",
    ),
    "core": (
        "smttask.typing",
        "smttask.hooks",
        "smttask.taskoutput",
        "smttask.taskspec",
        "smttask.node",
        "smttask.taskfile",
        "smttask.task",
        "smttask.kinds",
        "smttask.generators",
        "smttask.migrate",
        "smttask.labels",
        "smttask.runlog",
    ),
    "sweeps": ("smttask.params", "smttask.workflows"),
    "storage": ("smttask.storage",),
    "provenance": ("smttask.recording",),
    "execution": (
        "smttask.session",
        "smttask.runner",
        "smttask.supervise",
        "smttask.progress",
        "smttask.targets",
        "smttask.reproduce",
        "smttask.jobserver",
    ),
    "graph": ("smttask.graph",),
    "compile": ("smttask.compile", "smttask.export"),
    "explain": ("smttask.explain",),
    "view": ("smttask.view",),
    "interface": ("smttask.cli",),
}
CORE_LAYERS = ("base", "values", "core")

#: Third-party packages that only the listed parts of smttask may import.
OWNERS: dict[str, tuple[str, ...]] = {
    "sumatra": ("smttask.recording",),
    "django": ("smttask.recording",),
    "networkx": ("smttask.graph",),
    "jinja2": ("smttask.compile",),
    "click": ("smttask.cli",),
    "snakemake": (),  # runs in its own environment: it needs pydantic 2, scityping forbids it
}

#: What no module of the core may import (besides every layer above the core, and the
#: package root ``smttask``, whose ``__init__`` imports all layers).
CORE_FORBIDDEN = ("sumatra", "django", "networkx", "jinja2", "click", "rich", "pandas")

#: Core modules that only the core imports: the layers above use ``smttask.task``.
CORE_INTERNAL = ("smttask.node",)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module, absolute
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        where = " (type checking only)" if self.type_only else ""
        return f"{self.module} (line {self.line}) imports {self.target}{where}"


def module_names(root: Path) -> dict[str, Path]:
    """Module name -> file, for every module of the package in folder `root`."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports(root: Path) -> list[Import]:
    """Every import statement of every module under `root`, resolved to module names."""
    modules = module_names(root)
    found = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), filename=str(path))
        for node, type_only in _walk(tree, type_only=False):
            for target in _targets(node, package, modules):
                found.append(Import(name, target, node.lineno, type_only))
    return found


def _walk(node: ast.AST, type_only: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, type_only
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _walk_stmt(stmt, True)
            for stmt in child.orelse:
                yield from _walk_stmt(stmt, type_only)
        else:
            yield from _walk(child, type_only)


def _walk_stmt(
    stmt: ast.stmt, type_only: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        yield stmt, type_only
    else:
        yield from _walk(stmt, type_only)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(
    node: ast.Import | ast.ImportFrom, package: str, modules: Mapping[str, Path]
) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        parts = package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1])
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    # `from pkg import sub` imports the submodule `pkg.sub`; other names come from `pkg`.
    subs = [f"{source}.{alias.name}" for alias in node.names]
    found = [s for s in subs if s in modules]
    if len(found) < len(subs):
        found.append(source)
    return found


def within(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_of(name: str) -> str | None:
    for layer, prefixes in LAYERS.items():
        if within(name, prefixes):
            return layer
    return None


def core_modules(modules: Iterable[str]) -> list[str]:
    return [m for m in modules if layer_of(m) in CORE_LAYERS]


# -- the checks (functions of the import list, so that they can be tested on a bad package) --


def ownership_violations(found: Iterable[Import]) -> list[str]:
    bad = []
    for imp in found:
        top = imp.target.split(".")[0]
        if top in OWNERS and not within(imp.module, OWNERS[top]):
            owners = ", ".join(OWNERS[top]) or "no smttask module"
            bad.append(f"{imp}: only {owners} may import {top}")
    return bad


def core_violations(found: Iterable[Import]) -> list[str]:
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    bad = []
    for imp in found:
        own = layer_of(imp.module)
        if own not in CORE_LAYERS:
            continue
        if imp.target.split(".")[0] in CORE_FORBIDDEN:
            bad.append(f"{imp}: the task core imports none of {', '.join(CORE_FORBIDDEN)}")
        elif imp.target == "smttask":
            bad.append(f"{imp}: the package root imports every layer; import the module itself")
        elif imp.target.startswith("smttask."):
            target = layer_of(imp.target)
            if target is None:
                bad.append(f"{imp}: {imp.target} is in no layer of LAYERS")
            elif rank[target] > rank[own]:
                bad.append(f"{imp}: layer {own!r} may not import layer {target!r} (above it)")
    return bad


def upward_violations(found: Iterable[Import]) -> list[str]:
    """Imports of a layer above the importing module's (any layer, lazy imports included)."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    bad = []
    for imp in found:
        own, target = layer_of(imp.module), layer_of(imp.target)
        if own is not None and target is not None and rank[target] > rank[own]:
            bad.append(f"{imp}: layer {own!r} may not import layer {target!r} (above it)")
    return bad


def internal_violations(found: Iterable[Import]) -> list[str]:
    return [
        f"{imp}: outside the core, import tasks from smttask.task"
        for imp in found
        if within(imp.target, CORE_INTERNAL) and layer_of(imp.module) not in CORE_LAYERS
    ]


def core_cycles(found: Iterable[Import]) -> list[list[str]]:
    """Import cycles among the core modules (lazy imports included, type-only ones not)."""
    edges: dict[str, set[str]] = {}
    for imp in found:
        inside = layer_of(imp.module) in CORE_LAYERS and layer_of(imp.target) in CORE_LAYERS
        if inside and not imp.type_only and imp.target != imp.module:
            edges.setdefault(imp.module, set()).add(imp.target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                cycles.append([*path[path.index(n) :], n])
            elif n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    return cycles


# -- the package as it is -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def found() -> list[Import]:
    return imports(PACKAGE)


def test_every_module_is_in_a_layer() -> None:
    unplaced = [m for m in module_names(PACKAGE) if m != "smttask" and layer_of(m) is None]
    assert not unplaced, (
        f"modules in no layer of LAYERS (add them to tests/{Path(__file__).name}): {unplaced}"
    )


def test_the_core_modules_exist() -> None:
    modules = module_names(PACKAGE)
    missing = [m for layer in CORE_LAYERS for m in LAYERS[layer] if m not in modules]
    assert not missing, f"LAYERS names core modules that do not exist: {missing}"


def test_third_party_packages_are_imported_by_their_owners_only(found: list[Import]) -> None:
    assert ownership_violations(found) == []


def test_the_core_imports_nothing_above_it(found: list[Import]) -> None:
    assert core_violations(found) == []


def test_every_layer_imports_only_the_layers_below_it(found: list[Import]) -> None:
    assert upward_violations(found) == []


def test_the_layers_above_import_tasks_from_smttask_task(found: list[Import]) -> None:
    assert internal_violations(found) == []


def test_the_core_has_no_import_cycle(found: list[Import]) -> None:
    cycles = core_cycles(found)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


# -- the checks find what they look for --------------------------------------------------------


BAD_PACKAGE = {
    "__init__.py": "from . import kinds\n",
    "errors.py": "",
    "node.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from .kinds import Kind\n"  # type-only: no cycle
        "def describe():\n"
        "    from . import taskfile\n"  # lazy: a cycle all the same
        "    return taskfile\n"
    ),
    "taskfile.py": "from .node import describe\nfrom . import errors\n",
    "kinds.py": (
        "from smttask.node import describe\n"
        "def graph():\n"
        "    import networkx\n"
        "    from .recording.store import open_store\n"
    ),
    "digest.py": "import smttask\nfrom .task_helpers import x\n",
    "recording/__init__.py": "",
    "recording/store.py": "import sumatra.projects\nimport django.db\n",
    "cli/__init__.py": "import click\nfrom ..recording import store\nimport django\n",
    "cli/run.py": "from ..node import TaskNode\nfrom ..task import Task\n",
}


def test_the_checks_find_lazy_cycles_and_imports_upward(tmp_path: Path) -> None:
    root = tmp_path / "smttask"
    for name, text in BAD_PACKAGE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    found = imports(root)
    assert [str(i) for i in found if i.module == "smttask.node"] == [
        "smttask.node (line 1) imports typing",
        "smttask.node (line 3) imports smttask.kinds (type checking only)",
        "smttask.node (line 5) imports smttask.taskfile",
    ]
    assert core_cycles(found) == [["smttask.node", "smttask.taskfile", "smttask.node"]]
    assert ownership_violations(found) == [
        "smttask.cli (line 3) imports django: only smttask.recording may import django",
        "smttask.kinds (line 3) imports networkx: only smttask.graph may import networkx",
    ]
    assert internal_violations(found) == [
        "smttask.cli.run (line 1) imports smttask.node: outside the core, import tasks from "
        "smttask.task"
    ]
    assert core_violations(found) == [
        "smttask.digest (line 1) imports smttask: the package root imports every layer; "
        "import the module itself",
        "smttask.digest (line 2) imports smttask.task_helpers: smttask.task_helpers is in no "
        "layer of LAYERS",
        "smttask.kinds (line 3) imports networkx: the task core imports none of "
        + ", ".join(CORE_FORBIDDEN),
        "smttask.kinds (line 4) imports smttask.recording.store: layer 'core' may not import "
        "layer 'provenance' (above it)",
    ]
