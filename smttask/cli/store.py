"""``smttask store``: look after the record store and the data stores."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .lineage import lineage

if TYPE_CHECKING:
    from ..recording.api import RecordStore


def _open() -> RecordStore:
    from ..recording.store import open_store

    return open_store()


@click.group()
def store() -> None:
    """Look after the record store and the results it describes.

    Every command first moves the records still waiting in journals (left by worker
    processes, cluster jobs or killed runs) into the record store.
    """


store.add_command(lineage)


@store.command()
def flush() -> None:
    """Move the records waiting in journals into the record store now.

    Records reach the store on their own (in batches, and at the end of each process); run
    this after cluster jobs that ran with SMTTASK_FLUSH_RECORDS=0, or to check that nothing
    is waiting.
    """
    from ..recording import flush as flush_records

    report = flush_records(strict=False)
    click.echo(f"{report.records} record(s) moved from {report.journals} journal(s).")
    if report.killed:
        click.echo(f"{report.killed} of them belong to tasks whose process ended early.")
    for error in report.errors:
        click.echo(f"Not moved: {error}", err=True)
    if report.errors:
        raise SystemExit(1)


@store.command("find-output")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def find_output(path: Path) -> None:
    """Show the record(s) that produced the output file PATH (an archived result under the
    output data store, or its link under the input data store), and whether the file still
    has the recorded content."""
    from ..recording.lookup import find_output as find

    matches = find(_open(), path)
    if not matches:
        click.echo(
            f"No record produced {path}. It was computed without recording; "
            f"`smttask store create-surrogates` adds a record for such files."
        )
        raise SystemExit(1)
    for m in matches:
        state = "content as recorded" if m.matches else "CONTENT CHANGED since recorded"
        click.echo(f"{m.label}  {m.task}  {m.timestamp}  {','.join(m.tags)}  ({state})")


@store.command()
@click.option("--dry-run", is_flag=True, help="Only list the links that would be made.")
def rebuild(dry_run: bool) -> None:
    """Recreate missing links in the input data store from the records.

    Each recorded output is archived under the output data store; tasks read it through a
    link in the input data store. Missing or dangling links are made again (for a result
    computed several times, pointing to the newest); existing ones are left alone, so
    running this twice changes nothing. Recorded outputs missing from disk are listed.
    """
    from ..recording.maintenance import rebuild as rebuild_links

    db = _open()
    report = rebuild_links(db, dry_run=dry_run)
    verb = "Would create" if dry_run else "Created"
    for link in report.created:
        click.echo(f"{verb} {link}")
    for missing in report.missing:
        click.echo(f"Missing output (recorded, not on disk): {missing}", err=True)
    for line in report.refused:
        click.echo(line, err=True)
    click.echo(f"{verb} {len(report.created)} link(s); {len(report.missing)} output(s) missing.")
    if report.refused:
        raise SystemExit(1)


@store.command("create-surrogates")
@click.argument("taskfiles", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only list the records that would be added.")
def create_surrogates(taskfiles: tuple[Path, ...], dry_run: bool) -> None:
    """Add a record, tagged _surrogate_, for each set of outputs that has none.

    Outputs computed with recording off (or records lost) are found in the output data
    store. Give TASKFILES (task description files or folders of them) to record the tasks'
    full parameters; otherwise a surrogate only names the task and its key. Surrogates say
    that code version and environment are unknown.
    """
    from ..recording.maintenance import create_surrogates as make
    from ..runner import collect_task_files

    files = collect_task_files(taskfiles) if taskfiles else []
    report = make(_open(), files, dry_run=dry_run)
    verb = "Would add" if dry_run else "Added"
    for label in report.labels:
        click.echo(f"{verb} {label}")
    for line in report.refused:
        click.echo(f"{line}.", err=True)
    click.echo(f"{verb} {len(report.labels)} surrogate record(s) for {len(report.files)} file(s).")


@store.command()
@click.argument("source")
@click.option("--project", "project_name", default=None, help="Project to take from SOURCE.")
@click.option("--dry-run", is_flag=True, help="Only report what would be merged.")
def merge(source: str, project_name: str | None, dry_run: bool) -> None:
    """Copy the records of another store into this project's store.

    SOURCE is another project folder, an SQLite record store file, or a postgresql:// URI.
    Records whose label is already here are skipped: as identical when they describe the
    same run, as collisions (listed) otherwise. Records holding text that Sumatra would run
    as Python code are never read (listed). Exit code 1 if there were collisions or such
    records.
    """
    from ..recording.maintenance import merge as merge_stores

    report = merge_stores(_open(), source, project=project_name, dry_run=dry_run)
    verb = "Would add" if dry_run else "Added"
    click.echo(
        f"{verb} {len(report.added)} record(s); {len(report.identical)} already here; "
        f"{len(report.collisions)} collision(s)."
    )
    for label in report.collisions:
        click.echo(f"Collision (same label, different record; not merged): {label}", err=True)
    for line in report.refused:
        click.echo(f"Not merged: {line}.", err=True)
    if report.collisions or report.refused:
        raise SystemExit(1)


@store.command()
@click.argument("labels", nargs=-1)
@click.option("--tag", "tags", multiple=True, help="Select the records with this tag.")
@click.option("--task", "tasks", multiple=True, help="Select the records of this task.")
@click.option("--keep-outputs", is_flag=True, help="Delete the records only, not the files.")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(
    labels: tuple[str, ...],
    tags: tuple[str, ...],
    tasks: tuple[str, ...],
    keep_outputs: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """Delete records (by LABELS, --tag or --task) and the outputs they produced.

    The archived output files go, with their links in the input data store; files that a
    remaining record also produced stay. Use --dry-run first to see the list.
    """
    from ..recording.lookup import delete as delete_records
    from ..recording.lookup import plan_delete, select

    if not (labels or tags or tasks):
        raise click.UsageError("Select records: give LABELS, --tag TAG or --task NAME.")
    db = _open()
    plan = plan_delete(db, select(db, labels, tags, tasks), outputs=not keep_outputs)
    here = Path.cwd()
    for label in plan.labels:
        click.echo(f"record {label}")
    for path in [*plan.files, *plan.links]:
        click.echo(f"file   {os.path.relpath(path, here)}")
    for line in plan.refused:
        click.echo(line, err=True)
    summary = f"{len(plan.labels)} record(s), {len(plan.files) + len(plan.links)} file(s)"
    if dry_run or not plan.labels:
        click.echo(f"Would delete {summary}." if plan.labels else "No record selected.")
        return
    if not yes:
        click.confirm(f"Delete {summary}?", abort=True)
    failed = delete_records(db, plan)
    for line in failed:
        click.echo(f"Could not delete {line}", err=True)
    click.echo(f"Deleted {summary}.")
    if failed or plan.refused:
        raise SystemExit(1)
