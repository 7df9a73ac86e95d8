"""Snakemake rules for a plan: layout choice, rule names, batches, lookup tables.

Two layouts:

* **named**: one rule per job, every file spelled out. Readable, but Snakemake's cost grows
  with the square of the number of rules (measured: 1,000 rules 2.6 s, 5,000 rules 32 s,
  20,000 rules 669 s for a dry run), so ``auto`` uses it up to ``NAMED_MAX_RULES`` rules.
* **wildcard**: one rule per task type, the digest as wildcard ``{key}``; which upstream
  files a job needs (and, if they differ between jobs of one rule, its threads and resources)
  comes from a lookup table (``jobs.json``).

Batches (``batch``): independent jobs of one task type share one ``smttask run a.json b.json
...`` process; a batch is always a named rule listing its files.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from ..errors import CompileError
from .batches import batch_rules
from .plan import Job, Plan
from .rule import Rule, escape, identifier, resource_source, upstream_files

#: Largest number of rules for which `--layout auto` picks the named layout.
NAMED_MAX_RULES = 500


@dataclass(frozen=True)
class RuleSet:
    layout: str  # "named" | "wildcard"
    rules: tuple[Rule, ...]
    table: dict[str, Any]  # wildcard rule name -> lookups (jobs.json)
    targets: frozenset[str]  # rule names whose outputs `rule all` requests


def build_rules(plan: Plan) -> RuleSet:
    groups = _groups(plan)
    batched: list[Rule] = []
    single: list[list[Job]] = []
    counters: dict[str, int] = defaultdict(int)
    for group in groups:
        size = plan.batch.get(group[0].name, plan.batch.get("*", 0))
        if size:
            batched.extend(batch_rules(plan, group, size, counters))
        else:
            single.append(group)
    n_single = sum(len(g) for g in single)
    layout = plan.layout
    if layout == "auto":
        layout = "named" if n_single + len(batched) <= NAMED_MAX_RULES else "wildcard"
    rules: list[Rule] = list(batched)
    table: dict[str, Any] = {}
    if layout == "named":
        taken: set[str] = {r.name for r in batched}
        for job in sorted((j for g in single for j in g), key=_position(plan)):
            rules.append(_named_rule(plan, job, taken))
    else:
        wildcard = []
        for name, group in _wildcard_names(single):
            rule, lookups = _wildcard_rule(plan, name, group)
            wildcard.append(rule)
            table[name] = lookups
        rules.extend(_constrain(wildcard))
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


def _position(plan: Plan) -> Any:
    pos = {j.key: i for i, j in enumerate(plan.jobs)}
    return lambda job: pos[job.key]


def _pattern(job: Job) -> tuple[str, ...] | None:
    """The job's outputs with its key replaced by {key}; None if a file name lacks the key."""
    out = []
    for path in job.outputs:
        folder, _, filename = path.rpartition("/")
        if not filename.startswith(job.key):
            return None
        prefix = f"{escape(folder)}/" if folder else ""
        out.append(prefix + "{key}" + escape(filename[len(job.key) :]))
    return tuple(out)


def _groups(plan: Plan) -> list[list[Job]]:
    """Jobs of one task name with the same output file pattern (one wildcard rule each)."""
    groups: dict[tuple[str, tuple[str, ...] | None, str], list[Job]] = defaultdict(list)
    for job in plan.jobs:
        pattern = _pattern(job)
        # Jobs without a key-based pattern cannot share a wildcard rule: keep them apart.
        groups[(job.name, pattern, "" if pattern else job.key)].append(job)
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1] or (), k[2]))]


# -- named rules --------------------------------------------------------------------------------


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


# -- batches ------------------------------------------------------------------------------------


def _wildcard_names(groups: list[list[Job]]) -> list[tuple[str, list[Job]]]:
    named: list[tuple[str, list[Job]]] = []
    taken: set[str] = set()
    for group in sorted(groups, key=lambda g: (g[0].name, g[0].taskname, g[0].key)):
        base = identifier(group[0].name)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        named.append((name, group))
    return named


def _constrain(rules: list[Rule]) -> list[Rule]:
    """Constrain {key} where two rules write into one folder (else they could be ambiguous).

    Elsewhere the default (any text) is unambiguous and cheaper: Snakemake matches every
    requested file against each constraint.
    """
    folders: dict[str, int] = defaultdict(int)
    for rule in rules:
        for folder in {o.rpartition("/")[0] for o in rule.outputs}:
            folders[folder] += 1
    out = []
    for rule in rules:
        if any(folders[o.rpartition("/")[0]] > 1 for o in rule.outputs):
            out.append(rule)
        else:
            out.append(replace(rule, constraint=""))
    return out


def _constraint(keys: list[str]) -> str:
    if all(re.fullmatch(r"[0-9a-f]+", k) for k in keys):
        return "[0-9a-f]+"
    return r"[0-9a-f]+(?:__[A-Za-z0-9_]+)?"


def _wildcard_rule(plan: Plan, name: str, group: list[Job]) -> tuple[Rule, dict[str, Any]]:
    first = group[0]
    pattern = _pattern(first)
    if pattern is None:
        raise CompileError(
            f"{first.taskname}: its output files {list(first.outputs)} do not start with the "
            f"task's key, so one wildcard rule cannot describe them. Use --layout named."
        )
    lookups: dict[str, Any] = {"keys": [j.key for j in group]}
    upstream = {j.key: list(upstream_files(plan, [j])) for j in group if j.upstream}
    lookups["upstream"] = upstream
    threads = str(first.threads)
    if len({j.threads for j in group}) > 1:
        lookups["threads"] = {j.key: j.threads for j in group}
        threads = f'lambda wildcards: JOBS["{name}"]["threads"][wildcards.key]'
    resources = [(n, resource_source(first, n, v)) for n, v in first.resources]
    if len({j.resources for j in group}) > 1:
        names = {tuple(n for n, _ in j.resources) for j in group}
        if len(names) > 1:
            raise CompileError(
                f"Tasks named {first.name!r} from different code declare different resources "
                f"({sorted(names)}), so they cannot share one wildcard rule. Rename one of the "
                f"functions, declare the same resource names, or use --layout named."
            )
        lookups["resources"] = {j.key: dict(j.resources) for j in group}
        retries = max(j.retries for j in group)
        resources = []
        for n, _ in first.resources:
            get = f'JOBS["{name}"]["resources"][wildcards.key]["{n}"]'
            scale = " * attempt" if n == "mem_mb" and retries else ""
            resources.append((n, f"lambda wildcards, attempt: {get}{scale}"))
    rule = Rule(
        name=name,
        style="wildcard",
        taskname=first.taskname,
        keys=tuple(j.key for j in group),
        taskfiles=(escape(plan.path("tasks", first.name)) + "/{key}.json",),
        upstream=(),
        outputs=pattern,
        log=escape(plan.path("logs", first.name)) + "/{key}.log",
        threads=threads,
        resources=tuple(resources),
        retries=max(j.retries for j in group),
        constraint=_constraint([j.key for j in group]),
    )
    return rule, lookups
