"""Options of the Snakemake backend (layout, SLURM profile) and their checks.

Light to import (no jinja2, no networkx): the command line reads the choices from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...errors import CompileError

#: ``layout``: "named" (one rule per job), "wildcard" (one rule per task type), "auto".
LAYOUTS = ("auto", "named", "wildcard")
#: ``slurm_status_command``: how the SLURM profile polls job states (None: the plugin's default).
STATUS_COMMANDS = ("sacct", "squeue")


@dataclass(frozen=True)
class SlurmOptions:
    """What ``profiles/slurm/config.yaml`` says."""

    account: str | None = None
    partition: str | None = None
    status_command: str | None = None  # "squeue" on clusters without accounting
    mem_mb: int = 1000
    runtime: str = "60m"
    jobs: int = 100


@dataclass(frozen=True)
class SnakemakeOptions:
    layout: str = "auto"
    slurm: SlurmOptions = SlurmOptions()


#: The keyword options ``export(..., backend="snakemake", **options)`` takes.
OPTION_NAMES = ("layout", "slurm_account", "slurm_partition", "slurm_status_command")


def validate_options(options: Mapping[str, object]) -> SnakemakeOptions:
    """SnakemakeOptions from the keyword options of an export; CompileError if one is bad."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise CompileError(
            f"The snakemake backend has no option {unknown[0]!r}. Its options are "
            f"{', '.join(OPTION_NAMES)}."
        )
    layout = options.get("layout", "auto")
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise CompileError(f"Unknown layout {layout!r}: choose auto, named or wildcard.")
    account = _text(options, "slurm_account", "the SLURM account (sbatch -A), e.g. 'mylab'")
    partition = _text(options, "slurm_partition", "the SLURM partition (sbatch -p), e.g. 'short'")
    status = options.get("slurm_status_command")
    if status is not None and (not isinstance(status, str) or status not in STATUS_COMMANDS):
        raise CompileError(
            f"SLURM status command {status!r} is not supported: use 'squeue' "
            f"(clusters without accounting) or 'sacct'."
        )
    return SnakemakeOptions(
        layout=layout,
        slurm=SlurmOptions(account=account, partition=partition, status_command=status),
    )


def _text(options: Mapping[str, object], name: str, what: str) -> str | None:
    value = options.get(name)
    if value is None or isinstance(value, str):
        return value
    raise CompileError(f"{name}={value!r} is not a valid option: give {what}, or None.")
