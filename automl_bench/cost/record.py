"""A cost record: what one trial or phase cost, and how each figure was measured."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# How each figure was measured, in the words summary.json uses.
CPU_METHODS = ("rapl", "tdp-estimate", "constant")
GPU_METHODS = ("nvml", "none")
RAM_METHODS = ("estimate",)

METRIC_NAMES = (
    "wall_s",
    "cpu_s",
    "device_s",
    "energy_kwh",
    "energy_kwh_cpu",
    "energy_kwh_gpu",
    "energy_kwh_ram",
    "co2_kg",
)


@dataclass(frozen=True)
class CostRecord:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    device_s: float = 0.0  # GPU-seconds times the share of the GPU held
    energy_kwh_cpu: float = 0.0
    energy_kwh_gpu: float = 0.0
    energy_kwh_ram: float = 0.0
    co2_kg: float = 0.0
    usd: float | None = None  # priced in a later version; None means "not priced", never 0
    measured: Mapping[str, str] = field(default_factory=dict)

    @property
    def energy_kwh(self) -> float:
        return self.energy_kwh_cpu + self.energy_kwh_gpu + self.energy_kwh_ram

    def __add__(self, other: CostRecord) -> CostRecord:
        measured = dict(self.measured)
        for part, how in other.measured.items():
            if measured.get(part, how) != how:
                measured[part] = "mixed"
            else:
                measured[part] = how
        usd = None if self.usd is None and other.usd is None else (self.usd or 0) + (other.usd or 0)
        return CostRecord(
            wall_s=self.wall_s + other.wall_s,
            cpu_s=self.cpu_s + other.cpu_s,
            device_s=self.device_s + other.device_s,
            energy_kwh_cpu=self.energy_kwh_cpu + other.energy_kwh_cpu,
            energy_kwh_gpu=self.energy_kwh_gpu + other.energy_kwh_gpu,
            energy_kwh_ram=self.energy_kwh_ram + other.energy_kwh_ram,
            co2_kg=self.co2_kg + other.co2_kg,
            usd=usd,
            measured=measured,
        )

    def to_metrics(self) -> dict[str, float]:
        """Flat metric names, the same in Tune results and MLflow for every method."""
        return {
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "device_s": self.device_s,
            "energy_kwh": self.energy_kwh,
            "energy_kwh_cpu": self.energy_kwh_cpu,
            "energy_kwh_gpu": self.energy_kwh_gpu,
            "energy_kwh_ram": self.energy_kwh_ram,
            "co2_kg": self.co2_kg,
        }

    def to_tags(self) -> dict[str, str]:
        return {f"measured_{part}": how for part, how in self.measured.items()}

    def to_dict(self) -> dict[str, Any]:
        """The COST shape of summary.json."""
        return {
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "device_s": self.device_s,
            "energy_kwh": {
                "cpu": self.energy_kwh_cpu,
                "gpu": self.energy_kwh_gpu,
                "ram": self.energy_kwh_ram,
                "total": self.energy_kwh,
            },
            "co2_kg": self.co2_kg,
            "usd": self.usd,
            "measured": dict(self.measured),
        }

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> CostRecord:
        """Rebuild a record from a trial's flat result (metrics plus ``measured_*`` entries)."""
        measured = {
            key.removeprefix("measured_"): str(value)
            for key, value in result.items()
            if key.startswith("measured_")
        }
        return cls(
            wall_s=float(result.get("wall_s", 0.0)),
            cpu_s=float(result.get("cpu_s", 0.0)),
            device_s=float(result.get("device_s", 0.0)),
            energy_kwh_cpu=float(result.get("energy_kwh_cpu", 0.0)),
            energy_kwh_gpu=float(result.get("energy_kwh_gpu", 0.0)),
            energy_kwh_ram=float(result.get("energy_kwh_ram", 0.0)),
            co2_kg=float(result.get("co2_kg", 0.0)),
            measured=measured,
        )


def total(records: Iterable[CostRecord]) -> CostRecord:
    out = CostRecord()
    for record in records:
        out = out + record
    return out
