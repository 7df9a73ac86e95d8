"""Re-running recorded tasks from their commit and comparing their outputs.

For each record: read and check what the re-run needs (``plan``), check its commit out into
a temporary worktree (``worktree``), run the task there in a new process whose working
directory and ``sys.path`` are the worktree (``child``; the process is started ahead, while
the store opens: ``spawn``), with recording off and results in a temporary folder, and
compare each output's SHA-1 with the recorded one (numbers and arrays that differ also by
value, ``compare``).

Results the task read are computed again in the worktree from the description, by default,
so that the whole chain back to the raw inputs is checked; with `use_recorded_inputs`, the
recorded files are used instead, once their SHA-1 is checked (faster for long chains, but
only the last step is checked).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ReproductionError
from . import plan as planning
from .model import COULD_NOT_RUN, InputResult, OutputResult, Reproduction, Tolerance, overall
from .spawn import Rerunners
from .worktree import checkout

if TYPE_CHECKING:
    from ..recording.api import RecordStore


def reproduce(
    labels: Sequence[str],
    *,
    root: str | Path | None = None,
    store: RecordStore | None = None,
    tolerance: Tolerance | None = None,
    use_recorded_inputs: bool = False,
    echo: bool = False,
    on_done: Callable[[Reproduction], None] | None = None,
    rerunners: Rerunners | None = None,
) -> list[Reproduction]:
    """Reproduce the records with these labels (of the project in `root`, or of `store`),
    one after the other; `on_done` sees each result as it comes. The re-run processes come
    from `rerunners` (started ahead: see ``spawn``), or from a pool of this call."""
    with Rerunners(echo=echo) if rerunners is None else _kept(rerunners) as pool:
        if labels:
            pool.start()  # imports smttask while the store opens
        if store is None:
            from ..recording.store import open_store

            store = open_store(Path(root) if root is not None else None)
        found = []
        for label in labels:
            pool.start()
            result = reproduce_record(
                store,
                label,
                tolerance=tolerance,
                use_recorded_inputs=use_recorded_inputs,
                echo=echo,
                rerunners=pool,
            )
            if on_done is not None:
                on_done(result)
            found.append(result)
    return found


@contextlib.contextmanager
def _kept(pool: Rerunners) -> Iterator[Rerunners]:
    """`pool` for a block, left open: its owner closes it."""
    yield pool


def reproduce_record(
    store: RecordStore,
    label: str,
    *,
    tolerance: Tolerance | None = None,
    use_recorded_inputs: bool = False,
    echo: bool = False,
    rerunners: Rerunners | None = None,
) -> Reproduction:
    """Re-run the task of record `label` from its commit; compare its outputs. With `echo`,
    what the re-run prints is shown (else kept, and shown when it fails). The re-run process
    comes from `rerunners` if given (one started ahead), else is started when needed."""
    start = time.perf_counter()
    task = commit = ""
    notes: list[str] = []
    try:
        found = store.record(label)
        if found is not None:
            task = str(found.get("script_arguments") or "")
            commit = str(found.get("version") or "")
        p = planning.plan(store, label, use_recorded_inputs=use_recorded_inputs)
        notes = p.notes
        with checkout(p.repo, p.commit) as tree:
            answer = _run_child(p, tree, tolerance, echo, rerunners)
    except ReproductionError as exc:
        return Reproduction(
            label,
            task,
            commit,
            COULD_NOT_RUN,
            reason=str(exc),
            notes=tuple(notes),
            seconds=time.perf_counter() - start,
        )
    outputs = tuple(OutputResult(**o) for o in answer["outputs"])
    return Reproduction(
        label,
        p.task,
        p.commit,
        overall(outputs),
        outputs=outputs,
        inputs=tuple(InputResult(**i) for i in answer["inputs"]),
        notes=(*notes, *answer["notes"]),
        seconds=time.perf_counter() - start,
        task_seconds=answer["task_seconds"],
    )


def _run_child(
    p: planning.Plan,
    tree: Path,
    tolerance: Tolerance | None,
    echo: bool,
    rerunners: Rerunners | None,
) -> dict[str, Any]:
    folder = tree.parent
    project = tree / p.project
    if not project.is_dir():
        raise ReproductionError(
            f"The commit {p.commit} of record {p.label} has no folder {p.project} (the "
            f"project folder in the repository), so its task cannot run there."
        )
    request = {
        "label": p.label,
        "tree": str(tree),
        "project": str(project),
        "live_repo": str(p.repo),
        "import_roots": [str(tree / r) for r in p.import_roots],
        "data": str(folder / "data"),
        "desc": p.desc,
        "prior": p.prior,
        "inputs": p.inputs,
        "outputs": p.outputs,
        "tolerance": None if tolerance is None else [tolerance.rel, tolerance.abs],
    }
    request_file, result_file = folder / "request.json", folder / "result.json"
    request_file.write_text(json.dumps(request))
    rerun = (rerunners or Rerunners(echo=echo)).take(echo)
    try:
        code = rerun.run(request_file, result_file)
        tail = rerun.log_tail() if code != 0 or not result_file.is_file() else []
    finally:
        rerun.close()
    if code != 0 or not result_file.is_file():
        raise ReproductionError(
            f"The re-run of record {p.label} ended with exit code {code} before reporting "
            f"what it found. Its last output:\n" + "\n".join(tail)
        )
    answer: dict[str, Any] = json.loads(result_file.read_text())
    if not answer["ok"]:
        raise ReproductionError(str(answer["why"]))
    return answer
