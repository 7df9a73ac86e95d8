"""For every task of a graph: would a run compute it or load it, and why."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .. import hooks
from ..recording.lineage import input_texts
from ..task import Task
from ..taskfile import FORMAT_KEY, FORMAT_VERSION, _kind_name
from . import matching
from .earlier import Earlier, EarlierRecords
from .model import COMPUTE, LOAD, SKIP, Explanation, Reason, TaskExplanation
from .sources import Sources

#: Changed code parts listed per task (with a diff each).
MAX_PARTS = 5


class Node:
    """A task of the explained graph, with the keys of its direct upstream tasks."""

    __slots__ = ("key", "recorded", "task", "upstream")

    def __init__(self, task: Task, upstream: Iterable[Task]) -> None:
        self.task = task
        self.key = task.key
        self.recorded = bool(type(task).recorded)
        self.upstream = list(dict.fromkeys(t.key for t in upstream))


def walk(tasks: Task | Iterable[Task]) -> tuple[list[Node], list[str]]:
    """Every task `tasks` need, upstream tasks first (depth first, without recursion), and
    the keys of `tasks`. (No cycle can occur: computing a digest refuses one.)"""
    targets = [tasks] if isinstance(tasks, Task) else list(tasks)
    order: list[Node] = []
    seen: set[str] = set()
    for target in targets:
        if target.key in seen:
            continue
        seen.add(target.key)
        ups = target.upstream()
        stack: list[tuple[Task, list[Task], Iterator[Task]]] = [(target, ups, iter(ups))]
        while stack:
            task, ups, pending = stack[-1]
            for up in pending:
                if up.key not in seen:
                    seen.add(up.key)
                    theirs = up.upstream()
                    stack.append((up, theirs, iter(theirs)))
                    break
            else:
                stack.pop()
                order.append(Node(task, ups))
    return order, [t.key for t in targets]


def outputs_exist(task: Task, session: hooks.Session) -> tuple[bool, tuple[str, ...]]:
    """Whether every output of recorded `task` is on disk (its archive or its link, not
    empty: an empty file is what an interrupted write leaves), and its archive files."""
    archives = session.outputs.archive_paths(task)
    files = tuple(str(p) for p in archives.values())
    if all(_nonempty(p) for p in archives.values()):
        return True, files
    links = session.outputs.paths(task)
    return all(_nonempty(links[n]) or _nonempty(archives.get(n)) for n in links), files


def _nonempty(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return os.stat(path).st_size > 0
    except OSError:
        return False


class Explainer:
    """Explains the tasks of one graph against the earlier records of one store."""

    def __init__(
        self,
        nodes: list[Node],
        targets: list[str],
        session: hooks.Session,
        records: EarlierRecords,
        sources: Sources | None,
        files: Mapping[str, tuple[str, Earlier | None, str | None]] | None = None,
    ) -> None:
        self.nodes = nodes
        self.targets = targets
        self.session = session
        self.records = records
        self.sources = sources
        self.files = files or {}  # key -> (task file, its description if for other code, why)
        self.shapes = matching.TaskShapes()
        self.actions: dict[str, str] = {}
        self.outputs: dict[str, tuple[str, ...]] = {}
        self._changed: dict[tuple[str, str], list[str]] = {}
        self._old_texts: dict[int, tuple[Earlier, dict[str, str]]] = {}  # by id(earlier)
        self._kinds: dict[type, str] = {}

    def _kind(self, task: Task) -> str:
        found = self._kinds.get(type(task))
        if found is None:
            found = self._kinds[type(task)] = _kind_name(type(task))
        return found

    def _old_inputs(self, earlier: Earlier) -> dict[str, str]:
        """The inputs of `earlier` as short text (each earlier description read once)."""
        found = self._old_texts.get(id(earlier))
        if found is None or found[0] is not earlier:
            found = self._old_texts[id(earlier)] = (earlier, input_texts(earlier.desc))
        return found[1]

    def run(self) -> list[TaskExplanation]:
        nodes = self.nodes
        downstream: dict[str, list[str]] = {n.key: [] for n in nodes}
        for n in nodes:
            for up in n.upstream:
                downstream[up].append(n.key)
        targets = set(self.targets)
        for n in reversed(nodes):  # the tasks using a task first
            if n.recorded:
                exists, self.outputs[n.key] = outputs_exist(n.task, self.session)
                self.actions[n.key] = LOAD if exists else COMPUTE
            else:
                needed = n.key in targets or any(
                    self.actions[d] == COMPUTE for d in downstream[n.key]
                )
                self.actions[n.key] = COMPUTE if needed else SKIP
        # a recorded task only loads if it is needed at all: its consumers decide
        return [self._explain(n) for n in nodes]

    def _explain(self, node: Node) -> TaskExplanation:
        task, action = node.task, self.actions[node.key]
        source, file_earlier, file_note = self.files.get(node.key, (None, None, None))
        reasons: list[Reason] = []
        if file_note:
            reasons.append(Reason("file", file_note, record=None))
        if not node.recorded:
            text = (
                "memoized: not stored, computed in the process of a task that uses it"
                if action == COMPUTE
                else "memoized, and no task that uses it computes"
            )
            reasons.append(Reason("memoized", text))
        elif action == LOAD:
            reasons.append(Reason("output-exists", "its results are on disk"))
        else:
            reasons.append(Reason("output-missing", "its results are not on disk"))
            reasons.extend(self._why(task, file_earlier))
        return TaskExplanation(
            name=task.name,
            taskname=task.taskname,
            key=node.key,
            kind=self._kind(task),
            action=action,
            reasons=tuple(reasons),
            outputs=self.outputs.get(node.key, ()),
            source=source,
        )

    def _why(self, task: Task, file_earlier: Earlier | None) -> list[Reason]:
        hashes = self.shapes.hashes(task)
        if file_earlier is not None:
            earlier: Earlier | None = file_earlier
            differing = sorted(
                k
                for k in set(hashes) | set(file_earlier.hashes)
                if hashes.get(k) != file_earlier.hashes.get(k)
            )
        else:
            earlier, differing = self.records.of_type(task.taskname).closest(hashes)
        if earlier is None:
            return [
                Reason(
                    "new",
                    f"no earlier result of {task.taskname} is recorded: nothing to compare with",
                )
            ]
        reasons = self._code_reasons(task, earlier)
        for name in differing:
            reasons.append(self._input_reason(task, earlier, name))
        if not differing:
            reasons.extend(self._upstream_reasons(task, earlier))
        if not reasons:
            reasons.append(self._same_reason(earlier))
        return reasons

    def _code_reasons(self, task: Task, earlier: Earlier) -> list[Reason]:
        spec, desc, where = task._spec, earlier.desc, earlier.where
        reasons = []
        kind = self._kind(task)
        if isinstance(desc.get("kind"), str) and desc["kind"] != kind:
            reasons.append(
                Reason(
                    "kind",
                    f"kind changed: {desc['kind']} in {where}, {kind} now",
                    old=desc["kind"],
                    new=kind,
                    record=earlier.label,
                )
            )
        old_version = desc.get("version")
        if spec.version is not None or old_version is not None:
            if old_version != spec.version:
                reasons.append(
                    Reason(
                        "version",
                        f"version changed: {_version(old_version)} in {where}, "
                        f"{_version(spec.version)} now",
                        old=None if old_version is None else str(old_version),
                        new=spec.version,
                        record=earlier.label,
                    )
                )
            return reasons
        code = desc.get("code")
        if not isinstance(code, Mapping):
            reasons.append(
                Reason(
                    "code",
                    f"{where} was made by an earlier smttask whose task identity did not "
                    f"cover code (task file format {desc.get('smttask_format')!r})",
                    record=earlier.label,
                )
            )
            return reasons
        if code.get("digest") == spec.code.digest:
            return reasons
        parts = code.get("parts")
        old_parts = {str(k): str(v) for k, v in parts.items()} if isinstance(parts, Mapping) else {}
        memo = (task.taskname, str(code.get("digest")))
        changed = self._changed.get(memo)
        if changed is None:
            changed = self._changed[memo] = spec.code.changed_parts(old_parts)
        for part in changed[:MAX_PARTS]:
            state = (
                "is new"
                if part not in old_parts
                else "is gone"
                if part not in spec.code.as_dict()
                else "changed"
            )
            diff = None
            if self.sources is not None and earlier.commit:
                diff = self.sources.diff(part, earlier.commit)
            reasons.append(
                Reason(
                    "code",
                    f"code changed: {part} {state} since {where}",
                    name=part,
                    diff=diff,
                    record=earlier.label,
                )
            )
        if len(changed) > MAX_PARTS:
            more = ", ".join(changed[MAX_PARTS:])
            reasons.append(Reason("code", f"code changed: also {more}", record=earlier.label))
        return reasons

    def _input_reason(self, task: Task, earlier: Earlier, name: str) -> Reason:
        old = self._old_inputs(earlier).get(name)
        new = None
        if name in task.inputs:
            encoded = _encode_for_text(task.inputs[name])
            new = input_texts({"inputs": {name: encoded}}).get(name)
        if old is None:
            text = f"input {name} is new since {earlier.where} (now {new})"
        elif new is None:
            text = f"input {name} is gone since {earlier.where} (was {old})"
        else:
            text = f"input {name} changed: {old} in {earlier.where}, {new} now"
        return Reason("input", text, name=name, old=old, new=new, record=earlier.label)

    def _upstream_reasons(self, task: Task, earlier: Earlier) -> list[Reason]:
        reasons = []
        inputs = earlier.desc.get("inputs")
        assert isinstance(inputs, Mapping)
        for name, value in task.inputs.items():
            now = matching.tasks_in(value)
            if not now:
                continue
            before = matching.embedded(inputs.get(name))
            for up, old in zip(now, before):
                if old.get("digest") is None or old.get("digest") == up.key:
                    continue
                reruns = self.actions.get(up.key) == COMPUTE
                reasons.append(
                    Reason(
                        "upstream",
                        f"upstream task {up.name} (input {name}) "
                        f"{'reruns' if reruns else 'changed'}: {str(old.get('digest'))[:12]} "
                        f"in {earlier.where}, {up.key[:12]} now",
                        name=up.name,
                        old=str(old.get("digest")),
                        new=up.key,
                        record=earlier.label,
                    )
                )
        return reasons

    def _same_reason(self, earlier: Earlier) -> Reason:
        if earlier.status and earlier.status != "finished":
            return Reason(
                "earlier-failed",
                f"the last run with these inputs and code did not finish ({earlier.where}: "
                f"{earlier.status})",
                record=earlier.label,
            )
        return Reason(
            "removed",
            f"{earlier.where} made this very result, but its files are gone (deleted, moved "
            f"or invalidated)",
            record=earlier.label,
        )


def _version(value: Any) -> str:
    return "no version (code counts)" if value is None else f"version {str(value)!r}"


def _encode_for_text(value: Any) -> Any:
    """`value` as JSON for its short text, an upstream task in the shape of its description
    (name, kind, inputs; no code or digest), so that it reads as in an earlier record's:
    ``<name>`` (recorded) or ``name(inputs...)`` (memoized)."""
    from .. import serialization

    def hook(v: Any) -> Any:
        if isinstance(v, Task):
            return {
                FORMAT_KEY: FORMAT_VERSION,
                "task": v._spec.qualname,
                "kind": _kind_name(type(v)),
                "inputs": {k: serialization.encode(x, hook=hook) for k, x in v.inputs.items()},
            }
        return None

    return serialization.encode(value, hook=hook)


def explain_tasks(
    tasks: Task | Iterable[Task],
    session: hooks.Session,
    records: EarlierRecords,
    sources: Sources | None,
    files: Mapping[str, tuple[str, Earlier | None, str | None]] | None = None,
) -> Explanation:
    with hooks.using(session):
        nodes, targets = walk(tasks)
        found = Explainer(nodes, targets, session, records, sources, files).run()
    return Explanation(tuple(found))
