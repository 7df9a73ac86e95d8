"""The Sumatra project of a folder, read from its ``.smt/`` files (plain JSON, no Sumatra).

``.smt/project`` is Sumatra's own file (name, data stores, record store). smttask keeps its
project settings beside it in ``.smt/smttask.json``::

    {"dirty_directories": ["reports", "notes"]}

(``dirty_directories`` is also read from ``.smt/project`` itself, where earlier versions of
smttask kept it; Sumatra drops unknown keys from that file when it rewrites it.)

Paths inside the project folder are stored relative to it (``relative_paths``), so the
project can be moved, or mounted at another path on each cluster node; absolute paths
written by Sumatra or by earlier versions of smttask are read as they are.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import config
from ..errors import ProjectError
from ..fileio import write_atomic
from ..jsonparse import read_json_file
from .address import OTHER, SHELVE, SQLITE, UNSUPPORTED, classify, has_password, masked

SETTINGS_FILE = "smttask.json"
DIRTY_KEY = "dirty_directories"


@dataclass(frozen=True)
class ProjectInfo:
    root: Path
    name: str
    store: str  # SQLite file path, or a postgresql:// / mysql:// URI
    kind: str  # address.DATABASE_KINDS, or "shelve" | "other" | "unsupported" (refused)
    input_root: Path
    output_root: Path
    project_dirty_dirs: tuple[str, ...]  # from the project files (not from config)

    @property
    def shown_store(self) -> str:
        """The record store's address as messages show it: its password masked."""
        return masked(self.store)

    @property
    def smt_dir(self) -> Path:
        return self.root / ".smt"

    @property
    def dirty_dirs(self) -> tuple[str, ...]:
        """Dirty directories from the project files and from `config.settings.dirty_dirs`."""
        extra = tuple(d for d in config.settings.dirty_dirs if d not in self.project_dirty_dirs)
        return self.project_dirty_dirs + extra


_cache: dict[Path, tuple[tuple[int, int], ProjectInfo]] = {}


_files: dict[Path, tuple[str, str]] = {}  # root -> its two project files, as text


def find_project(root: Path) -> ProjectInfo | None:
    """The Sumatra project whose ``.smt/project`` is in `root`, or None if there is none.
    Asked before every recorded task: two ``stat`` calls, the files read only when changed."""
    files = _files.get(root)
    if files is None:
        files = _files[root] = (str(root / ".smt" / "project"), str(root / ".smt" / SETTINGS_FILE))
    stamp = (_mtime(files[0]), _mtime(files[1]))
    if stamp[0] < 0:
        return None
    cached = _cache.get(root)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    info = _read(root, Path(files[0]))
    _cache[root] = (stamp, info)
    return info


def store_info(address: str) -> ProjectInfo:
    """A ProjectInfo for a bare record store (an SQLite file or a database URI, see
    `address.classify`), outside any project folder."""
    found = classify(address)
    here = Path(".")
    return ProjectInfo(here, "", found.location, found.kind, here, here, ())


def require_project(root: Path | None = None) -> ProjectInfo:
    root = root or config.project_root()
    info = find_project(root)
    if info is None:
        raise ProjectError(
            f"No Sumatra project in {root} (no .smt/project). Run `smttask project init` there "
            f"(in the git repository holding your code), or change to the project folder."
        )
    return info


#: The project's own .gitignore line for Sumatra's project file, when it holds a password.
PROJECT_FILE_LINE = "/.smt/project"


def keep_secret(root: Path) -> bool:
    """If the project in `root` names its record store with a password: make ``.smt/project``
    (and Sumatra's exports of it, ``.smt/*_export.json``) readable by their owner only, and
    list ``.smt/project`` in the project's ``.gitignore``. Return whether it has a password."""
    info = find_project(root)
    if info is None or not has_password(info.store):
        return False
    for path in [root / ".smt" / "project", *(root / ".smt").glob("*_export.json")]:
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
                os.chmod(path, 0o600)
        except FileNotFoundError:
            continue
    from .gitignore import add_lines

    add_lines(root, [PROJECT_FILE_LINE])
    return True


def _mtime(path: str | Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _read(root: Path, project_file: Path) -> ProjectInfo:
    try:
        data = read_json_file(project_file)
        name = str(data["name"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProjectError(
            f"Cannot read the Sumatra project file {project_file}: {exc}. Restore it, or "
            f"re-create the project (move .smt aside, then `smttask project init`)."
        ) from None
    store, kind = _store(data.get("record_store"), root)
    stores = _data_roots(root, data) or (
        root / config.DEFAULT_INPUT_DIR,
        root / config.DEFAULT_OUTPUT_DIR,
    )
    dirty = [*_as_list(data.get(DIRTY_KEY)), *_as_list(read_settings(root).get(DIRTY_KEY))]
    return ProjectInfo(
        root=root,
        name=name,
        store=store,
        kind=kind,
        input_root=stores[0],
        output_root=stores[1],
        project_dirty_dirs=tuple(dict.fromkeys(d.strip("/") for d in dirty if d.strip("/"))),
    )


_roots_cache: dict[str, tuple[int, tuple[Path, Path] | None]] = {}


def data_roots(root: Path) -> tuple[Path, Path] | None:
    """(input, output) data stores that the project in `root` names, if it names both.

    Reads only ``.smt/project`` (cached by its modification time): this is on the path of
    every first cache hit."""
    path = os.path.join(root, ".smt", "project")
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    cached = _roots_cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        data = read_json_file(path)
    except (OSError, ValueError):
        data = None
    roots = _data_roots(root, data) if isinstance(data, dict) else None
    _roots_cache[path] = (mtime, roots)
    return roots


def _data_roots(root: Path, data: dict[str, Any]) -> tuple[Path, Path] | None:
    try:
        found = [(data.get(k) or {}).get("root") for k in ("input_datastore", "data_store")]
    except AttributeError:
        return None
    paths = [f for f in found if isinstance(f, str) and f]
    if len(paths) != 2:
        return None
    roots = (root / Path(paths[0]).expanduser(), root / Path(paths[1]).expanduser())
    if any(r == Path(r.anchor) for r in roots):
        return None  # `smt init` without -i reads inputs from "/": not a data store
    return roots


def _store(spec: Any, root: Path) -> tuple[str, str]:
    if not isinstance(spec, dict):
        return str(root / ".smt" / "records"), SQLITE
    kind = str(spec.get("type", ""))
    if kind.endswith("DjangoRecordStore"):
        uri = str(spec.get("db_file") or root / ".smt" / "records")
        try:
            address = classify(uri, base=root)
        except ProjectError:
            return uri, UNSUPPORTED  # refused when the store is used, with the same message
        return address.location, address.kind
    if kind.endswith("ShelveRecordStore"):
        return str(spec.get("shelf_name", "")), SHELVE
    return str(spec), OTHER


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def read_settings(root: Path) -> dict[str, Any]:
    path = root / ".smt" / SETTINGS_FILE
    try:
        data = read_json_file(path)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ProjectError(
            f"Cannot read smttask's project settings {path}: {exc}. Fix the JSON or delete "
            f"the file (it only lists dirty directories)."
        ) from None
    return data if isinstance(data, dict) else {}


def write_settings(root: Path, data: dict[str, Any]) -> None:
    path = root / ".smt" / SETTINGS_FILE
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def set_dirty_dirs(
    root: Path, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()
) -> list[str]:
    """Edit the dirty directories listed in ``.smt/smttask.json``; return the new list."""
    require_project(root)
    data = read_settings(root)
    current = [d.strip("/") for d in _as_list(data.get(DIRTY_KEY))]
    for d in add:
        d = _relative(root, d)
        if d not in current:
            current.append(d)
    gone = {_relative(root, d) for d in remove}
    current = [d for d in current if d not in gone]
    data[DIRTY_KEY] = current
    write_settings(root, data)
    return current


def _relative(root: Path, folder: str) -> str:
    path = Path(folder)
    if path.is_absolute() or folder.startswith("."):
        try:
            path = path.resolve().relative_to(root.resolve())
        except ValueError:
            raise ProjectError(
                f"Dirty directory {folder} is not inside the project {root}. Give a folder of "
                f"the project, relative to {root}."
            ) from None
    text = path.as_posix().strip("/")
    if not text or text == ".":
        raise ProjectError(
            f"Dirty directory {folder!r} would be the whole project {root}: then no change "
            f"would ever block a recorded run. Name a sub-folder (e.g. reports)."
        )
    return text


#: The path fields of ``.smt/project``: (section, key).
PATH_FIELDS = (
    ("default_repository", "url"),
    ("default_launch_mode", "working_directory"),
    ("data_store", "root"),
    ("input_datastore", "root"),
    ("record_store", "db_file"),
)


def relative_paths(root: Path) -> bool:
    """Rewrite the absolute paths inside `root` in its ``.smt/project`` relative to `root`
    (URIs and paths elsewhere stay as they are). Return whether the file changed."""
    path = root / ".smt" / "project"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    real = root.resolve()
    changed = False
    for section, key in PATH_FIELDS:
        part = data.get(section)
        value = part.get(key) if isinstance(part, dict) else None
        if not isinstance(value, str) or "://" in value or not os.path.isabs(value):
            continue
        try:
            relative = Path(os.path.realpath(value)).relative_to(real)
        except ValueError:
            continue
        part[key] = relative.as_posix() if relative.parts else "."
        changed = True
    if changed:
        text = json.dumps(data, indent=2) + "\n"
        write_atomic(path, text.encode(), fsync=False)
        if has_password(str((data.get("record_store") or {}).get("db_file", ""))):
            os.chmod(path, 0o600)
    return changed
