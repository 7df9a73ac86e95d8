"""``smttask migrate``: convert SumatraTask 0.2 task files to this format."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import SmttaskError


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--outdir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the converted task files (never the folder of the old ones).",
)
@click.option("--dry-run", is_flag=True, help="Only report what would be converted.")
def migrate(paths: tuple[Path, ...], outdir: Path, dry_run: bool) -> None:
    """Convert the SumatraTask 0.2 task files PATHS (files, or folders searched for *.json).

    Each old task is rebuilt from its inputs with the task of the same module and name in
    this project (port the task module first), validated under today's rules, and saved in
    OUTDIR with its new digest. Old digests are never reused, so old result files are never
    loaded for new tasks: the converted tasks compute their results again (the old result
    files found in the data store are listed). Old files that cannot be converted are listed
    with the reason; the exit code is then 1.
    """
    from ..migrate import migrate as convert_file
    from ..runner import collect_task_files
    from ..session import open_session

    files = collect_task_files(paths)
    if not files:
        raise click.UsageError(f"No task files (*.json) found in {', '.join(map(str, paths))}.")
    session = open_session()
    inputs_root = session.data_roots[0]
    here = Path.cwd()
    failed = 0
    for path in files:
        try:
            done = convert_file(path)
            target = done.task.save(outdir) if not dry_run else outdir / "(not written)"
        except SmttaskError as exc:
            failed += 1
            click.echo(f"FAILED {path}: {exc}", err=True)
            continue
        click.echo(
            f"{path} (old digest {done.old_digest or '?'}) -> {target} "
            f"({done.task.name}, digest {done.task.key})"
        )
        old = sorted(inputs_root.joinpath(done.old_taskname).glob(f"{done.old_digest}_*"))
        for result in old if done.old_digest else []:
            click.echo(f"  old result, not reused: {os.path.relpath(result, here)}")
        if done.reason:
            click.echo(f"  old reason: {done.reason} (give it to `smttask run --reason`)")
    verb = "Would convert" if dry_run else "Converted"
    click.echo(f"{verb} {len(files) - failed} of {len(files)} task file(s).", err=True)
    if failed:
        sys.exit(1)
