"""``smttask graph``: draw a task graph (DOT, or SVG/PNG/PDF through Graphviz's ``dot``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click

FORMATS = {".dot": None, ".gv": None, ".svg": "svg", ".png": "png", ".pdf": "pdf"}


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Picture to write: .svg, .png, .pdf (needs Graphviz's `dot`) or .dot.",
)
def graph(targets: tuple[str, ...], output: Path) -> None:
    """Draw the task graph of TARGETS (same targets as export-snakemake) into OUTPUT.

    Boxes are recorded tasks, dashed ellipses memoized ones; green tasks have their results
    on disk. Each task shows its label (its name and the inputs that tell it apart from the
    other tasks of its type, e.g. simulate(tau=0.5, seed=3)) and the start of its digest.

    \b
    Examples:
      smttask graph pipeline.py:tasks -o dag.svg
      smttask graph build/tasks -o dag.dot
    """
    from ..compile.dot import to_dot
    from ..fileio import write_atomic
    from ..graph import trace
    from ..targets import load_targets

    fmt = FORMATS.get(output.suffix.lower(), "missing")
    if fmt == "missing":
        raise click.BadParameter(
            f"{output}: unknown picture type {output.suffix!r}; use one of {', '.join(FORMATS)}.",
            param_hint="-o",
        )
    task_graph = trace(load_targets(targets))
    done = {n.key for n in task_graph.nodes() if n.recorded and all(p.exists() for p in n.outputs)}
    text = to_dot(task_graph, done)
    if fmt is None:
        data = text.encode()
    else:
        data = _render(text, fmt, output)
    write_atomic(output, data, fsync=False)
    click.echo(f"Wrote {output} ({len(task_graph)} tasks, {len(done)} done).")


def _render(text: str, fmt: str, output: Path) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise click.ClickException(
            f"Drawing {output} needs Graphviz's `dot` program, which is not on PATH. Install "
            f"Graphviz (Debian/Ubuntu: apt-get install graphviz; conda: conda install "
            f"graphviz), or write the graph as DOT text instead: -o {output.with_suffix('.dot')}."
        )
    result = subprocess.run([dot, f"-T{fmt}"], input=text.encode(), capture_output=True)
    if result.returncode != 0:
        raise click.ClickException(
            f"Graphviz `dot -T{fmt}` failed (exit {result.returncode}): "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    return result.stdout
