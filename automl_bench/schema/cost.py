"""The COST record of summary.json (``CostRecord`` in its nested, banded shape) and the
experiment's cost block: totals per phase, idle / overhead, what the nodes measured."""

from __future__ import annotations

from typing import Any

from automl_bench.cost.record import CostRecord
from automl_bench.schema.base import Band, Record


class Energy(Record):
    """kWh per part, their total, and the measurement band of the total."""

    cpu: float
    gpu: float
    ram: float
    total: float
    band: Band


class Cost(Record):
    """One phase's or line's cost, as ``CostRecord.to_dict`` writes it."""

    wall_s: float
    cpu_s: float
    core_s: float
    device_s: float
    energy_kwh: Energy
    co2_kg: float
    co2_kg_band: Band
    usd: float
    usd_compute: float
    usd_energy: float
    usd_energy_band: Band
    usd_band: Band
    billing: str | None
    pue: float | None
    carbon_intensity_kg_per_kwh: float | None
    measured: dict[str, str]
    estimate: str

    @classmethod
    def of(cls, record: CostRecord) -> Cost:
        return cls.model_validate(record.to_dict())

    def record(self) -> CostRecord:
        """The flat ``CostRecord`` back, to add or to log."""
        return CostRecord.from_dict(self.model_dump())

    def __add__(self, other: Cost) -> Cost:
        return Cost.of(self.record() + other.record())


def zero_cost() -> Cost:
    return Cost.of(CostRecord())


class Attribution(Record):
    """Where the nodes' energy went: ``ratio`` = (phases + deploy + idle + unclosed) / node."""

    node_kwh: float
    phases_kwh: float
    deploy_kwh: float
    idle_kwh: float
    unclosed_kwh: float
    ratio: float | None


class NodeCost(Record):
    node: Cost
    idle: Cost
    unclosed_windows: int


class PriceTable(Record):
    """The prices and factors the run was reckoned at, and where each figure comes from."""

    gpu_hour_usd: float
    cpu_hour_usd: float
    electricity_usd_per_kwh: float
    carbon_intensity_kg_per_kwh: float
    pue: float
    gpu_model: str | None
    billing: str
    sources: dict[str, str]  # figure -> "row: source (date)"

    def figures(self) -> dict[str, Any]:
        """Every field but the sources (MLflow params)."""
        return self.model_dump(exclude={"sources"})


class ExperimentCost(Record):
    """Totals per phase, the deploy measurement, idle / overhead, windows never closed, and
    what the node meters measured, which all the other lines add up to."""

    search: Cost
    final: Cost
    inference: Cost
    deploy: Cost  # measuring the final models' deployability: no method's
    idle: Cost  # start-up, gaps between trials, capacity nobody held
    unclosed: Cost  # windows never closed (trials lost mid-run)
    node: Cost
    attribution: Attribution
    nodes: dict[str, NodeCost]
    prices: PriceTable
    gpus_used: list[str]
    warnings: list[str]
    metering: dict[str, float]
