"""``smttask smt ...``: Sumatra's own command line, on the current project."""

from __future__ import annotations

import sys

import click

from ..recording.smtcli import COMMANDS

_HELP = "\n".join(f"  {name:<10} {text}" for name, text in COMMANDS.items())


@click.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
    help=f"""Run Sumatra's `smt COMMAND ARGS...` on the current project.

Records still waiting in journals are moved into the record store first, so Sumatra
sees every record. `smttask smt COMMAND --help` shows a command's options.

\b
Commands:
{_HELP}

\b
Examples:
  smttask smt list -l            # every record in full
  smttask smt tag good LABEL     # tag a record
  smttask smt view LABEL
""",
)
@click.argument("command", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def smt(ctx: click.Context, command: str | None, args: tuple[str, ...]) -> None:
    if command is None or command in ("-h", "--help"):
        click.echo(ctx.get_help())
        return
    if command not in COMMANDS:
        raise click.UsageError(
            f"Unknown or unsupported smt command {command!r}. Supported: "
            f"{', '.join(COMMANDS)} (use `smttask project init` instead of `smt init`, and "
            f"`smttask run` instead of `smt run`)."
        )
    from ..recording.smtcli import run_smt

    sys.stdout.flush()
    code = run_smt(command, list(args))
    if code:
        raise SystemExit(code)
