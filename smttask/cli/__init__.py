"""The ``smttask`` command line.

Each sub-command lives in its own module and is imported only when it is invoked, so that
``smttask --help`` and ``smttask run`` start fast.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from ..errors import SmttaskError

#: command name -> "module:attribute" (modules relative to smttask.cli)
COMMANDS = {
    "run": "run:run",
    "project": "project:project",
    "store": "store:store",
    "smt": "smt:smt",
    "export-snakemake": "export:export_snakemake",
    "graph": "graph:graph",
    "reproduce": "reproduce:reproduce",
    "explain": "explain:explain",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._importable(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{module_name}":
                return None
            raise
        command: click.Command = getattr(module, attr)
        return command

    @staticmethod
    def _importable(name: str) -> bool:
        module_name = COMMANDS[name].split(":")[0]
        return importlib.util.find_spec(f"{__name__}.{module_name}") is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="smttask")
def cli() -> None:
    """smttask: reproducible, cached, recorded tasks, compiled to Snakemake pipelines.

    Run `smttask COMMAND --help` for the options of each command.
    """


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: smttask errors become one clear paragraph and exit code 1."""
    try:
        return cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except SmttaskError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
