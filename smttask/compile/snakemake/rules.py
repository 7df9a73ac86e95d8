"""Snakemake rules for a plan: layout choice, named rules, the targets of ``rule all``.

Two layouts:

* **named**: one rule per job, every file spelled out. Readable, but Snakemake's cost grows
  with the square of the number of rules (measured: 1,000 rules 2.6 s, 5,000 rules 32 s,
  20,000 rules 669 s for a dry run), so ``auto`` uses it up to ``NAMED_MAX_RULES`` rules.
* **wildcard**: one rule per task type, the digest as wildcard ``{key}`` (see ``wildcard``).

The plan's batches are always named rules listing their files (see ``batches``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import CompileError
from ..plan import Job, Plan, TaskType
from .batches import batch_rules
from .options import LAYOUTS
from .rule import Rule, check_resources, escape, identifier, resource_source, upstream_files
from .wildcard import wildcard_rules

#: Largest number of rules for which `--layout auto` picks the named layout.
NAMED_MAX_RULES = 500


@dataclass(frozen=True)
class RuleSet:
    layout: str  # "named" | "wildcard"
    rules: tuple[Rule, ...]
    table: dict[str, Any]  # wildcard rule name -> lookups (jobs.json)
    targets: frozenset[str]  # rule names whose outputs `rule all` requests


def choose_layout(plan: Plan, layout: str = "auto") -> str:
    """The layout `layout` stands for: "auto" picks by the number of rules."""
    if layout not in LAYOUTS:
        raise CompileError(f"Unknown layout {layout!r}: choose auto, named or wildcard.")
    if layout != "auto":
        return layout
    n_single = sum(len(t.keys) for t in _single(plan))
    return "named" if n_single + len(plan.batches) <= NAMED_MAX_RULES else "wildcard"


def count_rules(plan: Plan, layout: str = "auto") -> int:
    """How many rules (besides ``rule all``) `build_rules(plan, layout)` makes."""
    single = _single(plan)
    per_type = choose_layout(plan, layout) == "wildcard"
    return len(plan.batches) + (len(single) if per_type else sum(len(t.keys) for t in single))


def build_rules(plan: Plan, layout: str = "auto") -> RuleSet:
    check_resources(plan)
    layout = choose_layout(plan, layout)
    batched = batch_rules(plan)
    rules: list[Rule] = list(batched)
    table: dict[str, Any] = {}
    single = _single(plan)
    if layout == "named":
        taken: set[str] = {r.name for r in batched}
        position = {j.key: i for i, j in enumerate(plan.jobs)}
        keys = sorted((k for t in single for k in t.keys), key=position.__getitem__)
        for key in keys:
            rules.append(_named_rule(plan, plan.job(key), taken))
    else:
        wildcard, table = wildcard_rules(plan, single)
        rules.extend(wildcard)
    # `rule all` asks for the jobs no other job needs; Snakemake finds the rest.
    needed = {u for j in plan.jobs for u in j.upstream}
    sinks = {j.key for j in plan.jobs} - needed
    targets = set()
    for rule in rules:
        ends = [k for k in rule.keys if k in sinks]
        if ends:
            targets.add(rule.name)
            if rule.style == "wildcard":
                table[rule.name]["targets"] = ends
    return RuleSet(layout, tuple(rules), table, frozenset(targets))


def _single(plan: Plan) -> list[TaskType]:
    """The task types whose jobs run one per process."""
    return [t for t in plan.task_types if not t.batches]


def _named_rule(plan: Plan, job: Job, taken: set[str]) -> Rule:
    base = identifier(job.name)
    digest, sep, iteration = job.key.partition("__")  # iterative tasks: <digest>__<param><n>
    length = 8
    name = identifier(f"{base}_{digest[:length]}{sep}{iteration}")
    while name in taken:
        length += 4
        name = identifier(f"{base}_{digest[:length]}{sep}{iteration}")
    taken.add(name)
    return Rule(
        name=name,
        style="named",
        taskname=job.taskname,
        keys=(job.key,),
        taskfiles=(escape(job.taskfile),),
        upstream=tuple(escape(p) for p in upstream_files(plan, [job])),
        outputs=tuple(escape(p) for p in job.outputs),
        log=escape(plan.path("logs", job.name, f"{job.key}.log")),
        threads=str(job.threads),
        resources=tuple((n, resource_source(job, n, v)) for n, v in job.resources),
        retries=job.retries,
    )
