"""MkDocs hook: the command-line reference page (``reference/cli.md``), generated at build time
from the click commands of ``smttask.cli.cli`` (its lazily imported sub-commands included).

Also runs alone: ``python docs/hooks/cli_reference.py`` prints the page.
"""

from __future__ import annotations

import inspect
from typing import Any

import click

PAGE = "reference/cli.md"

INTRO = """# Command line

Every command of `smttask`, with what `smttask COMMAND --help` shows (`-h` or `--help` on
any command). This page is generated from the commands themselves when the documentation is
built.

"""


def _text(help_text: str) -> str:
    """A click help text as Markdown: paragraphs kept, ``\\b`` blocks (click's "do not
    rewrap") as text blocks."""
    out: list[str] = []
    for paragraph in inspect.cleandoc(help_text).split("\n\n"):
        lines = paragraph.splitlines()
        if lines and lines[0].strip() == "\b":
            out.append("```text\n" + "\n".join(lines[1:]) + "\n```")
        else:
            out.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(out)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _command(cmd: click.Command, ctx: click.Context, level: int) -> list[str]:
    path = ctx.command_path
    usage = " ".join([path, *cmd.collect_usage_pieces(ctx)])
    parts = [f"{'#' * level} `{path}`", f"```text\n{usage}\n```"]
    if cmd.help:
        parts.append(_text(cmd.help))
    help_option = cmd.get_help_option(ctx)
    options = [
        p for p in cmd.get_params(ctx) if isinstance(p, click.Option) and p is not help_option
    ]
    rows = [r for r in (p.get_help_record(ctx) for p in options) if r is not None]
    if rows:
        table = ["| option | meaning |", "|---|---|"]
        table += [f"| `{_cell(decl)}` | {_cell(text)} |" for decl, text in rows]
        parts.append("\n".join(table))
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
            parts += _command(sub, sub_ctx, level + 1)
    return parts


def cli_markdown() -> str:
    """The reference page of every smttask command, as Markdown."""
    from smttask.cli import cli

    ctx = click.Context(cli, info_name="smttask", terminal_width=100, **cli.context_settings)
    return INTRO + "\n\n".join(_command(cli, ctx, 2)) + "\n"


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=cli_markdown()))
    return files


if __name__ == "__main__":
    print(cli_markdown(), end="")
