"""The examples of docs/snakemake.md run, in order, in a fresh project folder."""

from __future__ import annotations

from test_docs import blocks


def test_snakemake_doc_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    found = blocks("snakemake.md")
    assert len(found) >= 5
    namespace: dict[str, object] = {}
    for filename, code in found:
        if filename:
            project.write_module(filename.removesuffix(".py"), code)
        else:
            exec(compile(code, "docs/snakemake.md example", "exec"), namespace)
