"""Starting or joining Ray. A local Ray by default; an existing cluster when an address is given."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# Set before Ray is imported: Tune's own CSV/JSON/TensorBoard loggers would write per-trial files
# we never read; our closing result carries no metric when a trial fails.
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network at run time: no usage reports

OBJECT_STORE_BYTES = 256 * 1024**2  # trials pass configs and metrics only; data is made on workers


@dataclass(frozen=True)
class ClusterInfo:
    address: str | None  # None: a local Ray started here
    cpus: float
    gpus: float


@contextmanager
def ray_cluster(address: str | None = None) -> Iterator[ClusterInfo]:
    """Ray for the length of the block: joins ``address`` (or RAY_ADDRESS) or starts a local one."""
    import optuna
    import ray

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    address = address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():
        ray.shutdown()
    if address:
        host = address.removeprefix("ray://").rsplit(":", 1)[0]
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        ray.init(
            address=address,
            log_to_driver=False,
            logging_level=logging.ERROR,
            # a head on loopback is on this machine: this driver's node is known there by that IP
            _node_ip_address="127.0.0.1" if loopback else None,
        )
    else:
        ray.init(
            address="local",  # a new local Ray, never a cluster someone left running here
            num_cpus=os.cpu_count() or 1,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,
            object_store_memory=OBJECT_STORE_BYTES,
        )
    try:
        resources = ray.cluster_resources()  # type: ignore[no-untyped-call]
        yield ClusterInfo(address, float(resources.get("CPU", 0)), float(resources.get("GPU", 0)))
    finally:
        ray.shutdown()
