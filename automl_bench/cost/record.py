"""A cost record: what one trial, phase or line of overhead cost, and how each figure came about.

Energy is IT energy as measured (CPU, GPU, RAM). Carbon and the electricity bill apply the PUE:
``co2_kg = energy_kwh * pue * carbon_intensity`` and ``usd_energy = energy_kwh * pue * tariff``.
``usd_compute`` prices what was held: CPU-seconds held (``core_s``) and GPU-seconds held
(``device_s``) at the hourly rates of the price table. What ``usd`` adds up depends on the
billing (``cost.billing``, see ``prices.py``):

- ``cloud`` (the default, and a record that says none): ``usd = usd_compute``. A cloud instance's
  hourly price already pays for its power, so the electricity bill ``usd_energy`` is reported
  (what that energy would cost at the tariff) but not added: it would be counted twice.
- ``owned``: ``usd = usd_compute + usd_energy``, the amortised hardware plus the electricity.

``energy_kwh_low`` / ``_high`` is the band that the measurement methods allow (see
``uncertainty.py``); the CO2 and USD bands follow from it. Bands add linearly: an estimate's error
is systematic, the same sign in every trial it measures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from automl_bench.cost.uncertainty import describe

# How each figure was measured, in the words summary.json and the MLflow tags use.
CPU_METHODS = ("rapl", "tdp-estimate", "constant", "none")
GPU_METHODS = ("nvml", "none")
RAM_METHODS = ("estimate", "none")
MIXED = "mixed"  # a sum of records measured in different ways

# Numeric fields, flat, as metrics; the same names in Tune results, MLflow and summary.csv.
METRIC_NAMES = (
    "wall_s",
    "cpu_s",
    "core_s",
    "device_s",
    "energy_kwh",
    "energy_kwh_cpu",
    "energy_kwh_gpu",
    "energy_kwh_ram",
    "energy_kwh_low",
    "energy_kwh_high",
    "co2_kg",
    "co2_kg_low",
    "co2_kg_high",
    "usd",
    "usd_compute",
    "usd_energy",
    "usd_energy_low",
    "usd_energy_high",
    "usd_low",
    "usd_high",
)
_CONSTANTS = ("pue", "carbon_intensity_kg_per_kwh")  # kept when equal, dropped when not
_NOT_SUMMED = (*_CONSTANTS, "measured", "billing")
CLOUD, OWNED = "cloud", "owned"  # the billings (cost.billing)


@dataclass(frozen=True)
class CostRecord:
    wall_s: float = 0.0
    cpu_s: float = 0.0  # CPU time the process used
    core_s: float = 0.0  # logical CPUs held times wall-clock
    device_s: float = 0.0  # GPU-seconds times the share of the GPU held
    energy_kwh_cpu: float = 0.0
    energy_kwh_gpu: float = 0.0
    energy_kwh_ram: float = 0.0
    energy_kwh_low: float = 0.0
    energy_kwh_high: float = 0.0
    co2_kg: float = 0.0
    co2_kg_low: float = 0.0
    co2_kg_high: float = 0.0
    usd_compute: float = 0.0
    usd_energy: float = 0.0
    usd_energy_low: float = 0.0
    usd_energy_high: float = 0.0
    pue: float | None = None
    carbon_intensity_kg_per_kwh: float | None = None
    measured: Mapping[str, str] = field(default_factory=dict)
    billing: str | None = None  # cloud or owned; None (nothing priced yet) is billed as cloud

    @property
    def energy_kwh(self) -> float:
        return self.energy_kwh_cpu + self.energy_kwh_gpu + self.energy_kwh_ram

    @property
    def energy_billed(self) -> bool:
        """Whether ``usd`` adds the electricity bill: only for owned hardware."""
        return self.billing == OWNED

    @property
    def usd(self) -> float:
        return self.usd_compute + (self.usd_energy if self.energy_billed else 0.0)

    @property
    def usd_low(self) -> float:
        return self.usd_compute + (self.usd_energy_low if self.energy_billed else 0.0)

    @property
    def usd_high(self) -> float:
        return self.usd_compute + (self.usd_energy_high if self.energy_billed else 0.0)

    def __add__(self, other: CostRecord) -> CostRecord:
        if None not in (self.billing, other.billing) and self.billing != other.billing:
            raise ValueError(f"cannot add a {self.billing} record to a {other.billing} one")
        measured = dict(self.measured)
        for part, how in other.measured.items():
            measured[part] = how if measured.get(part, how) == how else MIXED
        summed: dict[str, Any] = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name not in _NOT_SUMMED
        }
        summed["billing"] = self.billing if self.billing is not None else other.billing
        for name in _CONSTANTS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is None or theirs is None or mine == theirs:
                summed[name] = theirs if mine is None else mine
            else:
                summed[name] = None  # different constants: the sum has none of them
        return CostRecord(**summed, measured=measured)

    def scaled(self, factor: float) -> CostRecord:
        """Every additive figure times ``factor`` (per 1,000 predictions, for instance)."""
        return replace(
            self,
            **{
                f.name: getattr(self, f.name) * factor
                for f in fields(self)
                if f.name not in _NOT_SUMMED
            },
        )

    def to_metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat metric names, the same in Tune results and MLflow for every method."""
        out = {f"{prefix}{name}": float(getattr(self, name)) for name in METRIC_NAMES}
        for name in _CONSTANTS:
            value = getattr(self, name)
            if value is not None:
                out[f"{prefix}{name}"] = float(value)
        return out

    def to_tags(self, prefix: str = "") -> dict[str, str]:
        """``measured_cpu`` and so on, plus ``energy_estimate``: the band in words."""
        tags = {f"{prefix}measured_{part}": how for part, how in self.measured.items()}
        tags[f"{prefix}energy_estimate"] = describe(self.measured)
        if self.billing is not None:
            tags[f"{prefix}billing"] = self.billing
        return tags

    def to_result(self, prefix: str = "") -> dict[str, Any]:
        """Metrics and tags in one flat mapping (what a trial reports)."""
        return {**self.to_metrics(prefix), **self.to_tags(prefix)}

    def to_dict(self) -> dict[str, Any]:
        """The COST shape of summary.json."""
        return {
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "core_s": self.core_s,
            "device_s": self.device_s,
            "energy_kwh": {
                "cpu": self.energy_kwh_cpu,
                "gpu": self.energy_kwh_gpu,
                "ram": self.energy_kwh_ram,
                "total": self.energy_kwh,
                "band": [self.energy_kwh_low, self.energy_kwh_high],
            },
            "co2_kg": self.co2_kg,
            "co2_kg_band": [self.co2_kg_low, self.co2_kg_high],
            "usd": self.usd,
            "usd_compute": self.usd_compute,
            "usd_energy": self.usd_energy,
            "usd_energy_band": [self.usd_energy_low, self.usd_energy_high],
            "usd_band": [self.usd_low, self.usd_high],
            "billing": self.billing,
            "pue": self.pue,
            "carbon_intensity_kg_per_kwh": self.carbon_intensity_kg_per_kwh,
            "measured": dict(self.measured),
            "estimate": describe(self.measured),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CostRecord:
        """The inverse of ``to_dict``."""
        energy, co2 = d["energy_kwh"], d["co2_kg_band"]
        compute = float(d["usd_compute"])
        # the electricity bill's band (a summary written before billing: from the USD band)
        usd = d.get("usd_energy_band") or [float(b) - compute for b in d["usd_band"]]
        return cls(
            wall_s=float(d["wall_s"]),
            cpu_s=float(d["cpu_s"]),
            core_s=float(d["core_s"]),
            device_s=float(d["device_s"]),
            energy_kwh_cpu=float(energy["cpu"]),
            energy_kwh_gpu=float(energy["gpu"]),
            energy_kwh_ram=float(energy["ram"]),
            energy_kwh_low=float(energy["band"][0]),
            energy_kwh_high=float(energy["band"][1]),
            co2_kg=float(d["co2_kg"]),
            co2_kg_low=float(co2[0]),
            co2_kg_high=float(co2[1]),
            usd_compute=compute,
            usd_energy=float(d["usd_energy"]),
            usd_energy_low=float(usd[0]),
            usd_energy_high=float(usd[1]),
            pue=d.get("pue"),
            carbon_intensity_kg_per_kwh=d.get("carbon_intensity_kg_per_kwh"),
            measured=dict(d.get("measured", {})),
            billing=d.get("billing"),
        )

    @classmethod
    def from_result(cls, result: Mapping[str, Any], prefix: str = "") -> CostRecord:
        """Rebuild a record from a flat result (``to_result``'s output, maybe among other keys)."""
        tag = f"{prefix}measured_"
        measured = {
            key.removeprefix(tag): str(value)
            for key, value in result.items()
            if key.startswith(tag)
        }
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f"{prefix}{f.name}"
            if f.name in ("measured", "billing") or key not in result or result[key] is None:
                continue
            values[f.name] = float(result[key])
        billing = result.get(f"{prefix}billing")
        return cls(**values, measured=measured, billing=str(billing) if billing else None)


def total(records: Iterable[CostRecord]) -> CostRecord:
    out = CostRecord()
    for record in records:
        out = out + record
    return out
