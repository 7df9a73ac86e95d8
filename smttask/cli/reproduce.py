"""``smttask reproduce``: re-run recorded tasks from their commit and compare their outputs."""

from __future__ import annotations

import json
import signal
from types import FrameType

import click


@click.command()
@click.argument("labels", nargs=-1, required=True)
@click.option(
    "--tolerance",
    metavar="REL[,ABS]",
    default=None,
    help="Accept float outputs within this relative (and absolute) difference.",
)
@click.option(
    "--use-recorded-inputs",
    is_flag=True,
    help="Read the results the task read from their recorded files (SHA-1 checked) instead "
    "of computing them again in the checked-out commit.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Show what the re-runs print.")
def reproduce(
    labels: tuple[str, ...],
    tolerance: str | None,
    use_recorded_inputs: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """Re-run the tasks of the records LABELS and compare their outputs with the recorded ones.

    A label may be shortened to its start, or replaced by a result file (the record that
    produced its content is reproduced).

    Each record's commit is checked out into a temporary git worktree (removed afterwards),
    where its task runs from the record's task description, in a new process, with recording
    off and results in a temporary folder. Each output is reported as identical (same
    SHA-1), within tolerance, differs (with the largest absolute and relative differences of
    numbers and arrays), or the record as could not run (and why). The results the task read
    are computed again from the description, unless --use-recorded-inputs.

    Exit code 0 only if every output of every record is identical (or within tolerance).
    """
    from ..recording.lineage import resolve
    from ..recording.store import open_store
    from ..reproduce import Reproduction, Tolerance
    from ..reproduce import reproduce as run
    from ..reproduce.spawn import Rerunners

    tol = Tolerance.parse(tolerance) if tolerance is not None else None

    def show(result: Reproduction) -> None:
        if not as_json:
            for line in result.lines():
                click.echo(line)

    with Rerunners(echo=verbose) as rerunners:
        rerunners.start()  # the first re-run process imports smttask while the store opens
        store = open_store()
        chosen = [resolve(store, label) for label in labels]
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            results = run(
                chosen,
                store=store,
                tolerance=tol,
                use_recorded_inputs=use_recorded_inputs,
                echo=verbose,
                on_done=show,
                rerunners=rerunners,
            )
        finally:
            signal.signal(signal.SIGTERM, previous)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=2))
    else:
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        click.echo(", ".join(f"{n} {status}" for status, n in counts.items()) + ".")
    if not all(r.ok for r in results):
        raise SystemExit(1)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
