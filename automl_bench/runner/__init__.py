"""Scheduling on Ray: the only part of automl-bench that imports ray.

Imported lazily by the experiment driver; ``import automl_bench`` does not start or import Ray.
"""

from __future__ import annotations

from automl_bench.runner.cluster import ClusterInfo, ray_cluster
from automl_bench.runner.deployment import measure_deployments
from automl_bench.runner.meters import NodeMeters, start_node_meters
from automl_bench.runner.tuner import run_trials

__all__ = [
    "ClusterInfo",
    "NodeMeters",
    "measure_deployments",
    "ray_cluster",
    "run_trials",
    "start_node_meters",
]
