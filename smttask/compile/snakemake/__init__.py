"""The Snakemake backend: rules (named and wildcard layouts, batches), lookup table, profiles.

``BACKEND`` is what ``smttask.compile.backend.get_backend("snakemake")`` returns.
"""

from .options import (
    LAYOUTS,
    OPTION_NAMES,
    STATUS_COMMANDS,
    SlurmOptions,
    SnakemakeOptions,
    validate_options,
)
from .rule import Rule, identifier
from .rules import NAMED_MAX_RULES, RuleSet, build_rules, choose_layout, count_rules
from .workflow import JOBS_TABLE, SNAKEFILE, SnakemakeBackend, compile_snakemake

BACKEND = SnakemakeBackend()

__all__ = [
    "BACKEND",
    "JOBS_TABLE",
    "LAYOUTS",
    "NAMED_MAX_RULES",
    "OPTION_NAMES",
    "SNAKEFILE",
    "STATUS_COMMANDS",
    "Rule",
    "RuleSet",
    "SlurmOptions",
    "SnakemakeBackend",
    "SnakemakeOptions",
    "build_rules",
    "choose_layout",
    "compile_snakemake",
    "count_rules",
    "identifier",
    "validate_options",
]
