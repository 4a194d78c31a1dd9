"""One node meter per Ray node, as a named actor pinned to its node, and the windows on it.

``start_node_meters`` starts a meter on every live node before any trial (CodeCarbon's 2-3 s
hardware probe, once per node, all nodes at once). A trial, or the driver's own decision-making,
finds the meter of the node it runs on by name and opens and closes windows on it, holding the
CPUs and GPU shares Ray gave it. If a node has no meter (it joined after the start), its windows
are timed but their energy is marked as not measured, never guessed.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from automl_bench.cost.attribution import Energy, Holding
from automl_bench.cost.node_meter import NodeMeter, NodeTotals
from automl_bench.cost.window import NOT_MEASURED, Unmetered

PREFIX = "automl-bench-meter-"
logger = logging.getLogger(__name__)


@ray.remote(num_cpus=0)
class _MeterActor:
    def __init__(self, country_iso_code: str, cpus: float, gpus: float) -> None:
        from automl_bench.cost.sources import CodeCarbonSource

        # CodeCarbon writes nothing here (save_to_file=False) but wants the folder to exist: a
        # local temporary one, since output_dir may not exist on every node
        source = CodeCarbonSource(
            country_iso_code, Path(tempfile.gettempdir()) / "automl-bench-codecarbon"
        )
        self._meter = NodeMeter(source, cpus, max(source.gpu_count, int(gpus)))
        self._deposits: dict[str, dict[str, Any]] = {}

    def measured(self) -> dict[str, str]:
        return dict(self._meter.measured)

    def open(self, window: str, cpus: float, gpus: dict[int, float]) -> None:
        self._meter.open(window, Holding(cpus, gpus))

    def close(self, window: str) -> Energy:
        return self._meter.close(window)

    def totals(self) -> NodeTotals:
        return self._meter.totals()

    def deposit(self, key: str, payload: dict[str, Any]) -> None:
        """A closing result no one else can take (a trial the scheduler stopped)."""
        self._deposits[key] = payload

    def collect(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        return {k: self._deposits.pop(k) for k in keys if k in self._deposits}


@dataclass
class NodeMeters:
    """The meters of one experiment, by node id."""

    actors: dict[str, Any]

    lost: list[str] = field(default_factory=list)  # nodes whose meter went with them

    def totals(self) -> dict[str, NodeTotals]:
        """Each live node's totals; a node lost during the run (its meter with it) is left out
        and named in ``lost``: what it spent is not measured."""
        out: dict[str, NodeTotals] = {}
        for node_id, actor in self.actors.items():
            try:
                out[node_id] = ray.get(actor.totals.remote())
            except ray.exceptions.RayError:
                self._lose(node_id)
        return out

    def _lose(self, node_id: str) -> None:
        if node_id not in self.lost:
            logger.warning("node %s was lost: its meter is gone, its energy not measured", node_id)
            self.lost.append(node_id)

    def collect(self, keys: set[str], timeout_s: float = 30.0) -> dict[str, dict[str, Any]]:
        """The closing results deposited under ``keys`` on any node, waiting up to
        ``timeout_s`` for the last ones (a stopped trial deposits when its epoch ends)."""
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout_s
        while True:
            wanted = sorted(keys - set(found))
            for node_id, actor in self.actors.items():
                if node_id in self.lost:
                    continue
                try:
                    found.update(ray.get(actor.collect.remote(wanted)))
                except ray.exceptions.RayError:
                    self._lose(node_id)
            if len(found) == len(keys) or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


def start_node_meters(country_iso_code: str) -> NodeMeters:
    """A meter on every live node; returns once all have started."""
    actors: dict[str, Any] = {}
    for node in ray.nodes():  # type: ignore[no-untyped-call]
        if not node.get("Alive"):
            continue
        node_id, resources = node["NodeID"], node.get("Resources", {})
        actors[node_id] = _MeterActor.options(  # type: ignore[attr-defined]
            name=PREFIX + node_id,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        ).remote(
            country_iso_code,
            float(resources.get("CPU", 0)),
            float(resources.get("GPU", 0)),
        )
    ray.get([a.measured.remote() for a in actors.values()])
    return NodeMeters(actors)


class RayWindowMeter:
    """This process's node meter, with what this process holds bound in (a ``WindowMeter``)."""

    def __init__(self, cpus: float, gpus: float) -> None:
        self._cpus = cpus
        gpu_ids = [int(i) for i in ray.get_gpu_ids()] if gpus > 0 else []
        self._gpus = {i: (gpus / len(gpu_ids) if gpus < 1 else 1.0) for i in gpu_ids}
        self._fallback = Unmetered(cpus, sum(self._gpus.values()))
        self._actor: Any = None
        self._measured: Mapping[str, str] = NOT_MEASURED
        try:
            node_id = ray.get_runtime_context().get_node_id()
            self._actor = ray.get_actor(PREFIX + node_id)
            self._measured = ray.get(self._actor.measured.remote())
        except (ValueError, ray.exceptions.RayError):
            logger.warning("no energy meter on this node: energy not measured here")
            self._actor = None

    def __getstate__(self) -> dict[str, Any]:
        # A copy pickled with Tune's experiment (the searcher's, in tuner.pkl) must unpickle in
        # a driver on another cluster (--resume), where this node's meter is not: it is a copy
        # that times only, and the resumed driver brings its own meter.
        return {**self.__dict__, "_actor": None, "_measured": NOT_MEASURED}

    @property
    def measured(self) -> Mapping[str, str]:
        return self._measured

    def open(self, window: str) -> None:
        self._fallback.open(window)
        if self._actor is not None:
            try:
                ray.get(self._actor.open.remote(window, self._cpus, self._gpus))
            except ray.exceptions.RayError:
                self._lost()

    def close(self, window: str) -> Energy:
        timed = self._fallback.close(window)
        if self._actor is None:
            return timed
        try:
            energy: Energy = ray.get(self._actor.close.remote(window))
            return energy
        except ray.exceptions.RayError:
            self._lost()
            return timed

    def deposit(self, key: str, payload: dict[str, Any]) -> None:
        """Leave a closing result with this node's meter for the driver to collect."""
        if self._actor is not None:
            try:
                ray.get(self._actor.deposit.remote(key, payload))
            except ray.exceptions.RayError:
                self._lost()

    def _lost(self) -> None:
        logger.warning("the node's energy meter is gone: energy not measured from here on")
        self._actor, self._measured = None, NOT_MEASURED
