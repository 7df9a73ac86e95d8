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

from . import failures

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
    "migrate": "migrate:migrate",
    "job-server": "jobserver:job_server",
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
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Show the Python traceback of a failure (after its one-line message).",
)
def cli(verbose: int) -> None:
    """smttask: reproducible, cached, recorded tasks, compiled to Snakemake pipelines.

    Run `smttask COMMAND --help` for the options of each command. A failure is one line
    starting with "Error:" and a non-zero exit code (1; 2 for a bad command line, 130 when
    interrupted); -v adds its traceback.
    """
    failures.set_verbose(verbose)


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: every failure becomes one sentence on stderr and an exit code
    (see ``smttask.cli.failures``); a traceback only with -v."""
    failures.reset()
    try:
        return cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click's name for Ctrl-C
            click.echo("Interrupted.", err=True)
            sys.exit(failures.EXIT_INTERRUPTED)
        click.echo("Aborted.", err=True)
        sys.exit(failures.EXIT_FAILURE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(failures.EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.exit(failures.broken_pipe())
    except SystemExit:
        raise
    except Exception as exc:  # the last resort: one sentence, never a bare traceback
        sys.exit(failures.report(exc))
