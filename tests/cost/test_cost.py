"""Cost records, pricing and the uncertainty bands: exact arithmetic at the meter seam."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from automl_bench.cost import CostRecord, total
from automl_bench.cost.attribution import Energy
from automl_bench.cost.prices import Prices
from automl_bench.cost.sources import CodeCarbonSource
from automl_bench.cost.uncertainty import band, describe

PRICES = Prices(
    gpu_hour_usd=6.0,
    cpu_hour_usd=0.04,
    electricity_usd_per_kwh=0.25,
    carbon_intensity_kg_per_kwh=0.4,
    pue=1.5,
    sources={"gpu_hour": "test"},
)
MEASURED = {"cpu": "tdp-estimate", "gpu": "nvml", "ram": "estimate"}


def test_pricing_applies_held_capacity_energy_pue_and_carbon_intensity() -> None:
    usage = Energy(wall_s=3600, core_s=2 * 3600, device_s=0.5 * 3600, cpu_kwh=0.1, gpu_kwh=0.2)
    r = PRICES.record(usage, MEASURED, cpu_s=1800)
    assert r.energy_kwh == pytest.approx(0.3)
    assert r.co2_kg == pytest.approx(0.3 * 1.5 * 0.4)
    assert r.usd_compute == pytest.approx(2 * 0.04 + 0.5 * 6.0)
    assert r.usd_energy == pytest.approx(0.3 * 1.5 * 0.25)
    assert r.usd == pytest.approx(r.usd_compute)  # cloud billing: power is in the hourly rate
    # bands: the CPU estimate +-40%, NVML +-5%
    assert (r.energy_kwh_low, r.energy_kwh_high) == pytest.approx(
        (0.1 * 0.6 + 0.2 * 0.95, 0.1 * 1.4 + 0.2 * 1.05)
    )
    assert r.co2_kg_high == pytest.approx(r.energy_kwh_high * 1.5 * 0.4)
    assert r.usd_energy_high == pytest.approx(r.energy_kwh_high * 1.5 * 0.25)
    assert r.usd_high == pytest.approx(r.usd_compute)  # (owned billing adds it: test_billing.py)
    assert (r.pue, r.carbon_intensity_kg_per_kwh, r.cpu_s) == (1.5, 0.4, 1800)


def test_bands_and_their_words_follow_the_measurement_method() -> None:
    assert band({"gpu": 1.0}, {"gpu": "nvml"}) == pytest.approx((0.95, 1.05))
    assert band({"cpu": 1.0}, {"cpu": "rapl"}) == pytest.approx((0.9, 1.1))
    assert band({"cpu": 1.0}, {"cpu": "none"}) == (1.0, 1.0)
    words = describe(MEASURED)
    assert words == "cpu tdp-estimate +-40%; gpu nvml +-5%; ram estimate +-40%"
    assert describe({"cpu": "none", "gpu": "none"}) == "cpu not measured; gpu not measured"


def test_records_add_up_and_keep_how_they_were_measured() -> None:
    a = PRICES.record(Energy(wall_s=1, core_s=1, cpu_kwh=0.1, ram_kwh=0.2), MEASURED, cpu_s=2)
    b = PRICES.record(Energy(wall_s=3, gpu_kwh=0.4), {**MEASURED, "cpu": "rapl"})
    s = total([a, b])
    assert s.wall_s == 4 and s.cpu_s == 2
    assert s.energy_kwh == pytest.approx(0.7)
    assert s.co2_kg == pytest.approx(0.7 * 1.5 * 0.4)
    assert s.usd == pytest.approx(a.usd + b.usd)
    assert s.energy_kwh_high == pytest.approx(a.energy_kwh_high + b.energy_kwh_high)
    assert s.measured == {"cpu": "mixed", "gpu": "nvml", "ram": "estimate"}
    assert s.pue == 1.5  # equal constants are kept
    d = s.to_dict()
    assert d["energy_kwh"]["total"] == pytest.approx(0.7)
    assert d["energy_kwh"]["band"] == [s.energy_kwh_low, s.energy_kwh_high]
    other = a + CostRecord(pue=1.1, energy_kwh_cpu=1.0)
    assert other.pue is None  # different constants: the sum claims neither


def test_a_record_survives_flat_results_and_summary_dicts() -> None:
    a = PRICES.record(Energy(2, 2, 1, 1e-6, 2e-6, 3e-7), MEASURED, cpu_s=1.5)
    assert CostRecord.from_result(a.to_result()) == a
    assert CostRecord.from_result({"x": 1, **a.to_result("inference_")}, "inference_") == a
    back = CostRecord.from_dict(a.to_dict())
    assert back.to_metrics() == pytest.approx(a.to_metrics())
    assert back.measured == a.measured


def test_scaling_a_record_scales_every_figure_but_the_constants() -> None:
    a = PRICES.record(Energy(2, 2, 1, 1e-3, 2e-3, 3e-4), MEASURED, cpu_s=1.5)
    per_1k = a.scaled(1000 / 4000)
    assert per_1k.energy_kwh == pytest.approx(a.energy_kwh / 4)
    assert per_1k.usd == pytest.approx(a.usd / 4)
    assert per_1k.pue == a.pue and per_1k.measured == a.measured


@pytest.mark.slow  # starts a CodeCarbon tracker
def test_codecarbon_measures_the_machine_offline(tmp_path: Path) -> None:
    source = CodeCarbonSource("FRA", tmp_path)
    assert source.measured["cpu"] in {"rapl", "tdp-estimate", "constant"}
    assert source.measured["ram"] == "estimate"
    source.read()
    deadline = time.perf_counter() + 1.0
    while time.perf_counter() < deadline:
        pass
    reading = source.read()
    assert reading.cpu_kwh > 0 and reading.ram_kwh > 0
    watts = (reading.cpu_kwh + reading.ram_kwh) * 3.6e6
    assert 0.1 < watts < 5000  # a machine's power, not a unit error
    # what a reading costs: benchmarks/metering.py
