"""The backend-neutral workflow plan: jobs, task types and batches as plain data.

``make_plan(graph, root=..., outdir=..., batch=..., durations=...)`` builds it from a traced
task graph (batch sizes may come from recorded durations, which the caller passes in);
backends (``smttask.compile.backend``) render it into files.
"""

from .batching import output_pattern, scale_runtime, task_types
from .build import make_plan, relative
from .model import (
    AutoBatch,
    Batch,
    BatchSize,
    Job,
    Plan,
    Resources,
    ResourceValue,
    TaskDuration,
    TaskType,
)
from .sizing import (
    DEFAULT_MINUTES,
    FALLBACK_SIZE,
    MAX_AUTO_SIZE,
    BatchRequest,
    BatchSpec,
    auto_tasknames,
    batch_sizes,
)

__all__ = [
    "DEFAULT_MINUTES",
    "FALLBACK_SIZE",
    "MAX_AUTO_SIZE",
    "AutoBatch",
    "Batch",
    "BatchRequest",
    "BatchSize",
    "BatchSpec",
    "Job",
    "Plan",
    "ResourceValue",
    "Resources",
    "TaskDuration",
    "TaskType",
    "auto_tasknames",
    "batch_sizes",
    "make_plan",
    "output_pattern",
    "relative",
    "scale_runtime",
    "task_types",
]
