"""What ``explain`` finds: per task, what a run would do and why, as text or JSON."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: What a run would do with a task.
COMPUTE, LOAD, SKIP = "compute", "load", "skip"


@dataclass(frozen=True)
class Reason:
    """One reason for a task's action.

    `kind`: ``output-missing``, ``input``, ``code``, ``version``, ``kind``, ``upstream``,
    ``earlier-failed``, ``removed``, ``new``, ``memoized``, ``resumes``, ``file``."""

    kind: str
    text: str  # one line for people
    name: str | None = None  # the input, code part or upstream task concerned
    old: str | None = None  # the earlier value, when known
    new: str | None = None  # the current value
    diff: str | None = None  # a short unified diff of the source (code changes)
    record: str | None = None  # the earlier record compared with

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class TaskExplanation:
    """What a run would do with one task, and why."""

    name: str  # the function's name
    taskname: str  # module.qualname
    key: str  # identifies its results
    kind: str  # RecordedTask, MemoizedTask...
    action: str  # COMPUTE, LOAD or SKIP
    reasons: tuple[Reason, ...] = ()
    outputs: tuple[str, ...] = ()  # result files (recorded tasks)
    source: str | None = None  # the task file it came from, if any

    @property
    def label(self) -> str:
        return f"{self.name} {self.key[:12]}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.name,
            "taskname": self.taskname,
            "key": self.key,
            "kind": self.kind,
            "action": self.action,
            "reasons": [r.as_dict() for r in self.reasons],
            "outputs": list(self.outputs),
        }
        if self.source is not None:
            out["file"] = self.source
        return out

    def text(self) -> str:
        lines = [f"{self.action:<8} {self.label}  ({self.kind})"]
        if self.source is not None:
            lines[0] += f"  {self.source}"
        for reason in self.reasons:
            lines.append(f"    - {reason.text}")
            if reason.diff:
                lines.extend(f"        {line}" for line in reason.diff.splitlines())
        return "\n".join(lines)


@dataclass(frozen=True)
class Explanation:
    """The explanation of every task in a graph, upstream tasks first."""

    tasks: tuple[TaskExplanation, ...]
    notes: tuple[str, ...] = field(default=())  # e.g. why earlier records could not be read

    def __iter__(self) -> Any:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, index: int) -> TaskExplanation:
        return self.tasks[index]

    def by_key(self, key: str) -> TaskExplanation:
        for t in self.tasks:
            if t.key == key:
                return t
        raise KeyError(key)

    def counts(self) -> dict[str, int]:
        found = Counter(t.action for t in self.tasks)
        return {a: found.get(a, 0) for a in (COMPUTE, LOAD, SKIP)}

    def computing(self) -> list[TaskExplanation]:
        return [t for t in self.tasks if t.action == COMPUTE]

    def summary(self) -> str:
        c = self.counts()
        text = f"{len(self.tasks)} tasks: {c[COMPUTE]} compute, {c[LOAD]} load"
        if c[SKIP]:
            text += f", {c[SKIP]} not needed"
        return text + "."

    def text(self, *, every: bool = False) -> str:
        """Plain text: the tasks that compute (with `every`: all tasks), then a summary."""
        shown = [t.text() for t in self.tasks if every or t.action == COMPUTE]
        lines = [*shown, *(f"Note: {n}" for n in self.notes), self.summary()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def as_dict(self) -> dict[str, Any]:
        return {
            "tasks": [t.as_dict() for t in self.tasks],
            "counts": self.counts(),
            "notes": list(self.notes),
        }

    def json(self) -> str:
        """``as_dict()`` as JSON text, one task a line (``json.dumps`` with ``indent`` takes
        Python's slow encoder: seconds for a graph of 20,000 tasks)."""
        tasks = ",\n".join(f"    {json.dumps(t.as_dict())}" for t in self.tasks)
        counts, notes = json.dumps(self.counts()), json.dumps(list(self.notes))
        body = f"[\n{tasks}\n  ]" if tasks else "[]"
        return f'{{\n  "tasks": {body},\n  "counts": {counts},\n  "notes": {notes}\n}}'
