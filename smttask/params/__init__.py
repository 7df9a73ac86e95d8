"""Parameter sweeps: collections of parameters, seeded random values, reproducible seeds, and
workflow modules run with other globals.

::

    from smttask import ParamColl, expand

    class Sim(ParamColl):
        tau: float
        sigma: float = 1.0
        seed: int = 0

    sweep = Sim(tau=expand([0.5, 1.0, 2.0]), seed=expand([1, 2]))
    tasks = [simulate(**point) for point in sweep.outer()]     # 6 tasks

See docs/howto-sweeps.md. Nothing here imports scipy: random fields use the distribution
the user passes (and import scipy.stats only to read one back from a task file).
"""

from .collection import ParamColl
from .expand import Draws, Expandable, Values, expand
from .product import Points
from .seeds import SeedGenerator
from .workflow import run_workflow, set_workflow_args, workflow_args

__all__ = [
    "Draws",
    "Expandable",
    "ParamColl",
    "Points",
    "SeedGenerator",
    "Values",
    "expand",
    "run_workflow",
    "set_workflow_args",
    "workflow_args",
]
