"""The backend-neutral workflow plan: jobs, task types and batches as plain data.

``make_plan(graph, root=..., outdir=..., batch=...)`` builds it from a traced task graph;
backends (``smttask.compile.backend``) render it into files.
"""

from .batching import batch_sizes, output_pattern, scale_runtime, task_types
from .build import make_plan, relative
from .model import Batch, Job, Plan, Resources, ResourceValue, TaskType

__all__ = [
    "Batch",
    "Job",
    "Plan",
    "ResourceValue",
    "Resources",
    "TaskType",
    "batch_sizes",
    "make_plan",
    "output_pattern",
    "relative",
    "scale_runtime",
    "task_types",
]
