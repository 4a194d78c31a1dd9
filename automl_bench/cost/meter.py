"""The cost meter: one CodeCarbon offline tracker per process, one cost record per measurement.

Starting a tracker probes the hardware (2-3 s), so each worker process starts one, once, and
every trial it runs is measured as a CodeCarbon task on it. The tracker is offline: it never
makes a network call. It runs in ``process`` tracking mode, so CPU and RAM energy follow this
process's load, not the whole node's; GPU energy is NVML's counter for the device (a later
version attributes it between trials that share a GPU).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_bench.cost.record import CostRecord

_lock = threading.Lock()
_trackers: dict[tuple[str, str], Any] = {}

_CPU_MODES = {
    "intel_rapl": "rapl",
    "windows_emi": "rapl",
    "intel_power_gadget": "rapl",
    "apple_powermetrics": "rapl",
    "cpu_load": "tdp-estimate",
    "tdp": "tdp-estimate",
    "constant": "constant",
}


@dataclass
class Measurement:
    """Filled in when the ``measure`` block ends."""

    record: CostRecord = field(default_factory=CostRecord)
    carbon_intensity_kg_per_kwh: float | None = None


def process_tracker(country_iso_code: str, output_dir: Path) -> Any:
    """This process's started tracker for ``country_iso_code`` (started on first use)."""
    key = (country_iso_code, str(output_dir))
    with _lock:
        tracker = _trackers.get(key)
        if tracker is None:
            from codecarbon import OfflineEmissionsTracker

            logging.getLogger("codecarbon").setLevel(logging.ERROR)
            output_dir.mkdir(parents=True, exist_ok=True)
            tracker = OfflineEmissionsTracker(
                country_iso_code=country_iso_code,
                output_dir=str(output_dir),
                save_to_file=False,
                log_level="error",
                tracking_mode="process",
                measure_power_secs=5,
                allow_multiple_runs=True,
            )
            tracker.start()
            _trackers[key] = tracker
        return tracker


def measured_by(tracker: Any) -> dict[str, str]:
    """How the tracker's figures come about: a counter, an estimate or a constant."""
    from codecarbon.external.hardware import CPU, GPU

    cpu, gpu = "tdp-estimate", "none"
    for hardware in getattr(tracker, "_hardware", []):
        if isinstance(hardware, CPU):
            cpu = _CPU_MODES.get(str(getattr(hardware, "_mode", "")), "tdp-estimate")
        elif isinstance(hardware, GPU):
            gpu = "nvml"
    return {"cpu": cpu, "gpu": gpu, "ram": "estimate"}


@contextmanager
def measure(
    country_iso_code: str, output_dir: Path, gpu_share: float = 0.0
) -> Iterator[Measurement]:
    """Measure the block: wall-clock, this process's CPU seconds, device seconds and energy.

    ``gpu_share`` is the fraction of a GPU the caller holds (0 on CPU): device seconds are the
    wall-clock times that share.
    """
    tracker = process_tracker(country_iso_code, output_dir)
    out = Measurement()
    tracker.start_task()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        yield out
    finally:
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        data = tracker.stop_task()
        energy = float(data.energy_consumed)
        out.carbon_intensity_kg_per_kwh = float(data.emissions) / energy if energy > 0 else None
        out.record = CostRecord(
            wall_s=wall,
            cpu_s=cpu,
            device_s=wall * gpu_share,
            energy_kwh_cpu=float(data.cpu_energy),
            energy_kwh_gpu=float(data.gpu_energy),
            energy_kwh_ram=float(data.ram_energy),
            co2_kg=float(data.emissions),
            measured=measured_by(tracker),
        )
