"""The examples of docs/snakemake.md run, in order, in a fresh project folder."""

from __future__ import annotations

from test_docs import blocks, run_doc


def test_snakemake_doc_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    assert len(blocks("snakemake.md")) >= 5
    run_doc("snakemake.md", project)
