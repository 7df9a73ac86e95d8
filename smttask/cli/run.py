"""``smttask run``: execute task description files."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..runner import Outcome, RunOptions, find_task_files, missing_outcome, run_files
from . import failures
from .timeparse import Duration


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-n",
    "--cores",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Number of worker processes running task files in parallel.",
)
@click.option(
    "--record/--no-record",
    default=True,
    show_default=True,
    help="Create a provenance record for every task that runs.",
)
@click.option(
    "--recompute",
    is_flag=True,
    help="Run tasks even if their results exist (the new results get new files).",
)
@click.option("--reason", default=None, help="Why these tasks run; stored in their records.")
@click.option(
    "--keep/--clean",
    default=True,
    show_default=True,
    help="Keep task files after they ran, or delete those that succeeded.",
)
@click.option(
    "--attempt",
    type=click.IntRange(min=1),
    default=None,
    help="Which attempt at these tasks this run is (a workflow engine retrying a failed job: "
    "1, 2, ...); each record gets the tag attempt:N.",
)
@click.option(
    "--import",
    "imports",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE in every process before reading task files (e.g. a module that "
    "registers output formats). Repeat for several.",
)
@click.option(
    "--wait",
    type=Duration(),
    default=None,
    help="Wait this long before starting (90, 10m, 1h30m).",
)
@click.option(
    "--start-spacing",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="With -n N: seconds between the starts of the workers' first tasks.",
)
@click.option("-r", "--reverse", is_flag=True, help="Run the task files in reverse order.")
@click.option(
    "--pdb",
    "use_pdb",
    is_flag=True,
    help="On a failure, open the Python debugger where it happened (implies -n1).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say which tasks would run and which would load, and why; run nothing, write nothing.",
)
@click.option("-v", "--verbose", count=True, help="More output (-vv: debug logging, tracebacks).")
@click.option("-q", "--quiet", is_flag=True, help="Only print failures and the summary.")
def run(
    paths: tuple[Path, ...],
    cores: int,
    record: bool,
    recompute: bool,
    reason: str | None,
    keep: bool,
    attempt: int | None,
    imports: tuple[str, ...],
    wait: float | None,
    start_spacing: float,
    reverse: bool,
    use_pdb: bool,
    dry_run: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Run the task files PATHS (files, or folders searched recursively for *.json).

    Results that already exist are loaded, not recomputed. Each task that runs gets one
    provenance record. A failing task does not stop the others; the exit code is 1 if any
    failed.

    \b
    Examples:
      smttask run taskdir/                 # every task file under taskdir/
      smttask run -n4 taskdir/*.json       # four at a time
      smttask run --no-record --pdb t.json # debug one task
      smttask run --dry-run taskdir/       # what would run, and why
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    failures.set_verbose(verbose)
    files, missing = find_task_files(paths)
    if not files and not missing:
        raise click.UsageError(f"No task files (*.json) found in {', '.join(map(str, paths))}.")
    if reverse:
        files.reverse()
    options = RunOptions(
        recompute=recompute,
        record=record,
        reason=reason,
        clean=not keep,
        attempt=attempt,
        imports=imports,
        start_spacing=start_spacing,
    )
    absent = [missing_outcome(p) for p in missing]
    if absent:  # reported first; the task files that are there still run
        from rich.console import Console

        console = Console(stderr=True)
        for o in absent:
            console.print(_line(o, verbose), highlight=False, soft_wrap=True)
    if dry_run:
        from .dryrun import dry_run as report

        code = report(files, options, verbose=verbose) if files else 0
        sys.exit(1 if absent else code)
    if wait and files:
        if not quiet:
            click.echo(f"Waiting {wait:g} s before starting.", err=True)
        time.sleep(wait)
    if not files:
        outcomes: list[Outcome] = []
    elif use_pdb:
        outcomes = _run_with_pdb(files, options)
    else:
        outcomes = _run_with_progress(files, options, cores, quiet, verbose)
    outcomes = absent + outcomes
    _summarize(outcomes)
    if any(not o.ok for o in outcomes):
        sys.exit(1)


def _run_with_progress(
    files: list[Path], options: RunOptions, cores: int, quiet: bool, verbose: int
) -> list[Outcome]:
    if quiet:  # failures only: rich is imported for the first (a workflow job runs quiet)
        return run_files(files, options, cores=cores, on_done=_failures_printer(verbose))
    from rich.console import Console

    from ..progress import Bar

    console = Console(stderr=True)
    if not (console.is_terminal and len(files) > 1):  # no bar: one line per task file

        def report(o: Outcome) -> None:
            console.print(_line(o, verbose), highlight=False, soft_wrap=True)

        return run_files(files, options, cores=cores, on_done=report)
    with Bar("smttask run", len(files), console) as bar:

        def advance(o: Outcome) -> None:
            bar.print(_line(o, verbose))
            bar.advance(o.path.name)

        return run_files(files, options, cores=cores, on_done=advance)


def _run_with_pdb(files: list[Path], options: RunOptions) -> list[Outcome]:
    import pdb

    def debug(exc: BaseException) -> None:
        cause = exc.__cause__ or exc
        click.echo(f"{type(exc).__name__}: {exc}\nEntering the debugger...", err=True)
        pdb.post_mortem(cause.__traceback__)

    return run_files(files, options, cores=1, on_error=debug)


def _failures_printer(verbose: int) -> Callable[[Outcome], None]:
    """Print the line of each failed task file (on the console made for the first)."""
    consoles: list[Any] = []

    def report(o: Outcome) -> None:
        if o.ok:
            return
        if not consoles:
            from rich.console import Console

            consoles.append(Console(stderr=True))
        consoles[0].print(_line(o, verbose), highlight=False, soft_wrap=True)

    return report


def _line(o: Outcome, verbose: int) -> str:
    """The line of one task file as it finishes: a failure once, with its message (and
    under -v its traceback); the summary only counts."""
    from rich.markup import escape

    mark = {"ran": "[green]ran[/]", "loaded": "[cyan]loaded[/]", "failed": "[red]FAILED[/]"}
    text = f"{mark[o.status]} {escape(str(o.path))} ({o.task or '?'}, {o.seconds:.2f} s)"
    if o.record:
        text += f" record {o.record}"
    if o.message:
        text += f"\n  {escape(o.message)}"
    if verbose and o.detail:
        text += "\n" + escape(o.detail.rstrip())
    return text


def _summarize(outcomes: list[Outcome]) -> None:
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ran", "loaded", "failed")}
    click.echo(
        f"{counts['ran']} ran, {counts['loaded']} loaded, {counts['failed']} failed "
        f"(of {len(outcomes)} task files).",
        err=True,
    )
