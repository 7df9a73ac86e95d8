"""``smttask run``: execute task description files."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ..runner import Outcome, RunOptions, collect_task_files, run_files


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
    files = collect_task_files(paths)
    if not files:
        raise click.UsageError(f"No task files (*.json) found in {', '.join(map(str, paths))}.")
    options = RunOptions(
        recompute=recompute, record=record, reason=reason, clean=not keep, attempt=attempt
    )
    if dry_run:
        from .dryrun import dry_run as report

        sys.exit(report(files, options, verbose=verbose))
    if use_pdb:
        outcomes = _run_with_pdb(files, options)
    else:
        outcomes = _run_with_progress(files, options, cores, quiet)
    _summarize(outcomes, verbose, quiet)
    if any(not o.ok for o in outcomes):
        sys.exit(1)


def _run_with_progress(
    files: list[Path], options: RunOptions, cores: int, quiet: bool
) -> list[Outcome]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    show_bar = console.is_terminal and not quiet and len(files) > 1
    if not show_bar:

        def report(o: Outcome) -> None:
            if not quiet or not o.ok:
                console.print(_line(o), highlight=False, soft_wrap=True)

        return run_files(files, options, cores=cores, on_done=report)
    columns = (
        TextColumn("[bold]smttask run"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("", total=len(files))

        def advance(o: Outcome) -> None:
            progress.console.print(_line(o), highlight=False, soft_wrap=True)
            progress.update(bar, advance=1, description=o.path.name)

        return run_files(files, options, cores=cores, on_done=advance)


def _run_with_pdb(files: list[Path], options: RunOptions) -> list[Outcome]:
    import pdb

    def debug(exc: BaseException) -> None:
        cause = exc.__cause__ or exc
        click.echo(f"{type(exc).__name__}: {exc}\nEntering the debugger...", err=True)
        pdb.post_mortem(cause.__traceback__)

    return run_files(files, options, cores=1, on_error=debug)


def _line(o: Outcome) -> str:
    mark = {"ran": "[green]ran[/]", "loaded": "[cyan]loaded[/]", "failed": "[red]FAILED[/]"}
    text = f"{mark[o.status]} {o.path} ({o.task or '?'}, {o.seconds:.2f} s)"
    if o.record:
        text += f" record {o.record}"
    return text + (f"\n  {o.message}" if o.message else "")


def _summarize(outcomes: list[Outcome], verbose: int, quiet: bool) -> None:
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ran", "loaded", "failed")}
    failed = [o for o in outcomes if not o.ok]
    lines = [
        f"{counts['ran']} ran, {counts['loaded']} loaded, {counts['failed']} failed "
        f"(of {len(outcomes)} task files)."
    ]
    for o in failed:
        lines.append(f"FAILED {o.path}: {o.message}")
        if verbose and o.detail:
            lines.append(o.detail.rstrip())
    click.echo("\n".join(lines), err=True)
