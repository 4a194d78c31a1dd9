"""automl-bench: is automated model design worth it here? Measured, with its cost.

``import automl_bench`` starts nothing: Ray, MLflow and CodeCarbon are imported where used.
"""

from __future__ import annotations

from automl_bench.errors import ConfigError
from automl_bench.space import SearchSpace, load_search_space, suggest_training
from automl_bench.tasks.base import TaskInfo
from automl_bench.testing import SearchSpaceCheckError, check_search_space

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "SearchSpace",
    "SearchSpaceCheckError",
    "TaskInfo",
    "__version__",
    "check_search_space",
    "load_search_space",
    "suggest_training",
]
