"""Power sources for the node meter: CodeCarbon's offline tracker measuring the whole machine.

CodeCarbon runs in ``machine`` tracking mode with a PUE of 1 (the PUE is applied once, when
pricing) and never makes a network call (``OfflineEmissionsTracker``). Each reading is a
``stop_task`` / ``start_task`` pair (0.6 ms here): the energy between two readings. Starting the
tracker probes the hardware (2-3 s), once per node.

GPU energy is CodeCarbon's, which reads NVML's total-energy counter. On a node with several GPUs
it is split between devices in proportion to each device's own counter over the interval (the
same counter, read per device through pynvml, the library CodeCarbon reads it with).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automl_bench.cost.attribution import Reading

_CPU_MODES = {
    "intel_rapl": "rapl",
    "windows_emi": "rapl",
    "intel_power_gadget": "rapl",
    "apple_powermetrics": "rapl",
    "cpu_load": "tdp-estimate",
    "tdp": "tdp-estimate",
    "constant": "constant",
}


def measured_by(tracker: Any) -> dict[str, str]:
    """How a started tracker's figures come about: a counter, an estimate or a constant."""
    from codecarbon.external.hardware import CPU, GPU
    from codecarbon.external.ram import RAM

    out = {"cpu": "none", "gpu": "none", "ram": "none"}
    for hardware in getattr(tracker, "_hardware", []):
        if isinstance(hardware, CPU):
            out["cpu"] = _CPU_MODES.get(str(getattr(hardware, "_mode", "")), "tdp-estimate")
        elif isinstance(hardware, GPU):
            out["gpu"] = "nvml"
        elif isinstance(hardware, RAM):
            out["ram"] = "estimate"
    return out


class _DeviceCounters:
    """NVML's total-energy counter per GPU, in mJ; None where it cannot be read."""

    def __init__(self) -> None:
        import pynvml  # type: ignore[import-untyped]

        self._nvml = pynvml
        self._handles = [
            pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
        ]
        self._last = self._read()

    def _read(self) -> list[float | None]:
        out: list[float | None] = []
        for handle in self._handles:
            try:
                out.append(float(self._nvml.nvmlDeviceGetTotalEnergyConsumption(handle)))
            except self._nvml.NVMLError:
                out.append(None)
        return out

    def weights(self) -> list[float]:
        """Each device's fraction of the GPU energy since the previous call (even if unknown)."""
        now = self._read()
        deltas = [
            (b - a) if a is not None and b is not None and b >= a else None
            for a, b in zip(self._last, now, strict=True)
        ]
        self._last = now
        if any(d is None for d in deltas) or sum(d or 0.0 for d in deltas) <= 0:
            return [1.0 / len(deltas)] * len(deltas)
        total = sum(d or 0.0 for d in deltas)
        return [(d or 0.0) / total for d in deltas]


class CodeCarbonSource:
    """The whole machine's CPU, GPU and RAM energy, from one CodeCarbon offline tracker."""

    def __init__(self, country_iso_code: str, output_dir: Path) -> None:
        from codecarbon import OfflineEmissionsTracker

        logging.getLogger("codecarbon").setLevel(logging.ERROR)
        output_dir.mkdir(parents=True, exist_ok=True)
        self._tracker = OfflineEmissionsTracker(
            country_iso_code=country_iso_code,
            output_dir=str(output_dir),
            save_to_file=False,
            log_level="error",
            tracking_mode="machine",
            pue=1.0,
            allow_multiple_runs=True,
        )
        self._tracker.start_task()  # probes the hardware: the 2-3 s start, once
        self._measured = measured_by(self._tracker)
        self._counters: _DeviceCounters | None = None
        self.gpu_count = 0
        if self._measured["gpu"] == "nvml":
            self._counters = _DeviceCounters()
            self.gpu_count = len(self._counters.weights())

    @property
    def measured(self) -> Mapping[str, str]:
        return self._measured

    def read(self) -> Reading:
        data = self._tracker.stop_task()
        self._tracker.start_task()
        gpu = float(data.gpu_energy) if data is not None else 0.0
        per_device: dict[int, float] = {}
        if self._counters is not None:
            per_device = {i: gpu * w for i, w in enumerate(self._counters.weights())}
        elif gpu > 0:
            per_device = {0: gpu}
        if data is None:
            return Reading(gpu_kwh=per_device)
        return Reading(
            cpu_kwh=float(data.cpu_energy), ram_kwh=float(data.ram_energy), gpu_kwh=per_device
        )
