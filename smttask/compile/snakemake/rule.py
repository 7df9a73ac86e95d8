"""One Snakemake rule as data, and the helpers every layout uses to fill it."""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass

from ...errors import CompileError
from ..plan import Job, Plan, ResourceValue


@dataclass(frozen=True)
class Rule:
    name: str
    style: str  # "named" | "batch" | "wildcard"
    taskname: str
    keys: tuple[str, ...]  # jobs run by this rule
    taskfiles: tuple[str, ...]  # literal files, or one pattern with {key}
    upstream: tuple[str, ...]  # literal files (named, batch); wildcard rules use the table
    outputs: tuple[str, ...]  # literal files, or patterns with {key}
    log: str
    threads: str  # Python source: a number or a lookup
    resources: tuple[tuple[str, str], ...]  # name -> Python source
    retries: int
    constraint: str = ""  # regex of {key} (wildcard rules)
    message: str = ""  # what Snakemake prints for a job (a str.format pattern)
    directories: tuple[bool, ...] = ()  # per output: whether it is a folder (OutputDir)
    label: str = ""  # the job's label (named rules), for the comment above the rule
    #: Wildcard rules: whether any job has upstream files (in the table). A rule none of whose
    #: jobs has any declares no input function: Snakemake would call it once per job.
    lookup_upstream: bool = False

    def is_directory(self, index: int) -> bool:
        return index < len(self.directories) and self.directories[index]


def escape(path: str) -> str:
    """A literal path for a Snakemake input/output (braces would start a wildcard)."""
    return path.replace("{", "{{").replace("}", "}}")


#: Longest label part of a rule name (the digest part comes on top).
NAME_WIDTH = 48


def label_identifier(label: str) -> str:
    """The words of a task label as an identifier part: ``simulate(tau=0.5, seed=3)`` →
    ``simulate_tau_0_5_seed_3``."""
    words = re.sub(r"\W+", "_", label, flags=re.ASCII).strip("_")
    return words[:NAME_WIDTH].rstrip("_")


def message(text: str) -> str:
    """`text` as a Snakemake ``message:`` (formatted by Snakemake: braces doubled)."""
    return escape(text)


def batch_message(labels: list[str], limit: int = 160) -> str:
    n = len(labels)
    shown = ", ".join(labels)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return f"{n} task{'s' if n != 1 else ''}: {shown}"


def identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name, flags=re.ASCII)
    if not ident or not (ident[0].isalpha() or ident[0] == "_"):
        ident = f"t_{ident}"
    if keyword.iskeyword(ident) or ident == "all":
        ident += "_"
    return ident


#: The resource every rule gets: the attempt, for ``smttask run --attempt`` (see the Snakefile).
ATTEMPT_RESOURCE = "smttask_attempt"


def check_resources(plan: Plan) -> None:
    """CompileError if a job declares a resource the workflow sets itself."""
    for job in plan.jobs:
        if any(name == ATTEMPT_RESOURCE for name, _ in job.resources):
            raise CompileError(
                f"{job.taskname} declares the resource {ATTEMPT_RESOURCE!r}, which the "
                f"exported workflow uses for the attempt number of each job. Rename it."
            )


def resource_source(job: Job, name: str, value: ResourceValue) -> str:
    text = repr(value) if isinstance(value, int) else _quote(value)
    if name == "mem_mb" and job.retries and isinstance(value, int):
        return f"lambda wildcards, attempt: {value} * attempt"
    return text


def _quote(text: str) -> str:
    return json.dumps(text)


def upstream_files(plan: Plan, jobs: list[Job]) -> tuple[str, ...]:
    own = {o for j in jobs for o in j.outputs}
    files: dict[str, None] = {}
    for job in jobs:
        for up in job.upstream:
            for path in plan.job(up).outputs:
                if path not in own:
                    files.setdefault(path, None)
    return tuple(files)
