from __future__ import annotations

import time
from pathlib import Path

import pytest

from automl_bench.cost import CostRecord, total
from automl_bench.cost.meter import measure


def test_records_add_up_and_keep_how_they_were_measured() -> None:
    a = CostRecord(
        wall_s=1,
        cpu_s=2,
        energy_kwh_cpu=0.1,
        energy_kwh_ram=0.2,
        co2_kg=0.01,
        measured={"cpu": "tdp-estimate", "gpu": "none"},
    )
    b = CostRecord(
        wall_s=3, energy_kwh_gpu=0.4, co2_kg=0.02, measured={"cpu": "rapl", "gpu": "none"}
    )
    s = total([a, b])
    assert s.wall_s == 4 and s.cpu_s == 2
    assert s.energy_kwh == pytest.approx(0.7)
    assert s.co2_kg == pytest.approx(0.03)
    assert s.measured == {"cpu": "mixed", "gpu": "none"}
    assert s.usd is None  # unpriced stays unpriced, never 0
    d = s.to_dict()
    assert d["energy_kwh"] == {"cpu": 0.1, "gpu": 0.4, "ram": 0.2, "total": pytest.approx(0.7)}


def test_a_record_survives_the_trip_through_a_flat_result() -> None:
    a = CostRecord(
        wall_s=1.5,
        cpu_s=1.0,
        energy_kwh_cpu=1e-6,
        co2_kg=1e-7,
        measured={"cpu": "tdp-estimate", "gpu": "none", "ram": "estimate"},
    )
    flat = {**a.to_metrics(), **{f"measured_{k}": v for k, v in a.measured.items()}}
    assert CostRecord.from_result(flat) == a


def test_the_meter_measures_real_work_with_codecarbon(tmp_path: Path) -> None:
    with measure("FRA", tmp_path) as m:
        deadline = time.perf_counter() + 1.0
        while time.perf_counter() < deadline:
            pass
    r = m.record
    assert 0.9 < r.wall_s < 3
    assert r.cpu_s > 0.5  # this process was busy
    assert r.energy_kwh_cpu > 0 and r.energy_kwh_ram > 0 and r.co2_kg > 0
    assert r.device_s == 0
    assert r.measured["cpu"] in {"rapl", "tdp-estimate", "constant"}
    assert r.measured["ram"] == "estimate"
    # France's grid, from CodeCarbon's offline table: tens of g CO2 per kWh
    assert m.carbon_intensity_kg_per_kwh is not None
    assert 0.01 < m.carbon_intensity_kg_per_kwh < 0.2
    with measure("FRA", tmp_path) as m2:  # the tracker is started once per process
        pass
    assert m2.record.wall_s < 0.5
