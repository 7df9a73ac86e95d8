"""The Snakemake backend: a plan in, ``{relative path: text}`` out. Pure and deterministic.

The same plan always renders to byte-identical files: no time stamps, no absolute paths, no
interpreter paths, sorted tables. Files (relative to the output folder)::

    Snakefile                     the rules (named or wildcard layout, see ``rules``)
    jobs.json                     lookup table of the wildcard layout
    tasks/<task>/<key>.json       one task description per job
    profiles/local/config.yaml    Snakemake profile: this machine
    profiles/slurm/config.yaml    Snakemake profile: SLURM
    README.md                     how to run it
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import PurePosixPath
from typing import Any

from .plan import Plan
from .rules import RuleSet, build_rules
from .templates import render

#: Where files go, relative to the output folder.
SNAKEFILE = "Snakefile"
JOBS_TABLE = "jobs.json"


def compile_snakemake(plan: Plan, ruleset: RuleSet | None = None) -> dict[str, str]:
    """Render `plan` into the files of a Snakemake workflow, keyed by path in the output folder.

    `ruleset` is ``build_rules(plan)``, computed here unless given.
    """
    if ruleset is None:
        ruleset = build_rules(plan)
    context: dict[str, Any] = {
        "outdir": plan.outdir,
        "root_from_outdir": plan.root_from_outdir,
        "layout": ruleset.layout,
        "rules": ruleset.rules,
        "targets": ruleset.targets,
        "n_jobs": len(plan.jobs),
        "n_tasknames": len({j.taskname for j in plan.jobs}),
        "n_batches": sum(r.style == "batch" for r in ruleset.rules),
        "counts": sorted(Counter(j.name for j in plan.jobs).items()),
        "slurm": plan.slurm,
    }
    files = {
        SNAKEFILE: render("Snakefile.j2", context),
        "profiles/local/config.yaml": render("profiles/local/config.yaml.j2", context),
        "profiles/slurm/config.yaml": render("profiles/slurm/config.yaml.j2", context),
        "README.md": render("README.md.j2", context),
    }
    if ruleset.layout == "wildcard":
        files[JOBS_TABLE] = json.dumps(ruleset.table, indent=None, separators=(",", ":")) + "\n"
    prefix = PurePosixPath(plan.outdir)
    for job in plan.jobs:
        files[_inside(job.taskfile, prefix)] = job.desc
    return files


def _inside(path: str, folder: PurePosixPath) -> str:
    """`path` (relative to the project root) relative to the output folder."""
    if str(folder) == ".":
        return path
    return str(PurePosixPath(path).relative_to(folder))
