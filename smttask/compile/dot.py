"""Graphviz DOT text for a task graph (``smttask graph``). Pure and deterministic.

Boxes are recorded tasks (the jobs of a workflow), dashed ellipses memoized tasks (they run
inside the jobs that use them); green means the task's results are on disk.
"""

from __future__ import annotations

import json
from collections.abc import Container

from ..graph import TaskGraph

DONE_COLOR = "#b8e0a8"
TODO_COLOR = "#ffffff"


def _q(text: str) -> str:
    return json.dumps(text)  # a DOT string: double quotes, backslash escapes


def to_dot(graph: TaskGraph, done: Container[str] = ()) -> str:
    """DOT text of `graph`; `done` holds the keys of tasks whose results exist."""
    lines = [
        "digraph tasks {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [color="#555555"];',
    ]
    for node in graph.nodes():
        state = "done" if node.key in done else "to do"
        if node.recorded:
            shape = 'shape=box, style="rounded,filled"'
        else:
            shape = 'shape=ellipse, style="dashed,filled"'
            state = "memoized"
        color = DONE_COLOR if node.key in done else TODO_COLOR
        label = f"{graph.label(node.key)}\n{node.key[:8]}\n{state}"
        tooltip = f"{node.task.taskname} {node.key}"
        lines.append(
            f"  {_q(node.key)} [label={_q(label)}, {shape}, fillcolor={_q(color)}, "
            f"tooltip={_q(tooltip)}];"
        )
    for up, down in graph.edges():
        lines.append(f"  {_q(up)} -> {_q(down)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
