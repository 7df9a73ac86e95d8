"""``smttask store lineage``: the chain of records behind a result."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("file_or_label")
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON.")
@click.option("--prov", is_flag=True, help="Print the lineage as W3C PROV-JSON.")
def lineage(file_or_label: str, as_json: bool, prov: bool) -> None:
    """Show the records behind FILE_OR_LABEL (a result file, or a record's label or the
    start of it), back to the raw inputs: each record with its task, status, time, commit
    and inputs, and below it the stored results it read and the records that produced them.
    """
    from ..recording.lineage import lineage as tree
    from ..recording.lineage import resolve
    from ..recording.lineage_export import render, to_json, to_prov
    from ..recording.store import open_store

    if as_json and prov:
        raise click.UsageError("Give --json or --prov, not both.")
    store = open_store()
    top = tree(store, resolve(store, file_or_label))
    if prov:
        info = store.info
        doc = to_prov(top, input_root=info.input_root, output_root=info.output_root)
        click.echo(json.dumps(doc, indent=2))
    elif as_json:
        click.echo(json.dumps(to_json(top), indent=2))
    else:
        for line in render(top):
            click.echo(line)
