"""What a record says about the process: interpreter, machine, imported package versions.

Everything here is read from the running interpreter: no subprocess, no network. (Sumatra's
own probe connects to an outside address on every record and scans dependencies in
subprocesses; neither is used.)
"""

from __future__ import annotations

import os
import re
import struct
import sys
from functools import cache
from types import ModuleType
from typing import Any


@cache
def executable() -> dict[str, str]:
    return {
        "path": sys.executable,
        "name": "Python",
        "version": _python_version(),
        "options": "",
    }


def _python_version() -> str:
    """What ``platform.python_version()`` gives (the first word of ``sys.version``), without
    importing ``platform`` (~5 ms)."""
    first = sys.version.split(" ", 1)[0]
    if first[:1].isdigit():
        return first
    import platform

    return platform.python_version()


@cache
def platform_info() -> dict[str, str]:
    """The fields of Sumatra's PlatformInformation, without any network lookup (from
    ``os.uname()`` where there is one: what ``platform`` reads there)."""
    bits = f"{struct.calcsize('P') * 8}bit"
    linkage = {"linux": "ELF", "darwin": "Mach-O", "win32": "WindowsPE"}.get(sys.platform, "")
    if hasattr(os, "uname") and sys.platform in ("linux", "darwin"):
        u = os.uname()
        system, node, release, version, machine = (
            u.sysname,
            u.nodename,
            u.release,
            u.version,
            u.machine,
        )
    else:  # pragma: no cover - other systems: platform's own names
        import platform

        system, node, release, version, machine = (
            platform.system(),
            platform.node(),
            platform.release(),
            platform.version(),
            platform.machine(),
        )
    return {
        "architecture_bits": bits,
        "architecture_linkage": linkage,
        "machine": machine,
        "network_name": node,
        "ip_addr": "127.0.0.1",  # finding the real one would need DNS, i.e. the network
        "processor": _processor(machine),
        "release": release,
        "system_name": system,
        "version": version,
    }


def _processor(machine: str) -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return machine


class Dependencies:
    """Versions of the packages imported so far (top-level modules that come from a
    distribution), recomputed only when new modules have been imported."""

    def __init__(self) -> None:
        self._seen_modules = -1
        self._names: frozenset[str] = frozenset()
        self._found: dict[str, dict[str, Any] | None] = {}
        self._by_module: dict[str, list[str]] | None = None
        self._list: list[dict[str, Any]] = []

    def current(self) -> list[dict[str, Any]]:
        if len(sys.modules) == self._seen_modules:
            return self._list
        self._seen_modules = len(sys.modules)
        names = frozenset(
            n
            for n in list(sys.modules)
            if "." not in n and not n.startswith("_") and n not in sys.stdlib_module_names
        )
        if names != self._names:
            self._names = names
            deps = (self._describe(n) for n in sorted(names))
            self._list = [d for d in deps if d is not None]
        return self._list

    def _describe(self, name: str) -> dict[str, Any] | None:
        if name in self._found:
            return self._found[name]
        module = sys.modules.get(name)
        path = _module_path(module)
        found: dict[str, Any] | None = None
        version = self._version(name, module, path) if path else None
        if version is not None:
            found = {"name": name, "path": path, "version": version}
        self._found[name] = found
        return found

    def _version(self, name: str, module: ModuleType | None, path: str) -> str | None:
        found = _DIST_INFO.version(name)
        if found is _ASK:
            import importlib.metadata as metadata  # 20-150 ms to import: only when needed

            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                pass
        elif isinstance(found, str):
            return found
        if not _INSTALLED.intersection(path.split(os.sep)):
            return None  # the project's own code: its version is the commit
        import importlib.metadata as metadata

        if self._by_module is None:
            self._by_module = dict(metadata.packages_distributions())
        for dist in self._by_module.get(name, ()):
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
        own = getattr(module, "__version__", None)
        return own if isinstance(own, str) else None


_INSTALLED = frozenset({"site-packages", "dist-packages"})

_ASK = object()  # the index cannot tell: ask importlib.metadata


class _DistInfoIndex:
    """``importlib.metadata.version(name)`` without importing importlib.metadata (which costs
    more than the rest of a recorded run): the ``*.dist-info`` folders of ``sys.path``, listed
    once, and the ``Version:`` line of the one found first for `name`. Anything else (an
    ``.egg-info``, a zip on ``sys.path``, an unreadable METADATA) is left to importlib.metadata.
    """

    def __init__(self) -> None:
        self._path: list[str] | None = None
        self._first: dict[str, str | None] = {}  # name -> its dist-info folder (None: egg-info)
        self._usable = True

    def version(self, name: str) -> object:
        """The version, None if no distribution has that name, or `_ASK`."""
        if self._path != sys.path:
            self._scan()
        if not self._usable:
            return _ASK
        key = _normal(name)
        if key not in self._first:
            return None
        folder = self._first[key]
        if folder is None:
            return _ASK
        try:
            with open(os.path.join(folder, "METADATA"), encoding="utf-8") as f:
                for line in f:
                    if line.startswith("Version:"):
                        return line[len("Version:") :].strip()
                    if not line.strip():
                        break  # the end of the headers
        except OSError:
            pass
        return _ASK

    def _scan(self) -> None:
        self._path = list(sys.path)
        self._first, self._usable = {}, True
        for entry in self._path:
            folder = entry or "."
            try:
                names = os.listdir(folder)
            except NotADirectoryError:  # a zip file: importlib.metadata reads those
                self._usable = False
                return
            except OSError:
                continue
            for n in names:
                if n.endswith((".dist-info", ".egg-info", ".egg")):
                    found = os.path.join(folder, n) if n.endswith(".dist-info") else None
                    self._first.setdefault(_normal(n.rsplit(".", 1)[0].partition("-")[0]), found)


def _normal(name: str) -> str:
    """A distribution name as importlib.metadata compares them."""
    return re.sub(r"[-_.]+", "_", name).lower()


_DIST_INFO = _DistInfoIndex()


def _module_path(module: ModuleType | None) -> str:
    if module is None:
        return ""
    paths = getattr(module, "__path__", None)
    if paths:
        try:
            return str(next(iter(paths)))
        except (StopIteration, TypeError):
            return ""
    file = getattr(module, "__file__", None)
    return os.path.dirname(file) if isinstance(file, str) else ""


def installed_version(name: str) -> str | None:
    """The version installed now of the top-level package imported as `name`, as a record's
    dependencies give it (they list import names: ``yaml``, ``dateutil``), found the same way
    as when recording, without importing it. None: no distribution provides it (e.g. the
    project's own code, or it is not installed)."""
    found = _DIST_INFO.version(name)
    if isinstance(found, str):
        return found
    import importlib.metadata as metadata

    if found is _ASK:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    for dist in metadata.packages_distributions().get(name, ()):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None
