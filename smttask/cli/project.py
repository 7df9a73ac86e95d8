"""``smttask project``: create and configure the Sumatra project."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import config


@click.group()
def project() -> None:
    """Create and configure the Sumatra project that keeps the records."""


@project.command()
@click.option("--name", default=None, help="Project name [default: the folder's name].")
@click.option(
    "--input",
    "input_dir",
    default=None,
    help="Input data store, where results are read from [default: data].",
)
@click.option(
    "--output",
    "output_dir",
    default=None,
    help="Output data store, where results are archived [default: data/run_dump].",
)
@click.option(
    "--store",
    default=None,
    help="Record store: an SQLite file, or postgresql://user@host:port/db "
    "[default: SQLite in .smt/records].",
)
@click.option(
    "--dirty-dir",
    "dirty_dirs",
    multiple=True,
    help="A folder whose uncommitted changes never block recorded runs (repeatable).",
)
@click.option("-y", "--yes", is_flag=True, help="Accept the defaults; ask nothing (for scripts).")
@click.argument(
    "folder", required=False, type=click.Path(file_okay=False, path_type=Path), default="."
)
def init(
    name: str | None,
    input_dir: str | None,
    output_dir: str | None,
    store: str | None,
    dirty_dirs: tuple[str, ...],
    yes: bool,
    folder: Path,
) -> None:
    """Create a Sumatra project in FOLDER (default: here), inside a git repository.

    Wraps `smt init` with checked defaults: the current repository, input data store
    `data/`, output data store `data/run_dump/`, record store SQLite in `.smt/records`
    (safe for many processes writing at once), or PostgreSQL with --store. The store's
    tables are created at once. Without --yes, you are asked for each value not given
    as an option; when standard input is not a terminal (a script, a pipe), nothing is
    asked: the defaults are taken, and a line on stderr says so.

    The project's .gitignore gets the lines it lacks for the data stores, build/ and
    .snakemake/ (and .smt/project if the store address holds a password); your own lines
    stay as they are. Keep a PostgreSQL password out of the address: PGPASSWORD or
    ~/.pgpass give it to the server.

    \b
    Examples:
      smttask project init                  # asks, with good defaults
      smttask project init --yes            # the defaults, no questions
      smttask project init --yes --store postgresql://me@dbhost:5432/records
      smttask project init --yes --dirty-dir reports --dirty-dir notes
    """
    from ..recording.address import masked
    from ..recording.projectinit import (
        DEFAULT_STORE,
        InitOptions,
        check_can_init,
        default_name,
        ignore_in_git,
        init_project,
    )

    root = folder.resolve()
    check_can_init(root)  # fail before asking anything
    ask = not yes and sys.stdin.isatty()
    if not yes and not ask:
        click.echo(
            "Standard input is not a terminal: taking the defaults for the values not given "
            "as options (--yes does so without this note).",
            err=True,
        )

    def value(given: str | None, prompt: str, default: str) -> str:
        if given is not None or not ask:
            return given if given is not None else default
        return str(click.prompt(prompt, default=default))

    name = value(name, "Project name", default_name(root))
    input_dir = value(input_dir, "Input data store (results are read from here)", "data")
    output_dir = value(output_dir, "Output data store (results are archived here)", "data/run_dump")
    store = value(store, "Record store (SQLite file or postgresql:// URI)", DEFAULT_STORE)
    options = InitOptions(
        name=name,
        input_dir=input_dir,
        output_dir=output_dir,
        store=None if store in ("", DEFAULT_STORE) else store,
        dirty_dirs=dirty_dirs,
    )
    if ask:
        click.echo(
            _summary(
                root, options.name, options.input_dir, options.output_dir,
                masked(options.store) if options.store else None,
            )
        )  # fmt: skip
        click.confirm("Create this project?", default=True, abort=True)
    info = init_project(root, options)
    click.echo(
        f"Created Sumatra project {info.name!r} in {info.root}\n"
        f"  records: {info.shown_store}\n  results: {info.output_root} (links in {info.input_root})"
    )
    added = ignore_in_git(info)
    if added:
        tracked = _tracked(root / ".gitignore")
        click.echo(
            f"Added to {root / '.gitignore'}: {', '.join(added)}"
            + (
                ". Commit it: recorded runs refuse uncommitted changes."
                if tracked
                else ". Commit it with your code."
            )
        )


def _tracked(path: Path) -> bool:
    import subprocess

    done = subprocess.run(
        ["git", "ls-files", "--error-unmatch", path.name],
        cwd=path.parent, capture_output=True, check=False,
    )  # fmt: skip
    return done.returncode == 0


def _summary(root: Path, name: str, inputs: str, outputs: str, store: str | None) -> str:
    """What will be created (`store`: the address as shown, its password masked)."""
    return (
        f"Project {name!r} in {root}\n  input data store:  {root / inputs}\n"
        f"  output data store: {root / outputs}\n"
        f"  record store:      {store or root / '.smt' / 'records'}"
    )


@project.command()
def info() -> None:
    """Show the project's settings and the records still waiting in journals."""
    from ..recording import require_project
    from ..recording.flush import pending_journals
    from ..session import open_session

    proj = require_project(config.project_root())
    inputs, outputs = open_session(proj.root).data_roots
    dirty = ", ".join(proj.dirty_dirs) or "(none)"
    click.echo(
        f"project:           {proj.name}\nfolder:            {proj.root}\n"
        f"record store:      {proj.shown_store} ({proj.kind})\n"
        f"input data store:  {inputs}\noutput data store: {outputs}\n"
        f"dirty directories: {dirty}\n"
        f"journals waiting:  {len(pending_journals(proj.root))}"
    )


@project.command("dirty-dirs")
@click.option("--add", multiple=True, help="Declare a folder dirty (repeatable).")
@click.option("--remove", multiple=True, help="Stop treating a folder as dirty (repeatable).")
def dirty_dirs(add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """List or change the dirty directories: folders (relative to the project) whose
    uncommitted changes never block a recorded run, such as reports or notes.

    They are kept in .smt/smttask.json; SMTTASK_DIRTY_DIRS (separated by ':') adds more
    for one session. Never declare a folder holding code dirty: records would then not
    say which code produced a result. Untracked files never block anyway.
    """
    from ..recording import require_project, set_dirty_dirs

    proj = require_project(config.project_root())
    if add or remove:
        set_dirty_dirs(proj.root, add, remove)
        proj = require_project(proj.root)
    click.echo("\n".join(proj.dirty_dirs) or "No dirty directories.")
