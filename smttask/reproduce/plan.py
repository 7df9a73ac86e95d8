"""What re-running a record needs, read and checked from the record store before anything
is checked out: its task description and commit, where its module is imported from, the
files of its outputs, and the stored results it read.

Refusals (``ReproductionError``, reported as "could not run") name the record and the fix.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..errors import ProjectError, ReproductionError
from ..recording import fields
from ..recording.context import installed_version
from ..recording.gitstate import locate
from ..recording.lineage import Used, used
from ..taskfile import FORMAT_KEY
from .worktree import has_commit

if TYPE_CHECKING:
    from ..recording.api import RecordStore


@dataclass
class Plan:
    label: str
    task: str  # module.task
    commit: str
    repo: Path  # the repository's working tree
    project: PurePosixPath  # the project folder, relative to the repository
    import_roots: list[PurePosixPath]  # relative to the repository
    desc: dict[str, Any]
    outputs: list[dict[str, Any]]  # output, path, digest, file (the recorded file, if intact)
    inputs: list[dict[str, Any]]  # path, digest, role, source (a checked file, or None)
    prior: list[dict[str, Any]]  # label, desc, run: earlier iterations, oldest first
    notes: list[str] = field(default_factory=list)


def plan(store: RecordStore, label: str, *, use_recorded_inputs: bool) -> Plan:
    record = store.record(label)
    if record is None:
        raise ReproductionError(
            f"No record labelled {label!r} in {store.info.store}. List the labels with "
            f"`smttask smt list`."
        )
    desc = _desc(record, label)
    commit = record.get("version") or ""
    state = set(record.get("tags") or ())
    if fields.FINISHED not in state:
        raise ReproductionError(
            f"Record {label} did not finish (tags {sorted(state)}; {record.get('outcome')}), "
            f"so it has no outputs to compare. Reproduce a finished record."
        )
    if not commit:
        raise ReproductionError(
            f"Record {label} names no commit (a surrogate record, made for results computed "
            f"without recording), so its code cannot be checked out."
        )
    try:
        repo = locate(store.info.root)[0]
    except ProjectError as exc:
        raise ReproductionError(str(exc)) from None
    if not has_commit(repo, commit):
        raise ReproductionError(
            f"The commit {commit} of record {label} is not in the repository {repo}: it was "
            f"removed (a rebase, an amended commit, garbage collection) or never fetched "
            f"here. Fetch it (`git fetch origin {commit}`) or restore the branch that held "
            f"it, then reproduce again."
        )
    outputs, notes = _outputs(record, label)
    reads = used(store, label)
    inputs = [_input(record, u, store, use_recorded_inputs) for u in reads]
    project = PurePosixPath(Path(os.path.relpath(store.info.root, repo)).as_posix())
    return Plan(
        label=label,
        task=str(record.get("script_arguments") or ""),
        commit=commit,
        repo=repo,
        project=project,
        import_roots=_import_roots(record, desc, project),
        desc=desc,
        outputs=outputs,
        inputs=inputs,
        prior=_prior(store, label, reads, run=not use_recorded_inputs),
        notes=notes + _environment_notes(record),
    )


def _desc(record: Mapping[str, Any], label: str) -> dict[str, Any]:
    desc = record.get("parameters")
    if not isinstance(desc, dict) or FORMAT_KEY not in desc:
        raise ReproductionError(
            f"Record {label} holds no task description (a surrogate record made without the "
            f"task's file), so its task cannot be re-run."
        )
    return desc


def _outputs(record: Mapping[str, Any], label: str) -> tuple[list[dict[str, Any]], list[str]]:
    keys = record.get("output_data") or []
    if not keys:
        raise ReproductionError(f"Record {label} stored no output: there is nothing to compare.")
    root = Path(record.get("datastore") or "")
    outputs, notes = [], []
    for key in keys:
        path = root / key["path"]
        intact = path.is_file() and sha1(path) == key["digest"]
        if not intact:
            notes.append(
                f"the recorded file {path} is gone or changed since: its output is compared "
                f"by the recorded SHA-1 only, without figures"
            )
        metadata = key.get("metadata") or {}
        output = metadata.get("output")
        folder = metadata.get("folder")  # a file of an OutputDir result: its place inside
        inside = str(PurePosixPath(key["path"]).relative_to(folder)) if folder else ""
        if output is None:
            from ..storage import parse

            name = parse(PurePosixPath(key["path"]).name)
            output = name.output if name is not None else ""
        outputs.append(
            {
                "output": str(output),
                "path": key["path"],
                "digest": key["digest"],
                "file": str(path) if intact else None,
                "inside": inside,
            }
        )
    return outputs, notes


def _input(
    record: Mapping[str, Any], item: Used, store: RecordStore, use_recorded: bool
) -> dict[str, Any]:
    entry = {"path": item.path, "digest": item.digest, "role": item.role, "source": None}
    if use_recorded:
        entry["source"] = str(_recorded_file(record, item, store))
    return entry


def _recorded_file(record: Mapping[str, Any], item: Used, store: RecordStore) -> Path:
    """A file that holds the recorded input now (its SHA-1 checked)."""
    input_root = Path(record.get("input_datastore") or store.info.input_root)
    output_root = Path(record.get("datastore") or store.info.output_root)
    places = [input_root / item.path]
    if item.archive:
        places.append(output_root / item.archive)
    for label in item.producers:
        places += [output_root / k.path for k in store.outputs(label) if k.digest == item.digest]
    for place in places:
        if place.is_file() and sha1(place) == item.digest:
            return place
    raise ReproductionError(
        f"The stored result {item.path} that record {record['label']} read (SHA-1 "
        f"{item.digest}) is no longer on disk with that content (looked at "
        f"{', '.join(map(str, dict.fromkeys(places)))}). Reproduce without "
        f"--use-recorded-inputs to compute it again."
    )


def _prior(store: RecordStore, label: str, reads: list[Used], *, run: bool) -> list[dict[str, Any]]:
    """The earlier iterations the record resumed from, oldest first: with `run`, the whole
    chain (each re-run in turn), else the one it started from (its files are placed)."""
    chain: list[dict[str, Any]] = []
    seen = {label}
    current, items = label, reads
    while True:
        resumed = [u for u in items if u.role == fields.RESUMED]
        if not resumed:
            return chain
        producer = resumed[0].producer
        if producer is None or producer in seen:
            raise ReproductionError(
                f"Record {current} resumed from {resumed[0].path}, which no record in the "
                f"store produced, so that earlier iteration cannot be computed again. "
                f"Reproduce with --use-recorded-inputs to start from its file."
            )
        earlier = store.record(producer) or {}
        chain.insert(0, {"label": producer, "desc": _desc(earlier, producer), "run": run})
        if not run:
            return chain
        seen.add(producer)
        current, items = producer, used(store, producer)


def _import_roots(
    record: Mapping[str, Any], desc: Mapping[str, Any], project: PurePosixPath
) -> list[PurePosixPath]:
    """The folders (relative to the repository) the task's modules are imported from: the
    one holding the task module's top package (from its file and name), then the project."""
    roots = []
    main, module = str(record.get("main_file") or ""), str(desc.get("module") or "")
    path, parts = PurePosixPath(main), module.split(".")
    names = [*path.parent.parts] if path.name == "__init__.py" else [*path.parent.parts, path.stem]
    if main and not path.is_absolute() and names[-len(parts) :] == parts:
        roots.append(PurePosixPath(*names[: len(names) - len(parts)]))
    roots.append(project)
    return list(dict.fromkeys(roots))


def _environment_notes(record: Mapping[str, Any]) -> list[str]:
    """Packages whose installed version is not the recorded one (they may explain a
    difference: the re-run uses this environment)."""
    changed = []
    for dep in record.get("dependencies") or ():
        name, version = dep.get("name"), str(dep.get("version") or "")
        if not name or not version:
            continue
        now = installed_version(name)
        if now is None:
            # A record names imported packages; one no distribution provides now may still be
            # importable (its own __version__ was recorded): only a missing one is a change.
            now = "not installed" if importlib.util.find_spec(name) is None else version
        if now != version:
            changed.append(f"{name} {version} → {now}")
    if not changed:
        return []
    shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
    return [f"the re-run uses this environment, whose packages differ from the record's: {shown}"]


def sha1(path: Path) -> str:
    return fields.sha1_of(str(path))[0]
