"""The Snakemake backend: rules (named and wildcard layouts, batches), lookup table, profiles.

``BACKEND`` is what ``smttask.compile.backend.get_backend("snakemake")`` returns. The
options (``options``) import nothing heavy, so the command line reads its choices from there;
everything else is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .options import (
    LAYOUTS,
    OPTION_NAMES,
    STATUS_COMMANDS,
    SlurmOptions,
    SnakemakeOptions,
    validate_options,
)

if TYPE_CHECKING:
    from .rule import Rule, identifier
    from .rules import NAMED_MAX_RULES, RuleSet, build_rules, choose_layout, count_rules
    from .workflow import BACKEND, JOBS_TABLE, SNAKEFILE, SnakemakeBackend, compile_snakemake

#: name -> submodule holding it
_LAZY = {
    "Rule": "rule",
    "identifier": "rule",
    "NAMED_MAX_RULES": "rules",
    "RuleSet": "rules",
    "build_rules": "rules",
    "choose_layout": "rules",
    "count_rules": "rules",
    "BACKEND": "workflow",
    "JOBS_TABLE": "workflow",
    "SNAKEFILE": "workflow",
    "SnakemakeBackend": "workflow",
    "compile_snakemake": "workflow",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
