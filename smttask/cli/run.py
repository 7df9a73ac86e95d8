"""``smttask run``: execute task description files."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..runner import Outcome, RunOptions, find_task_files, missing_outcome, run_files
from . import failures
from .timeparse import Duration

#: Exit code of ``smttask run --running-elsewhere exit`` when task files were skipped because
#: other processes are computing their tasks, and none failed (EX_TEMPFAIL: try again later).
EXIT_RUNNING_ELSEWHERE = 75


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
@click.option(
    "--running-elsewhere",
    "elsewhere",
    type=click.Choice(["wait", "exit"]),
    default="wait",
    show_default=True,
    help="A task another live process (on any node) is computing: wait for its result and load "
    "it, or skip its task file at once; with 'exit', the exit code is "
    f"{EXIT_RUNNING_ELSEWHERE} if some task files were skipped so and none failed.",
)
@click.option(
    "--supervise/--no-supervise",
    default=None,
    help="Run the tasks in a child process watched by a small parent, which says how the "
    "child ended if it is killed (out of memory: the limit to raise) and ends its records "
    "with that reason. Default: on inside a SLURM job (SLURM_JOB_ID set), else off.",
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
    elsewhere: str,
    supervise: bool | None,
    reverse: bool,
    use_pdb: bool,
    dry_run: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Run the task files PATHS (files, or folders searched recursively for *.json).

    Results that already exist are loaded, not recomputed. Each task that runs gets one
    provenance record. A failing task does not stop the others; the exit code is 1 if any
    failed. A task that another process is computing is waited for, then loaded (with
    --running-elsewhere exit: skipped, exit code 75 if nothing failed).
    Killed by a signal (with --supervise): 128 + the signal number (137: SIGKILL, e.g. out
    of memory).

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
        wait_elsewhere=elsewhere == "wait",
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
    if supervise is None:
        supervise = bool(os.environ.get("SLURM_JOB_ID"))
    if supervise and files and not use_pdb:
        from .. import config
        from ..supervise import supervise as fork_supervisor

        fork_supervisor(config.project_root(), files)  # returns in the child only
    if not files:
        outcomes: list[Outcome] = []
    elif use_pdb:
        outcomes = _run_with_pdb(files, options)
    else:
        outcomes = _run_with_progress(files, options, cores, quiet, verbose)
    outcomes = absent + outcomes
    _summarize(outcomes)
    if any(o.status == "failed" for o in outcomes):
        sys.exit(failures.EXIT_FAILURE)
    if any(o.status == "elsewhere" for o in outcomes):
        sys.exit(EXIT_RUNNING_ELSEWHERE)


def _run_with_progress(
    files: list[Path], options: RunOptions, cores: int, quiet: bool, verbose: int
) -> list[Outcome]:
    if quiet:  # failures only: rich is imported for the first (a workflow job runs quiet)
        return run_files(
            files, options, cores=cores, on_done=_failures_printer(verbose), detach=True
        )
    from rich.console import Console

    from ..progress import Bar

    console = Console(stderr=True)
    if not (console.is_terminal and len(files) > 1):  # no bar: one line per task file

        def report(o: Outcome) -> None:
            console.print(_line(o, verbose), highlight=False, soft_wrap=True)

        return run_files(files, options, cores=cores, on_done=report, detach=True)
    with Bar("smttask run", len(files), console) as bar:

        def advance(o: Outcome) -> None:
            bar.print(_line(o, verbose))
            bar.advance(o.path.name)

        return run_files(files, options, cores=cores, on_done=advance, detach=True)


def _run_with_pdb(files: list[Path], options: RunOptions) -> list[Outcome]:
    import pdb

    def debug(exc: BaseException) -> None:
        cause = exc.__cause__ or exc
        click.echo(f"{type(exc).__name__}: {exc}\nEntering the debugger...", err=True)
        pdb.post_mortem(cause.__traceback__)

    return run_files(files, options, cores=1, on_error=debug, detach=True)


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

    mark = {
        "ran": "[green]ran[/]",
        "loaded": "[cyan]loaded[/]",
        "elsewhere": "[yellow]running elsewhere[/]",
        "failed": "[red]FAILED[/]",
    }
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
    elsewhere = sum(o.status == "elsewhere" for o in outcomes)
    skipped = f"{elsewhere} running elsewhere, " if elsewhere else ""
    click.echo(
        f"{counts['ran']} ran, {counts['loaded']} loaded, {skipped}{counts['failed']} failed "
        f"(of {len(outcomes)} task files).",
        err=True,
    )
