"""``smttask run --dry-run``: what running task files would do, without running them."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SmttaskError
from ..runner import RunOptions


def dry_run(files: list[Path], options: RunOptions, *, verbose: int = 0) -> int:
    """Print, per task file, whether its task would run or load and why; return the exit
    code `smttask run` would give for the failures already known (1 if any)."""
    from .. import hooks
    from ..explain import COMPUTE, explain
    from ..task import Task

    session = options.session()
    loaded: list[tuple[Path, Task]] = []
    lines: list[str] = []
    failed = 0
    with hooks.using(session):
        for path in files:
            try:
                loaded.append((path, Task.from_desc(path)))
            except SmttaskError as exc:
                failed += 1
                lines.append(f"would fail {path}\n  {exc}")
        found = explain([t for _, t in loaded], session=session, flush=False)
    ran = 0
    for path, task in loaded:
        entry = found.by_key(task.key)
        runs = options.recompute or entry.action == COMPUTE
        ran += runs
        lines.append(f"{'would run' if runs else 'would load'} {path} ({task.name})")
        if options.recompute and entry.action != COMPUTE:
            lines.append("    - --recompute: computed again, into new numbered files")
        elif runs or verbose:
            lines.extend(f"    - {r.text}" for r in entry.reasons)
            if verbose:
                for r in entry.reasons:
                    if r.diff:
                        lines.extend(f"        {line}" for line in r.diff.splitlines())
    if options.record and ran:
        from ..recording import check_committed

        try:
            check_committed(session.root)
        except SmttaskError as exc:
            failed += ran
            lines.append(f"Recorded runs would be refused now: {exc}")
    loads = len(loaded) - ran
    lines.append(
        f"Dry run: {ran} would run, {loads} would load, {failed} would fail (of {len(files)} "
        f"task files). Nothing ran, nothing was written."
    )
    click.echo("\n".join(lines))
    return 1 if failed else 0
