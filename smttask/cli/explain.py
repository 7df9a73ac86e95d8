"""``smttask explain``: what a run would compute or load, and why."""

from __future__ import annotations

import click


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.option(
    "-a", "--all", "every", is_flag=True, help="List the tasks that load too (text output)."
)
def explain(targets: tuple[str, ...], as_json: bool, every: bool) -> None:
    """Say, for every task the TARGETS need, whether a run would compute or load it, and why.

    TARGETS are those of export-snakemake: `file.py:NAME` or `module:NAME` (a task, or a
    list/dict of tasks), task files, or folders of task files. A task that computes is
    compared with the closest earlier record of its type: which input changed (old and new
    value), which code changed (with a short diff), its version, or an upstream task that
    reruns. Nothing is written.

    \b
    Examples:
      smttask explain pipeline.py:tasks
      smttask explain --json build/tasks/
    """
    from ..explain import explain_targets

    result = explain_targets(targets)
    if as_json:
        click.echo(result.json())
    else:
        click.echo(result.text(every=every))
