"""The re-run itself, in its own process: ``python -m smttask.reproduce.child REQUEST RESULT``,
or ``... child --wait``, which imports smttask first and then reads ``[REQUEST, RESULT]`` as
one JSON line from its input (see ``spawn``).

The process starts in the checked-out commit's project folder (or, waiting, moves there when
the request comes: working folder, first ``sys.path`` entry, ``SMTTASK_PROJECT_ROOT``, before
any setting is read). It makes that worktree the
only place the project's modules are imported from (``sys.path``), rebuilds the task from
the recorded description, runs it (and what it needs) with recording off in a session whose
data stores are a temporary folder, and writes what it found as JSON to RESULT. It refuses,
instead of running, when a module of the task is imported from anywhere but the worktree.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import smttask

from .. import config, hooks
from ..errors import ReproductionError, SmttaskError, TaskExecutionError
from ..recording.fields import recorded_upstream, sha1_of
from ..session import open_session
from ..storage import decode_output
from ..task import Task
from ..taskfile import task_modules
from .compare import difference
from .model import DIFFERS, IDENTICAL, WITHIN, InputResult, OutputResult, Tolerance


class _Seen:
    """A recorder that writes no record: it notes the files each executed task saved."""

    def __init__(self) -> None:
        self.saved: dict[str, dict[str, Path]] = {}

    def guard(self, task: Task) -> None:
        return None

    def begin(
        self, task: Task, *, reason: str | None, resumed_from: Task | None = None
    ) -> hooks.RecordHandle:
        return _Noted(self, task.key)


class _Noted:
    def __init__(self, owner: _Seen, key: str) -> None:
        self.owner, self.key = owner, key

    def finished(self, outputs: Mapping[str, Path], outcome: str) -> None:
        self.owner.saved[self.key] = dict(outputs)

    def crashed(self, error: BaseException) -> None:
        return None


#: Where the process started: the first entry of ``sys.path`` (``python -m``).
_STARTED_IN = os.getcwd()


def main(argv: list[str]) -> int:
    waiting = argv == ["--wait"]
    if waiting:
        line = sys.stdin.readline()
        if not line.strip():  # no request: this process was not needed
            return 0
        argv = [str(p) for p in json.loads(line)]
    request_path, result_path = Path(argv[0]), Path(argv[1])
    request = json.loads(request_path.read_text())
    try:
        if waiting:
            _move_to(Path(request["project"]))
        result = {"ok": True, **run(request)}
    except TaskExecutionError as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        trace = "".join(traceback.format_exception(cause)[-6:])
        result = {"ok": False, "why": f"the task failed: {exc}\n{trace}".rstrip()}
    except SmttaskError as exc:
        result = {"ok": False, "why": str(exc)}
    except Exception as exc:
        trace = "".join(traceback.format_exception(exc)[-6:])
        result = {"ok": False, "why": f"{type(exc).__name__}: {exc}\n{trace}".rstrip()}
    result_path.write_text(json.dumps(result))
    return 0


def run(request: Mapping[str, Any]) -> dict[str, Any]:
    tree = Path(request["tree"])
    _use_only(tree, Path(request["live_repo"]), [Path(p) for p in request["import_roots"]])
    data = Path(request["data"])
    settings = dataclasses.replace(
        config.settings,
        record=False,
        fsync=False,
        project_root=Path(request["project"]),
        input_dir=data / "input",
        output_dir=data / "output",
    )
    seen = _Seen()
    session = dataclasses.replace(open_session(request["project"], settings), recorder=seen)
    notes: list[str] = []
    with hooks.using(session):
        task = _task(request["desc"], request["label"], notes)
        prior = [(p, _task(p["desc"], p["label"], notes)) for p in request["prior"]]
        for desc in (request["desc"], *(p["desc"] for p in request["prior"])):
            _check_modules(desc, tree)
        placed = _place_inputs(session, task, prior, request["inputs"])
        start = time.perf_counter()
        for p, earlier in prior:
            if p["run"]:
                earlier.run()
        task.run(progress=False)
        seconds = time.perf_counter() - start
        if task.key not in seen.saved:
            raise ReproductionError("The task was not executed: a result was found instead.")
        for up in recorded_upstream(task):
            if up.key in placed and up.computed:
                notes.append(f"{up.name} was computed again instead of read from its file.")
        tolerance = Tolerance(*request["tolerance"]) if request["tolerance"] else None
        outputs = [_compare(task, o, seen.saved[task.key], tolerance) for o in request["outputs"]]
        inputs = _inputs(session, task, prior, request["inputs"], seen, placed)
    return {
        "outputs": [dataclasses.asdict(o) for o in outputs],
        "inputs": [dataclasses.asdict(i) for i in inputs],
        "notes": notes,
        "task_seconds": seconds,
    }


def _move_to(project: Path) -> None:
    """Be as a process started in `project` would be: its working folder, first on
    ``sys.path`` in place of the folder this one waited in, and the project root."""
    if vars(config).get("settings") is not None:
        raise ReproductionError(
            "The re-run process read smttask's settings before it knew its project, so they "
            "may name the wrong project: this is a bug of smttask; please report it."
        )
    os.chdir(project)
    os.environ["SMTTASK_PROJECT_ROOT"] = str(project)
    here = os.getcwd()
    sys.path[:] = [here if entry == _STARTED_IN else entry for entry in sys.path]


def _use_only(tree: Path, live_repo: Path, roots: list[Path]) -> None:
    """Import the project's modules from the worktree only: its folders first on
    ``sys.path``, the user's own working tree not at all (smttask's own folder stays)."""
    own = Path(os.path.realpath(Path(smttask.__file__).parent.parent))
    live = Path(os.path.realpath(live_repo))
    kept = []
    for entry in sys.path:
        real = Path(os.path.realpath(entry or os.getcwd()))
        if real.is_relative_to(live) and real != own:
            continue
        kept.append(entry)
    sys.path[:] = [*dict.fromkeys(str(r) for r in roots), *kept]


def _task(desc: Mapping[str, Any], label: str, notes: list[str]) -> Task:
    task = Task.from_desc(desc, check_digest=False)
    recorded = desc.get("digest")
    if isinstance(recorded, str) and recorded != task.key:
        notes.append(
            f"record {label}: this smttask gives the task digest {task.key}, the record "
            f"{recorded} (smttask's digests changed since); outputs are compared by content."
        )
    return task


def _check_modules(desc: Mapping[str, Any], tree: Path) -> None:
    root = Path(os.path.realpath(tree))
    for name in dict.fromkeys(task_modules(desc)):
        file = getattr(sys.modules.get(name), "__file__", None)
        real = Path(os.path.realpath(file)) if isinstance(file, str) else None
        if real is None or not real.is_relative_to(root):
            raise ReproductionError(
                f"Module {name!r} was imported from {file or 'no file'}, not from the "
                f"checked-out commit {tree}, so the recorded code would not run. Install the "
                f"project's code without an editable link to the working tree (or put its "
                f"folder first on sys.path) and reproduce again."
            )


def _outputs_of(session: hooks.Session, task: Task) -> dict[tuple[str, str], str]:
    """(folder, file name) of each output as a task reads it → the output's name."""
    return {(p.parent.name, p.name): out for out, p in session.outputs.paths(task).items()}


def _match(
    session: hooks.Session, tasks: list[Task], path: str
) -> tuple[Task, str] | tuple[None, None]:
    place = (Path(path).parent.name, Path(path).name)
    for t in tasks:
        out = _outputs_of(session, t).get(place)
        if out is not None:
            return t, out
    return None, None


def _candidates(task: Task, prior: list[tuple[Mapping[str, Any], Task]], role: str) -> list[Task]:
    if role == "resumed":
        return [t for _, t in prior]
    return list(recorded_upstream(task))


def _place_inputs(
    session: hooks.Session,
    task: Task,
    prior: list[tuple[Mapping[str, Any], Task]],
    inputs: list[Mapping[str, Any]],
) -> set[str]:
    """Copy the recorded files given (their content checked) to where the re-run reads them;
    return the keys of the tasks whose results were placed."""
    placed: set[str] = set()
    for item in inputs:
        if item["source"] is None:
            continue
        owner, out = _match(session, _candidates(task, prior, item["role"]), item["path"])
        if owner is None or out is None:
            raise ReproductionError(
                f"The recorded input {item['path']} belongs to no task of the description as "
                f"this smttask rebuilds it (its task digests changed since the record was "
                f"made). Reproduce without --use-recorded-inputs to compute it again."
            )
        target = session.outputs.archive_paths(owner)[out]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item["source"], target)
        if _sha1(target) != item["digest"]:
            raise ReproductionError(
                f"{item['source']} changed while it was copied for the re-run (its SHA-1 is "
                f"no longer the recorded {item['digest']}). Reproduce again."
            )
        placed.add(owner.key)
    return placed


def _inputs(
    session: hooks.Session,
    task: Task,
    prior: list[tuple[Mapping[str, Any], Task]],
    inputs: list[Mapping[str, Any]],
    seen: _Seen,
    placed: set[str],
) -> list[InputResult]:
    found = []
    for item in inputs:
        owner, out = _match(session, _candidates(task, prior, item["role"]), item["path"])
        sha1, how = None, "recomputed"
        if owner is not None and out is not None:
            if owner.key in placed and not owner.computed:
                sha1, how = item["digest"], "recorded file"
            elif owner.key in seen.saved:
                sha1 = _sha1(seen.saved[owner.key][out])
        found.append(InputResult(item["path"], item["role"], item["digest"], sha1, how))
    return found


def _compare(
    task: Task, recorded: Mapping[str, Any], saved: Mapping[str, Path], tol: Tolerance | None
) -> OutputResult:
    name, path, digest = recorded["output"], recorded["path"], recorded["digest"]
    file = saved.get(name)
    if file is None:
        names = ", ".join(repr(n) for n in saved)
        return OutputResult(name, path, DIFFERS, digest, None, detail=f"re-run made {names}")
    inside = recorded.get("inside") or ""
    if inside:  # one file of an OutputDir result
        file = Path(file, inside)
        if not file.is_file():
            return OutputResult(
                name, path, DIFFERS, digest, None, detail="re-run made no such file"
            )
    sha1 = _sha1(file)
    if sha1 == digest:
        return OutputResult(name, path, IDENTICAL, digest, sha1)
    if inside:
        return OutputResult(name, path, DIFFERS, digest, sha1, detail="compared by SHA-1 only")
    if recorded["file"] is None:
        why = "the recorded file is gone or changed since: compared by SHA-1 only"
        return OutputResult(name, path, DIFFERS, digest, sha1, detail=why)
    try:
        ours = decode_output(task, name, file.read_bytes(), file)
        theirs = decode_output(task, name, Path(recorded["file"]).read_bytes(), recorded["file"])
    except SmttaskError as exc:
        return OutputResult(name, path, DIFFERS, digest, sha1, detail=f"not compared: {exc}")
    diff = difference(ours, theirs, tol)
    status = WITHIN if diff.within else DIFFERS
    detail = diff.detail
    if diff.max_abs == 0 and not detail:
        detail = "equal values, different bytes"
    return OutputResult(name, path, status, digest, sha1, diff.max_abs, diff.max_rel, detail)


def _sha1(path: str | Path) -> str:
    return sha1_of(str(path))[0]


if __name__ == "__main__":  # pragma: no cover - run as a subprocess
    sys.exit(main(sys.argv[1:]))
