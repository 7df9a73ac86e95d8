"""The Snakemake backend: a plan in, ``{relative path: text}`` out. Pure and deterministic.

The same plan always renders to byte-identical files: no time stamps, no absolute paths, no
interpreter paths, sorted tables. Files (relative to the output folder)::

    Snakefile                     the rules (named or wildcard layout, see ``rules``)
    jobs.json                     lookup table of the wildcard layout
    tasks/<task>/<key>.json       one task description per job
    profiles/local/config.yaml    Snakemake profile: this machine
    profiles/slurm/config.yaml    Snakemake profile: SLURM
    profiles/slurm/logs/README.md the folder of SLURM's own job logs
    README.md                     how to run it, what each task asks for
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..backend import Description
from ..plan import Plan
from ..templates import render
from .options import SnakemakeOptions, validate_options
from .readme import task_rows
from .rules import RuleSet, build_rules, choose_layout, count_rules

#: Where files go, relative to the output folder.
SNAKEFILE = "Snakefile"
JOBS_TABLE = "jobs.json"
#: The profile's ``slurm-logdir`` (``logs``, read relative to the profile folder while that
#: folder exists: this file keeps it there).
SLURM_LOGS = "profiles/slurm/logs/README.md"
#: How to run the workflow: only a missing output makes a job run (see the Snakefile).
RUN_COMMAND = "snakemake -s {entry} --cores 4 --rerun-triggers mtime"


def compile_snakemake(
    plan: Plan, options: SnakemakeOptions | None = None, ruleset: RuleSet | None = None
) -> dict[str, str]:
    """Render `plan` into the files of a Snakemake workflow, keyed by path in the output folder.

    `options`: the default SnakemakeOptions() unless given; `ruleset` is
    ``build_rules(plan, options.layout)``, computed here unless given.
    """
    options = options or SnakemakeOptions()
    if ruleset is None:
        ruleset = build_rules(plan, options.layout)
    context: dict[str, Any] = {
        "outdir": plan.outdir,
        "root_from_outdir": plan.root_from_outdir,
        "layout": ruleset.layout,
        "rules": ruleset.rules,
        "targets": ruleset.targets,
        "n_jobs": len(plan.jobs),
        "n_tasknames": len({j.taskname for j in plan.jobs}),
        "n_batches": sum(r.style == "batch" for r in ruleset.rules),
        "tasks": task_rows(plan),
        "slurm": options.slurm,
    }
    files = {
        SNAKEFILE: render("snakemake/Snakefile.j2", context),
        "profiles/local/config.yaml": render("snakemake/profiles/local/config.yaml.j2", context),
        "profiles/slurm/config.yaml": render("snakemake/profiles/slurm/config.yaml.j2", context),
        SLURM_LOGS: render("snakemake/profiles/slurm/logs/README.md.j2", context),
        "README.md": render("snakemake/README.md.j2", context),
    }
    if ruleset.layout == "wildcard":
        files[JOBS_TABLE] = json.dumps(ruleset.table, indent=None, separators=(",", ":")) + "\n"
    files.update(plan.task_files())
    return files


class SnakemakeBackend:
    """A Snakefile, its lookup table, the task files and two profiles (local, SLURM)."""

    name = "snakemake"
    options_type = SnakemakeOptions

    def validate_options(self, options: Mapping[str, object]) -> SnakemakeOptions:
        return validate_options(options)

    def render(self, plan: Plan, options: SnakemakeOptions) -> dict[str, str]:
        return compile_snakemake(plan, options)

    def describe(self, plan: Plan, options: SnakemakeOptions) -> Description:
        layout = choose_layout(plan, options.layout)
        rules = count_rules(plan, options.layout)
        notes = []
        if options.slurm.account is None:
            notes.append(
                "profiles/slurm sets no SLURM account. On a cluster that needs one, export "
                "with --slurm-account ACCOUNT (slurm_account=...); without it, every run of "
                "the SLURM profile lets the plugin guess one with sacct (or submit without -A)."
            )
        return Description(
            text=f"{layout} layout, {rules} rule{'s' if rules != 1 else ''}",
            entry=SNAKEFILE,
            run=RUN_COMMAND,
            details={"layout": layout, "rules": rules},
            notes=tuple(notes),
        )

    def __repr__(self) -> str:
        return "SnakemakeBackend()"


BACKEND = SnakemakeBackend()
