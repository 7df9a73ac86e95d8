"""``smttask export-snakemake``: write a Snakemake workflow for task graphs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..compile.snakemake.options import LAYOUTS, STATUS_COMMANDS

if TYPE_CHECKING:
    from ..compile.plan import BatchSpec


def _parse_batch(values: tuple[str, ...]) -> dict[str, BatchSpec] | None:
    """{task name or "*": N, "auto" or ("auto", minutes)} from the --batch values."""
    sizes: dict[str, BatchSpec] = {}
    minutes: float | None = None
    for value in values:
        name, sep, size = value.rpartition("=")
        if name == "auto" and not _is_name(size):  # auto=MINUTES: every type, that long
            minutes = _minutes(value, size)
            sizes["*"] = ("auto", minutes)
        elif size == "auto":
            sizes[name if sep else "*"] = "auto"
        elif not size.isdigit() or int(size) < 1 or (sep and not name):
            raise click.BadParameter(
                f"{value!r}: give a positive number of tasks per job (N, for every task type), "
                f"TASK=N (for one task type, e.g. simulate=50), or auto[=MINUTES] / TASK=auto "
                f"(sizes from the tasks' recorded durations).",
                param_hint="--batch",
            )
        else:
            sizes[name if sep else "*"] = int(size)
    if minutes is not None:  # TASK=auto takes the minutes of auto=MINUTES too
        sizes = {k: ("auto", minutes) if v == "auto" else v for k, v in sizes.items()}
    return sizes or None


def _is_name(text: str) -> bool:
    return text.isidentifier()


def _minutes(value: str, text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        minutes = -1.0
    if not minutes > 0 or minutes == float("inf"):
        raise click.BadParameter(
            f"{value!r}: auto=MINUTES needs a positive number of minutes per job (e.g. auto=10).",
            param_hint="--batch",
        )
    return minutes


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    "outdir",
    default="build",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the Snakefile, task files and profiles into.",
)
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="auto",
    show_default=True,
    help="named: one rule per task; wildcard: one rule per task type (for thousands of "
    "tasks); auto: named up to 500 rules.",
)
@click.option(
    "--batch",
    multiple=True,
    metavar="N | TASK=N | auto[=MINUTES] | TASK=auto",
    help="Run up to N independent tasks of one type in one job (one process). auto: choose N "
    "so that a job runs about MINUTES (default 10), from the median duration of the task's "
    "finished records (no record: its declared runtime, else 1 per job). Repeatable.",
)
@click.option(
    "--slurm-account",
    default=None,
    help="SLURM account (sbatch -A) in profiles/slurm. Without it the SLURM plugin guesses one "
    "(sacct) at every run, or submits without -A.",
)
@click.option(
    "--slurm-partition", default=None, help="SLURM partition (sbatch -p) in profiles/slurm."
)
@click.option(
    "--slurm-status",
    type=click.Choice(STATUS_COMMANDS),
    default=None,
    help="How the SLURM profile polls job states; squeue for clusters without accounting.",
)
@click.option("--force", is_flag=True, help="Overwrite files in OUTPUT that smttask did not write.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check everything and list the files that would be written or removed; write nothing.",
)
def export_snakemake(
    targets: tuple[str, ...],
    outdir: Path,
    layout: str,
    batch: tuple[str, ...],
    slurm_account: str | None,
    slurm_partition: str | None,
    slurm_status: str | None,
    force: bool,
    dry_run: bool,
) -> None:
    """Write a Snakemake workflow that runs the tasks TARGETS and everything they need.

    A target is `file.py:NAME` or `module:NAME` (a task, or a list/dict of tasks), a task
    file, or a folder of task files. Every recorded task becomes one job running
    `smttask run TASKFILE`; memoized tasks run inside the jobs that use them.

    \b
    Examples:
      smttask export-snakemake pipeline.py:tasks -o build/ --batch auto
      snakemake -s build/Snakefile --cores 4 --rerun-triggers mtime
      snakemake -s build/Snakefile --profile build/profiles/slurm
    """
    from ..export import export_snakemake as export
    from ..targets import load_targets

    tasks = load_targets(targets)
    result = export(
        tasks,
        outdir,
        layout=layout,
        batch=_parse_batch(batch),
        slurm_account=slurm_account,
        slurm_partition=slurm_partition,
        slurm_status_command=slurm_status,
        force=force,
        dry_run=dry_run,
    )
    click.echo(result.summary())
