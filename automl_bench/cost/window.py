"""Measuring a block of work as a window on its node's meter: the trial side of the meter.

The block's wall-clock and energy come from the node meter (its share of the node, by the rule in
``attribution.py``); its CPU time is this process's. Opening and closing a window is two calls to
the meter, well under a millisecond of work each, so metering costs a trial almost nothing.

A block can step out of its window for a while (``Measurement.paused``): a trial does while it
waits for the driver to take a report, which is the driver's bookkeeping, not the trial's work.
The window closes for the pause and opens again after it; the block's record is the sum of its
pieces, and the pause goes to the node's idle / overhead line.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from automl_bench.cost.attribution import Energy, Holding
from automl_bench.cost.node_meter import NodeMeter
from automl_bench.cost.prices import Prices
from automl_bench.cost.record import CostRecord, total

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
    """Filled in when the ``metered`` block ends; ``paused_s``: the seconds it stepped out."""

    record: CostRecord = field(default_factory=CostRecord)
    paused_s: float = 0.0
    _pause: Callable[[], AbstractContextManager[None]] | None = field(default=None, repr=False)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Run the block outside the window (closed before it, opened again after it)."""
        if self._pause is None:  # the metered block has ended: nothing to step out of
            yield
            return
        with self._pause():
            yield


@contextmanager
def metered(meter: WindowMeter, prices: Prices) -> Iterator[Measurement]:
    """Measure the block as one window; ``Measurement.record`` is set when the block ends."""
    out = Measurement()
    pieces: list[CostRecord] = []
    window, cpu0 = [""], [0.0]  # the open piece's window and the CPU time it started at

    def start() -> None:
        window[0], cpu0[0] = uuid.uuid4().hex, time.process_time()
        meter.open(window[0])

    def stop() -> None:
        usage = meter.close(window[0])
        cpu_s = time.process_time() - cpu0[0]
        pieces.append(prices.record(usage, meter.measured, cpu_s=cpu_s))

    @contextmanager
    def pause() -> Iterator[None]:
        stop()
        t0 = time.monotonic()
        try:
            yield
        finally:
            out.paused_s += time.monotonic() - t0
            start()

    start()
    out._pause = pause
    try:
        yield out
    finally:
        out._pause = None
        stop()
        out.record = total(pieces)
