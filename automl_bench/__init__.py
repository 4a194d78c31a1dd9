"""automl-bench: is automated model design worth it here? Measured, with its cost.

``import automl_bench`` starts nothing: Ray, MLflow and CodeCarbon are imported where used.
"""

from __future__ import annotations

from automl_bench.errors import ConfigError
from automl_bench.space import SearchSpace, load_search_space, suggest_training
from automl_bench.tasks.base import TaskInfo

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "SearchSpace",
    "TaskInfo",
    "__version__",
    "load_search_space",
    "suggest_training",
]
