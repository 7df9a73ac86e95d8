"""SumatraTask's ``smttask.workflows`` names, kept so that existing workflow code imports.

New code imports from ``smttask`` (or ``smttask.params``); docs/howto-sweeps.md maps each name.
"""

from .params import (
    Expandable,
    ParamColl,
    SeedGenerator,
    expand,
    run_workflow,
    set_workflow_args,
    workflow_args,
)

__all__ = [
    "Expandable",
    "ParamColl",
    "SeedGenerator",
    "expand",
    "run_workflow",
    "set_workflow_args",
    "workflow_args",
]
