"""Creating a Sumatra project (what ``smt init`` does, with checked defaults).

The project is created in a folder of a git repository: ``.smt/project`` names the
repository, the output data store (default ``data/run_dump``), the input data store
(default ``data``) and the record store (default: SQLite in ``.smt/records``; or a
PostgreSQL URI). The record store's tables are created at once, before any run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..errors import ProjectError
from ..fileio import write_atomic
from .address import SQLITE, classify, has_password
from .gitignore import add_lines, relative_folder
from .gitstate import locate
from .projectfile import (
    DIRTY_KEY,
    PROJECT_FILE_LINE,
    ProjectInfo,
    find_project,
    keep_secret,
    relative_paths,
    write_settings,
)

NAME_PATTERN = re.compile(r"^\w[\w\- ]*$")
#: Written to .smt/.gitignore: the record store and journals must never be committed
#: (each record would make the repository "dirty").
SMT_GITIGNORE = "records*\njournal/\n.records.lock\nlabels\n*_export.json\n"
#: The default record store, as `smttask project init` shows it (relative to the project).
DEFAULT_STORE = ".smt/records"


@dataclass(frozen=True)
class InitOptions:
    name: str
    input_dir: str = str(config.DEFAULT_INPUT_DIR)
    output_dir: str = str(config.DEFAULT_OUTPUT_DIR)
    store: str | None = None  # an address (see `address`); None: SQLite in .smt/records
    dirty_dirs: tuple[str, ...] = ()


def default_name(root: Path) -> str:
    """The folder's name, made into a valid Sumatra project name."""
    name = re.sub(r"[^\w\- ]", "-", root.name).strip("- ")
    return name if name and NAME_PATTERN.match(name) else "project"


def check_can_init(root: Path) -> Path:
    """Raise ProjectError if a project cannot be created in `root`; return the git root."""
    if os.path.lexists(root / ".smt" / "project"):
        raise ProjectError(
            f"{root} already holds a Sumatra project ({root / '.smt' / 'project'}). Change its "
            f"settings with `smttask smt configure`, or move .smt aside to start over."
        )
    repo_root, _ = locate(root)
    return repo_root


def init_project(root: Path, options: InitOptions) -> ProjectInfo:
    """Create the Sumatra project in `root` (see the module docstring)."""
    root = root.resolve()
    repo_root = check_can_init(root)
    if not NAME_PATTERN.match(options.name):
        raise ProjectError(
            f"Invalid project name {options.name!r}: use letters, digits, '_', '-' and spaces, "
            f"starting with a letter or digit (e.g. {default_name(root)!r})."
        )
    address = classify(options.store or str(root / ".smt" / "records"), base=root)
    store = address.location
    if address.kind == SQLITE:
        store = str(Path(store).resolve())
    inputs, outputs = root / options.input_dir, root / options.output_dir
    smt_existed = (root / ".smt").exists()
    info = ProjectInfo(root, options.name, store, address.kind, inputs, outputs, options.dirty_dirs)
    try:
        (root / ".smt").mkdir(exist_ok=True)
        write_atomic(root / ".smt" / ".gitignore", SMT_GITIGNORE.encode(), fsync=False)
        from .store import backend

        backend(info)  # fails early if the store is unreachable; creates its tables
        _write_project(root, repo_root, info)
        relative_paths(root)  # the project can move, or sit at another path on each node
        if options.dirty_dirs:
            write_settings(root, {DIRTY_KEY: list(options.dirty_dirs)})
    except BaseException:
        if not smt_existed:
            shutil.rmtree(root / ".smt", ignore_errors=True)
        raise
    config.forget_project_root()
    found = find_project(root)
    assert found is not None
    keep_secret(root)  # a password in the address: .smt/project for its owner only, ignored
    return found


def ignore_in_git(info: ProjectInfo) -> list[str]:
    """Add to the project's ``.gitignore`` the lines it lacks (its data stores, those inside
    it; ``/build/``; ``/.snakemake/``; ``/.smt/project`` if the store address holds a
    password), keeping the user's own lines; return the lines added."""
    root = info.root
    lines = [relative_folder(root, info.input_root)]
    if not Path(info.output_root).is_relative_to(info.input_root):
        lines.append(relative_folder(root, info.output_root))
    wanted = [x for x in lines if x] + ["/build/", "/.snakemake/"]
    if has_password(info.store):
        wanted.append(PROJECT_FILE_LINE)
    return add_lines(root, wanted)


def _write_project(root: Path, repo_root: Path, info: ProjectInfo) -> None:
    from .sumatraload import without_scipy

    with without_scipy():  # see sumatraload
        from sumatra.datastore import FileSystemDataStore
        from sumatra.launch import SerialLaunchMode
        from sumatra.projects import Project
        from sumatra.recordstore.django_store import DjangoRecordStore
        from sumatra.versioncontrol._git import GitRepository

    record_store = DjangoRecordStore.__new__(DjangoRecordStore)
    record_store._db_file = info.store
    record_store._db_label = "default"
    with _in_folder(root), contextlib.redirect_stdout(io.StringIO()):
        Project(
            name=info.name,
            default_repository=GitRepository(str(repo_root)),
            default_launch_mode=SerialLaunchMode(working_directory=str(root)),
            data_store=FileSystemDataStore(str(info.output_root)),
            input_datastore=FileSystemDataStore(str(info.input_root)),
            record_store=record_store,
            on_changed="error",
        )


@contextlib.contextmanager
def _in_folder(folder: Path) -> Iterator[None]:
    # Sumatra's Project() writes .smt/ into the working directory.
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)
