"""Task graphs: trace tasks and their upstream tasks into a DAG (the only networkx user).

Nodes are tasks, identified by their key (shared subtasks appear once, however many tasks use
them); an edge ``a → b`` means *b* takes the result of *a* as an input. Recorded tasks become
the *jobs* of a workflow; memoized tasks have no files, so they run inside every job that
consumes them, and a job depends on the recorded tasks it reaches through them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from . import hooks
from .errors import GraphError
from .labels import task_labels
from .task import Task


@dataclass(frozen=True)
class Node:
    """One task of the graph."""

    task: Task
    key: str
    recorded: bool
    outputs: tuple[Path, ...]  # files `smttask run` creates for it (recorded tasks only)
    folders: tuple[Path, ...] = ()  # those of `outputs` that are folders (OutputDir results)

    @property
    def label(self) -> str:
        return f"{self.task.name} {self.key[:8]}"


def output_files(task: Task) -> tuple[Path, ...]:
    """The files running `task` creates (the archive of each output, and of each value of a
    variable output whose names are known from the inputs)."""
    paths = hooks.current().outputs.archive_paths(task).values()
    return tuple(p if isinstance(p, Path) else Path(p) for p in paths)


class TaskGraph:
    """A DAG of tasks with deterministic iteration order (topological, ties by name and key)."""

    def __init__(self, graph: nx.DiGraph, targets: Iterable[str]) -> None:
        self._g = graph
        self.targets: tuple[str, ...] = tuple(dict.fromkeys(targets))
        self._order = list(
            nx.lexicographical_topological_sort(graph, key=lambda k: self._sort_key(k))
        )
        self._job_upstream = self._compute_job_upstream()
        self._labels: dict[str, str] | None = None

    def _sort_key(self, key: str) -> tuple[str, str]:
        return (self._g.nodes[key]["node"].task.name, key)

    def __len__(self) -> int:
        return len(self._g)

    def __contains__(self, key: object) -> bool:
        return key in self._g

    def node(self, key: str) -> Node:
        node: Node = self._g.nodes[key]["node"]
        return node

    def nodes(self) -> Iterator[Node]:
        """Every task, upstream tasks before the tasks that use them."""
        for key in self._order:
            yield self.node(key)

    def jobs(self) -> list[Node]:
        """The recorded tasks, upstream before downstream."""
        return [n for n in self.nodes() if n.recorded]

    def label(self, key: str) -> str:
        """The readable name of task `key`: its name and the inputs that tell it apart from
        the other tasks of its type in this graph (``smttask.labels``), e.g.
        ``simulate(tau=0.5, seed=3)``. A label only; the key is the identity."""
        if self._labels is None:
            self._labels = task_labels(self.node(k).task for k in self._order)
        return self._labels[key]

    def upstream(self, key: str) -> list[str]:
        """Keys of the direct upstream tasks of `key`, sorted."""
        return sorted(self._g.predecessors(key), key=self._sort_key)

    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs in a deterministic order."""
        pos = {k: i for i, k in enumerate(self._order)}
        return sorted(self._g.edges(), key=lambda e: (pos[e[1]], pos[e[0]]))

    def job_upstream(self, key: str) -> list[str]:
        """The recorded tasks job `key` needs: direct ones and those behind memoized tasks."""
        return self._job_upstream[key]

    def _compute_job_upstream(self) -> dict[str, list[str]]:
        pos = {k: i for i, k in enumerate(self._order)}
        reach: dict[str, set[str]] = {}  # memoized task -> recorded tasks it needs
        out: dict[str, list[str]] = {}
        for key in self._order:
            needed: set[str] = set()
            for up in self._g.predecessors(key):
                if self.node(up).recorded:
                    needed.add(up)
                else:
                    needed |= reach[up]
            if self.node(key).recorded:
                out[key] = sorted(needed, key=pos.__getitem__)
            else:
                reach[key] = needed
        return out


def trace(tasks: Task | Iterable[Task]) -> TaskGraph:
    """The DAG of `tasks` and everything upstream of them.

    Raises GraphError if the tasks form a cycle or if two different tasks would write the
    same output file.
    """
    targets = [tasks] if isinstance(tasks, Task) else list(tasks)
    for t in targets:
        if not isinstance(t, Task):
            raise GraphError(
                f"Cannot trace {t!r}: it is a {type(t).__name__}, not a task. Pass tasks "
                f"(e.g. simulate(seed=1)), not task types, functions or results."
            )
    g = nx.DiGraph()
    stack = list(targets)
    while stack:
        task = stack.pop()
        key = task.key
        if "node" in g.nodes.get(key, {}):
            continue
        recorded = bool(type(task).recorded)
        outputs = output_files(task) if recorded else ()
        folders = outputs if task._spec.output.is_folder else ()
        g.add_node(key, node=Node(task, key, recorded, outputs, folders))
        for up in task.upstream():
            g.add_edge(up.key, key)
            if "node" not in g.nodes[up.key]:
                stack.append(up)
    _check_acyclic(g)
    _check_outputs(g)
    return TaskGraph(g, [t.key for t in targets])


def _describe(g: nx.DiGraph, key: str) -> str:
    node: Node = g.nodes[key]["node"]
    return f"{node.task!r} (digest {key[:10]})"


def _check_acyclic(g: nx.DiGraph) -> None:
    if nx.is_directed_acyclic_graph(g):  # a few times faster than looking for a cycle
        return
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    names = [_describe(g, a) for a, _ in cycle] + [_describe(g, cycle[0][0])]
    raise GraphError(
        "The tasks form a cycle, so no order can run them: "
        + " → ".join(names)
        + ". A task's inputs must not depend on the task itself; check which inputs were "
        "replaced after the tasks were created."
    )


def _check_outputs(g: nx.DiGraph) -> None:
    owner: dict[Path, str] = {}
    for key, data in g.nodes(data=True):
        for path in data["node"].outputs:
            other = owner.setdefault(path, key)
            if other != key:
                first, second = sorted([other, key])
                raise GraphError(
                    f"Two different tasks would write the same output file {path}: "
                    f"{_describe(g, first)} and {_describe(g, second)}. Their output paths "
                    f"must differ: check the output store's file names, or give one of the "
                    f"functions another name."
                )
