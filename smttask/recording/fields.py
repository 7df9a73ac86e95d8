"""The fields of a record that come from the task and its files (no Sumatra import).

A record is kept as a plain JSON-compatible dict (in the journal, and until it is stored)
whose keys are the attribute names of ``sumatra.records.Record``; ``docs/recording.md``
describes each one.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import hooks
from ..errors import RecordingError
from ..filehash import sha1_of
from ..storage.folders import MANIFEST
from .utctime import iso_utc, utc_texts

if TYPE_CHECKING:
    from ..task import Task

#: The tag of each status (Sumatra's `_status_` convention).
RUNNING, FINISHED, CRASHED, KILLED = "_running_", "_finished_", "_crashed_", "_killed_"
SURROGATE = "_surrogate_"

#: Environment variable naming the attempt (1, 2, ...) of the run being recorded: a workflow
#: engine that retries a failed job sets it (``smttask run --attempt N`` does).
ATTEMPT_ENV = "SMTTASK_ATTEMPT"


def attempt_tags() -> list[str]:
    """``["attempt:<n>"]`` if ``SMTTASK_ATTEMPT`` names the attempt of this run, else ``[]``."""
    raw = os.environ.get(ATTEMPT_ENV, "").strip()
    if not raw:
        return []
    if not raw.isdigit() or int(raw) < 1:
        raise RecordingError(
            f"{ATTEMPT_ENV}={raw!r} is not an attempt number: set it to 1 for a first run, 2 "
            f"for its first retry, and so on (or unset it)."
        )
    return [f"attempt:{int(raw)}"]


def new_label(task_name: str, second: int) -> str:
    """`<UTC date-time>_<task name>_<random>` for a task started in `second` (seconds since
    the epoch): unique even for tasks started in the same second by many processes (a
    timestamp alone collides)."""
    return f"{utc_texts(second)[1]}_{_label_name(task_name)}_{os.urandom(4).hex()}"


@functools.lru_cache(maxsize=1024)
def _label_name(task_name: str) -> str:
    return re.sub(r"\W", "_", task_name)[:40] or "task"


def module_file(task: Task) -> str | None:
    """Absolute path of the file defining `task`'s type (None if it has no file)."""
    module = sys.modules.get(task._spec.module)
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    return _absolute(file) if os.path.isabs(file) else os.path.abspath(file)


@functools.lru_cache(maxsize=1024)
def _absolute(file: str) -> str:
    return os.path.abspath(file)  # of an absolute path: the same for any working directory


def main_file(path: str | None, repo_root: Path) -> str:
    """`path` relative to the repository (absolute if outside it; '' if unknown). Resolved
    once per process for each module file and repository (symbolic links followed)."""
    if not path:
        return ""
    return _main_file(path, os.fspath(repo_root))


@functools.lru_cache(maxsize=1024)
def _main_file(path: str, repo_root: str) -> str:
    real, root = os.path.realpath(path), os.path.realpath(repo_root)
    if real == root or real.startswith(root + os.sep):
        return Path(os.path.relpath(real, root)).as_posix()
    return real


#: What ``os.path.relpath`` would normalise in a path: ``//``, ``/./``, ``/../``, a trailing dot.
_UNNORMAL = re.compile(r"//|/\.\.?(/|$)")


def data_key(
    path: str | Path,
    root: str | Path,
    output: str | None = None,
    extra: Mapping[str, Any] | None = None,
    st: os.stat_result | None = None,
) -> dict[str, Any]:
    """Sumatra's DataKey for file `path`, named relative to the data store `root`; `extra`
    goes into its metadata (`st`: the file's ``os.stat``, if the caller has it)."""
    path, top = os.fspath(path), os.fspath(root)
    digest, st = sha1_of(path, st)
    if os.sep == "/" and path.startswith(top.rstrip("/") + "/") and not _UNNORMAL.search(path):
        rel = path[len(top.rstrip("/")) + 1 :]  # (what relpath gives, without its work)
    else:
        rel = os.path.relpath(path, root)
        if rel.startswith(".." + os.sep):
            rel = os.path.abspath(path)
    mimetype, encoding = _file_type(os.path.basename(path))
    metadata: dict[str, Any] = {"encoding": encoding, "mimetype": mimetype, "size": st.st_size}
    if output is not None:
        metadata["output"] = output
    metadata.update(extra or {})
    return {
        "path": rel if os.sep == "/" else Path(rel).as_posix(),
        "digest": digest,
        "creation": iso_utc(int(st.st_mtime)),
        "metadata": metadata,
    }


def _file_type(name: str) -> tuple[str | None, str | None]:
    """``mimetypes.guess_type`` of the file name `name`, which reads only its extensions:
    asked once per extension. The extensions of smttask's own formats are answered from
    Python's built-in table without asking (``mimetypes`` reads the system's tables first)."""
    dot = name.find(".")
    ext = name[dot:] if dot > 0 else name
    known = _OWN_TYPES.get(ext)
    return known if known is not None else _guess_type("file" + ext if dot > 0 else name)


#: What ``mimetypes.guess_type`` answers, from Python's own table, for the files smttask
#: writes (results, folder manifests).
_OWN_TYPES: dict[str, tuple[str | None, str | None]] = {
    ".json": ("application/json", None),
    ".npy": (None, None),
    ".nc": ("application/x-netcdf", None),
    ".txt": ("text/plain", None),
}


@functools.lru_cache(maxsize=256)
def _guess_type(name: str) -> tuple[str | None, str | None]:
    import mimetypes  # (reads the system's type tables: only when a record lists outputs)

    return mimetypes.guess_type(name)


def output_keys(outputs: Mapping[str, Path], output_root: str) -> list[dict[str, Any]]:
    """One key per output file; an output that is a folder (``OutputDir``) gets one key per
    file in it, with metadata ``folder`` (the folder, relative to `output_root`)."""
    keys = []
    for name, p in outputs.items():
        st = os.stat(p)
        if stat.S_ISDIR(st.st_mode):
            folder = Path(os.path.relpath(p, output_root)).as_posix()
            for file in _files_in(Path(p)):
                keys.append(data_key(file, output_root, name, {"folder": folder}))
        else:
            keys.append(data_key(p, output_root, name, st=st))
    return keys


def _files_in(folder: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        found.extend(Path(dirpath, f) for f in sorted(filenames))
    return found


#: The ``role`` of an input key: a result of a recorded task upstream, or the earlier
#: iteration an iterative task resumed from.
UPSTREAM, RESUMED = "upstream", "resumed"


def input_keys(
    task: Task, input_root: str, output_root: str | None = None, resumed_from: Task | None = None
) -> list[dict[str, Any]]:
    """Keys of the stored results an execution of `task` reads: those of the recorded tasks
    upstream of it (directly or through memoized ones), then those of the earlier iteration
    `resumed_from`. Each names the file as the task reads it (its link, else its archive),
    relative to the input store, with metadata ``output`` (the producing task's output name),
    ``role`` (`UPSTREAM` or `RESUMED`) and ``archive`` (the archived file it resolves to,
    relative to `output_root`, when it lies there)."""
    store = hooks.current().outputs
    sources = [(t, UPSTREAM) for t in recorded_upstream(task)]
    if resumed_from is not None:
        sources.append((resumed_from, RESUMED))
    keys, seen = [], set()
    for source, role in sources:
        archives = store.archive_paths(source)
        for name, link in store.paths(source).items():
            path = link if os.path.exists(link) else archives.get(name)  # what load() reads
            if path is None or not os.path.exists(path):
                continue
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            extra: dict[str, Any] = {"role": role}
            if output_root is not None:
                archive = os.path.relpath(real, os.path.realpath(output_root))
                if not archive.startswith(".." + os.sep) and archive != "..":
                    extra["archive"] = Path(archive).as_posix()
            if os.path.isdir(path):  # an OutputDir: its manifest hashes every file in it
                path = Path(path, MANIFEST)
                extra["folder"] = Path(os.path.relpath(real, input_root)).as_posix()
            keys.append(data_key(path, input_root, name, extra))
    return keys


def recorded_upstream(task: Task) -> Iterable[Task]:
    """The recorded tasks upstream of `task`, directly or through memoized ones (each once)."""
    seen: set[int] = set()
    stack = list(reversed(task.upstream()))
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if type(t).recorded:
            yield t
        else:
            stack.extend(reversed(t.upstream()))


def error_text(error: BaseException) -> str:
    """`Type: message` of the exception the task's function raised."""
    cause = error.__cause__ if error.__cause__ is not None else error
    return f"{type(cause).__name__}: {cause}"


#: The platform fields of a record (one entry of its ``platforms``), as Sumatra stores them.
PLATFORM_FIELDS = (
    "architecture_bits",
    "architecture_linkage",
    "machine",
    "network_name",
    "ip_addr",
    "processor",
    "release",
    "system_name",
    "version",
)
