"""What a reproduction finds: per output, per input read, and for the whole record."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ReproductionError

IDENTICAL, WITHIN, DIFFERS, COULD_NOT_RUN = (
    "identical",
    "within tolerance",
    "differs",
    "could not run",
)
#: Statuses that count as reproduced (exit code 0).
ACCEPTED = (IDENTICAL, WITHIN)


@dataclass(frozen=True)
class Tolerance:
    """Float outputs are accepted when every element x (reproduced) of y (recorded) has
    ``|x - y| <= abs + rel * |y|`` (NaN where both are NaN); integers, text and shapes
    must match exactly."""

    rel: float
    abs: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Tolerance:
        """``REL`` or ``REL,ABS`` (e.g. ``1e-9`` or ``1e-6,1e-12``)."""
        parts = [p.strip() for p in text.split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) not in (1, 2) or any(not (v >= 0) or v == float("inf") for v in values):
            raise ReproductionError(
                f"Tolerance {text!r} is not REL or REL,ABS with non-negative finite numbers. "
                f"Give e.g. --tolerance 1e-9 (relative) or --tolerance 1e-6,1e-12 "
                f"(relative, absolute)."
            )
        return cls(*values)

    def __str__(self) -> str:
        return f"rel {self.rel:g}, abs {self.abs:g}"


@dataclass(frozen=True)
class OutputResult:
    """One output of the record, compared with the re-run's."""

    output: str  # the task's output name ("" for a single unnamed output)
    path: str  # the recorded file, relative to the output data store
    status: str  # identical | within tolerance | differs
    recorded_sha1: str
    reproduced_sha1: str | None  # None: the re-run produced no such output
    max_abs: float | None = None  # numbers and arrays: largest |reproduced - recorded|
    max_rel: float | None = None  # ... and largest |reproduced - recorded| / |recorded|
    detail: str = ""  # why there are no figures, or what else differs

    def line(self) -> str:
        name = f"output {self.output!r}" if self.output else "output"
        text = f"{name} ({self.path}): {self.status}"
        if self.status != IDENTICAL:
            figures = []
            if self.max_abs is not None:
                figures.append(f"max abs difference {self.max_abs:.6g}")
            if self.max_rel is not None:
                figures.append(f"max rel difference {self.max_rel:.6g}")
            if figures:
                text += ", " + ", ".join(figures)
            if self.detail:
                text += f" ({self.detail})"
            if self.reproduced_sha1 is not None:
                text += f"; sha1 {self.reproduced_sha1[:12]}, recorded {self.recorded_sha1[:12]}"
        return text


@dataclass(frozen=True)
class InputResult:
    """One stored result the record read, and what the re-run read instead."""

    path: str  # as the record names it (relative to the input data store)
    role: str  # "upstream" or "resumed" (the earlier iteration it started from)
    recorded_sha1: str
    reproduced_sha1: str | None  # None: not matched to a task of the re-run
    how: str  # "recomputed" or "recorded file"

    @property
    def status(self) -> str:
        if self.reproduced_sha1 is None:
            return "not compared"
        return IDENTICAL if self.reproduced_sha1 == self.recorded_sha1 else DIFFERS

    def line(self) -> str:
        what = "resumed from" if self.role == "resumed" else "read"
        return f"{what} {self.path}: {self.how}, {self.status}"


@dataclass(frozen=True)
class Reproduction:
    """The outcome of re-running one record's task from its commit and description."""

    label: str
    task: str  # module.task
    commit: str
    status: str  # identical | within tolerance | differs | could not run
    outputs: tuple[OutputResult, ...] = ()
    inputs: tuple[InputResult, ...] = ()
    reason: str = ""  # why it could not run
    notes: tuple[str, ...] = ()
    seconds: float = 0.0  # the whole reproduction
    task_seconds: float | None = None  # the re-run of the task (with what it recomputed)

    @property
    def ok(self) -> bool:
        """Identical, or within the tolerance given."""
        return self.status in ACCEPTED

    @property
    def differing(self) -> list[OutputResult]:
        return [o for o in self.outputs if o.status != IDENTICAL]

    def lines(self) -> list[str]:
        """The outcome as text: a headline, then the outputs, inputs and notes."""
        head = f"{self.label}  {self.task or '?'}  commit {self.commit[:12] or '?'}: {self.status}"
        if self.status == COULD_NOT_RUN:
            return [f"{head}: {self.reason}", *(f"   note: {n}" for n in self.notes)]
        head += f" ({self.seconds:.1f} s)"
        shown = self.outputs if self.status != IDENTICAL else ()
        return [
            head,
            *(f"   {o.line()}" for o in shown),
            *(f"   {i.line()}" for i in self.inputs if self.status != IDENTICAL),
            *(f"   note: {n}" for n in self.notes),
        ]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        return f"<Reproduction {self.label} {self.status}>"


def overall(outputs: tuple[OutputResult, ...]) -> str:
    """The status of a record from those of its outputs."""
    statuses = {o.status for o in outputs}
    if statuses <= {IDENTICAL}:
        return IDENTICAL
    if statuses <= set(ACCEPTED):
        return WITHIN
    return DIFFERS
