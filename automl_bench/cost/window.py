"""Measuring a block of work as a window on its node's meter: the trial side of the meter.

The block's wall-clock and energy come from the node meter (its share of the node, by the rule in
``attribution.py``); its CPU time is this process's. Opening and closing a window is two calls to
the meter, well under a millisecond of work each, so metering costs a trial almost nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from automl_bench.cost.attribution import Energy, Holding
from automl_bench.cost.node_meter import NodeMeter
from automl_bench.cost.prices import Prices
from automl_bench.cost.record import CostRecord

NOT_MEASURED = {"cpu": "none", "gpu": "none", "ram": "none"}


class WindowMeter(Protocol):
    """The node meter as one process sees it (what it holds is bound in)."""

    @property
    def measured(self) -> Mapping[str, str]: ...

    def open(self, window: str) -> None: ...

    def close(self, window: str) -> Energy: ...


class Unmetered:
    """No meter on this node: wall-clock and CPU time only, energy marked as not measured."""

    def __init__(self, cpus: float = 0.0, gpus: float = 0.0) -> None:
        self._cpus, self._gpus = cpus, gpus
        self._started: dict[str, float] = {}

    @property
    def measured(self) -> Mapping[str, str]:
        return NOT_MEASURED

    def open(self, window: str) -> None:
        self._started[window] = time.monotonic()

    def close(self, window: str) -> Energy:
        seconds = time.monotonic() - self._started.pop(window)
        return Energy(wall_s=seconds, core_s=self._cpus * seconds, device_s=self._gpus * seconds)


class LocalWindowMeter:
    """Windows on a node meter in this process (no Ray: tests, benchmarks, library use)."""

    def __init__(self, meter: NodeMeter, holding: Holding) -> None:
        self._meter, self._holding = meter, holding

    @property
    def measured(self) -> Mapping[str, str]:
        return self._meter.measured

    def open(self, window: str) -> None:
        self._meter.open(window, self._holding)

    def close(self, window: str) -> Energy:
        return self._meter.close(window)


@dataclass
class Measurement:
    """Filled in when the ``metered`` block ends."""

    record: CostRecord = field(default_factory=CostRecord)


@contextmanager
def metered(meter: WindowMeter, prices: Prices) -> Iterator[Measurement]:
    """Measure the block as one window; ``Measurement.record`` is set when the block ends."""
    window = uuid.uuid4().hex
    out = Measurement()
    cpu0 = time.process_time()
    meter.open(window)
    try:
        yield out
    finally:
        usage = meter.close(window)
        out.record = prices.record(usage, meter.measured, cpu_s=time.process_time() - cpu0)
