"""One meter per node: reads the node's energy at every window boundary and shares it out.

Trials (and the driver's own work) open a *window* when they start using the node and close it
when they stop; the meter reads its power source at each of these moments, so every interval
between two readings has a fixed set of open windows, and ``attribution.split`` shares that
interval's energy between them. Closing a window returns its share at once, so a trial reports
its energy when it ends.

Thread-safe; holds no Ray, so tests drive it with a scripted power source and clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from automl_bench.cost.attribution import Energy, Holding, Reading, split


class PowerSource(Protocol):
    """A node's energy, read incrementally. ``measured``: how each part is measured."""

    @property
    def measured(self) -> Mapping[str, str]: ...

    def read(self) -> Reading:
        """The energy used since the previous call (or since the source started)."""
        ...


@dataclass(frozen=True)
class NodeTotals:
    """A node's measured energy and where it went."""

    node: Energy  # what the node's source measured, from the meter's start to now
    windows: Energy  # shared out to windows that have closed
    open_windows: Energy  # shared to windows still open (or never closed: a lost trial)
    idle: Energy  # held by nobody: start-up, gaps between trials, free capacity
    measured: Mapping[str, str] = field(default_factory=dict)
    open_count: int = 0

    @property
    def unaccounted_kwh(self) -> float:
        """Node energy minus windows, open windows and idle: zero up to rounding."""
        return self.node.kwh - self.windows.kwh - self.open_windows.kwh - self.idle.kwh


class NodeMeter:
    def __init__(
        self,
        source: PowerSource,
        node_cpus: float,
        node_gpus: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._cpus = node_cpus
        self._gpus = node_gpus
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, Holding] = {}
        self._shares: dict[str, Energy] = {}
        self._closed = Energy()
        self._idle = Energy()
        self._node = Energy()
        self._last = clock()

    @property
    def measured(self) -> Mapping[str, str]:
        return dict(self._source.measured)

    def _advance(self) -> None:
        now = self._clock()
        reading = self._source.read()
        seconds = max(0.0, now - self._last)
        self._last = now
        shares, idle = split(reading, seconds, self._open, self._cpus, self._gpus)
        for key, share in shares.items():
            self._shares[key] = self._shares[key] + share
        self._idle = self._idle + idle
        self._node = self._node + Energy(
            wall_s=seconds,
            core_s=self._cpus * seconds,
            device_s=self._gpus * seconds,
            cpu_kwh=reading.cpu_kwh,
            gpu_kwh=sum(reading.gpu_kwh.values()),
            ram_kwh=reading.ram_kwh,
        )

    def open(self, window: str, holding: Holding) -> None:
        with self._lock:
            if window in self._open:
                raise ValueError(f"window {window!r} is already open")
            self._advance()
            self._open[window] = holding
            self._shares[window] = Energy()

    def close(self, window: str) -> Energy:
        """The window's share of the node's energy since it opened."""
        with self._lock:
            if window not in self._open:
                raise ValueError(f"window {window!r} is not open")
            self._advance()
            del self._open[window]
            share = self._shares.pop(window)
            self._closed = self._closed + share
            return share

    def totals(self) -> NodeTotals:
        with self._lock:
            self._advance()
            still_open = Energy()
            for key in self._open:
                still_open = still_open + self._shares[key]
            return NodeTotals(
                node=self._node,
                windows=self._closed,
                open_windows=still_open,
                idle=self._idle,
                measured=dict(self._source.measured),
                open_count=len(self._open),
            )
