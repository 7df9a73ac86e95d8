"""``smttask job-server start|stop|status``: the warm job server of exported workflows."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from smttask_job import SOCKET_ENV, switched_off

from .. import jobserver

#: The modules of the command line that a job (``smttask run``) imports.
PRELOAD = ("smttask.cli.run", "smttask.cli.failures", "smttask.cli.timeparse")


@click.group("job-server")
def job_server() -> None:
    """The warm job server of exported Snakemake workflows.

    A local run of an exported workflow (`snakemake --cores N`) starts one server, which
    imports smttask and the workflow's task modules once and forks a child for each job
    (jobs run `smttask-job run ...`, which hands the job to the server); the Snakefile
    stops it when the workflow ends. A job the server cannot run exactly as a fresh
    `smttask run` would (a changed source file, another environment or working folder,
    inside a SLURM job) runs as a fresh `smttask run`. SMTTASK_JOB_SERVER=0 switches it
    off. See docs/snakemake.md, "The job server".
    """


@job_server.command()
@click.option(
    "--parent", type=int, default=None, help="Stop when the process PID ends (Snakemake)."
)
@click.option(
    "--idle",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help="Stop after this many seconds without a job.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path(".snakemake/log/smttask-job-server.log"),
    show_default=True,
    help="The server's log (appended to): one line per job forked or refused.",
)
@click.option(
    "--client",
    is_flag=True,
    help="Also print, on the next two lines, this Python interpreter and the file of the "
    "job client (smttask-job), for jobs to start it as `PYTHON -S CLIENT` (without `site`, "
    "which the client does not need: a few ms per job instead of tens).",
)
def start(parent: int | None, idle: float, log_path: Path, client: bool) -> None:
    """Start a job server in the background for jobs in this folder; print its socket.

    Jobs reach it through SMTTASK_JOB_SOCKET=SOCKET. The server's environment is this
    command's: jobs whose environment differs (besides PWD, SHLVL, _ and the temporary
    folder) run fresh. With SMTTASK_JOB_SERVER=0 or inside a SLURM job, no server starts
    and nothing is printed.
    """
    if switched_off(os.environ) or os.environ.get("SLURM_JOB_ID"):
        return
    from . import main

    path = jobserver.start(
        main, parent=parent, idle_seconds=idle, log_path=log_path, preload=PRELOAD
    )
    click.echo(path)
    if client:
        import smttask_job

        file = smttask_job.__file__
        if sys.executable and file and os.path.isfile(file) and "\n" not in sys.executable + file:
            click.echo(f"{sys.executable}\n{file}")


@job_server.command()
@click.argument("socket", required=False)
def stop(socket: str | None) -> None:
    """Stop the server at SOCKET (default: $SMTTASK_JOB_SOCKET), after the jobs it runs."""
    path = socket or os.environ.get(SOCKET_ENV, "")
    if not path:
        raise click.UsageError(f"Name the server's socket, or set {SOCKET_ENV}.")
    status = jobserver.stop(path)
    click.echo(
        f"Stopped the job server {status.get('pid')}: {status.get('forked')} jobs forked, "
        f"{status.get('refused')} refused.",
        err=True,
    )


@job_server.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per server.")
def status(as_json: bool) -> None:
    """List this user's running job servers."""
    found = jobserver.servers()
    for s in found:
        if as_json:
            click.echo(json.dumps(s, sort_keys=True))
        else:
            click.echo(
                f"{s.get('pid')}  {s.get('cwd')}  up {s.get('uptime')} s, {s.get('running')} "
                f"running, {s.get('forked')} forked, {s.get('refused')} refused  "
                f"socket {s.get('socket')}  log {s.get('log')}"
            )
    if not found and not as_json:
        click.echo("No job server is running.", err=True)
    sys.stdout.flush()
