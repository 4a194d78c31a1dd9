"""``cost.billing`` (issue 14): cloud rates already pay for power, so ``usd`` is the compute
alone; owned hardware is its amortised purchase plus the electricity at the tariff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo_paths import REPO

from automl_bench.config import load_prices, parse_config
from automl_bench.cost import CostRecord, total
from automl_bench.cost.attribution import Energy
from automl_bench.cost.prices import DEFAULT_HOUR_ROWS, HOURS_PER_YEAR, Prices, parse_table
from automl_bench.errors import ConfigError

TABLE = REPO / "configs" / "prices.yaml"
BASE: dict[str, Any] = {
    "experiment": "billing",
    "task": "wine",
    "space": "search_spaces/mlp.py",
    "methods": ["baseline"],
    "seeds": [0],
}
MEASURED = {"cpu": "rapl", "gpu": "nvml", "ram": "estimate"}
USAGE = Energy(wall_s=3600, core_s=2 * 3600, device_s=3600, cpu_kwh=0.1, gpu_kwh=0.5, ram_kwh=0.1)


def _prices(cost: dict[str, Any]) -> Prices:
    return load_prices(parse_config({**BASE, "cost": cost}), REPO / "configs" / "x.yaml")


def _table() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(TABLE.read_text())
    return loaded


def test_cloud_is_the_default_and_does_not_add_the_electricity_bill() -> None:
    prices = _prices({})
    assert prices.billing == "cloud"
    r = prices.record(USAGE, MEASURED)
    assert r.billing == "cloud"
    assert r.usd_compute == pytest.approx(2 * prices.cpu_hour_usd + prices.gpu_hour_usd)
    assert r.usd_energy == pytest.approx(0.7 * prices.pue * prices.electricity_usd_per_kwh)
    assert r.usd == pytest.approx(r.usd_compute)  # power is in the instance's price already
    assert (r.usd_low, r.usd_high) == pytest.approx((r.usd_compute, r.usd_compute))
    d = r.to_dict()
    assert d["usd"] == pytest.approx(r.usd_compute) and d["usd_energy"] > 0  # still reported
    assert d["billing"] == "cloud"


def test_owned_prices_amortised_hardware_plus_the_tariff() -> None:
    prices = _prices({"billing": "owned"})
    table = _table()
    gpu_row, cpu_row = DEFAULT_HOUR_ROWS["owned"]
    assert prices.gpu_hour_usd == table["gpu_hour"][gpu_row]["usd"]
    assert prices.cpu_hour_usd == table["cpu_hour"][cpu_row]["usd"]
    assert prices.sources["gpu_hour"].startswith(f"{gpu_row}: ")
    r = prices.record(USAGE, MEASURED)
    assert r.billing == "owned"
    assert r.usd == pytest.approx(r.usd_compute + r.usd_energy)
    assert r.usd_high == pytest.approx(r.usd_compute + r.usd_energy_high)
    assert prices.to_dict()["billing"] == "owned"
    # a config's own rows and numbers under owned billing
    assert _prices({"billing": "owned", "gpu_hour": "owned-dgx-a100"}).gpu_model == "A100"
    assert _prices({"billing": "owned", "gpu_hour": 0.5, "cpu_hour": 0.01}).gpu_hour_usd == 0.5


def test_every_owned_row_is_its_purchase_amortised_with_a_dated_source() -> None:
    owned = [
        row
        for section in ("gpu_hour", "cpu_hour")
        for row in _table()[section].values()
        if row.get("billing") == "owned"
    ]
    assert len(owned) >= 3
    for row in owned:
        hourly = row["purchase_usd"] / (row["units"] * row["amortisation_years"] * HOURS_PER_YEAR)
        assert row["usd"] == pytest.approx(hourly, rel=1e-5)
        assert row["source"].strip() and row["date"][:4].isdigit()
    # the default owned rows exist, and cloud rows say no billing (they are cloud)
    table = _table()
    assert DEFAULT_HOUR_ROWS["owned"][0] in table["gpu_hour"]
    assert DEFAULT_HOUR_ROWS["owned"][1] in table["cpu_hour"]
    assert table["gpu_hour"]["aws-p5.48xlarge"].get("billing", "cloud") == "cloud"


@pytest.mark.parametrize(
    ("cost", "field", "words"),
    [
        ({"billing": "rented"}, "cost.billing", "'cloud' or 'owned'"),
        ({"billing": "owned", "gpu_hour": "aws-p5.48xlarge"}, "cost.gpu_hour", "an owned row"),
        ({"billing": "owned", "cpu_hour": "aws-c7i"}, "cost.cpu_hour", "an owned row"),
        ({"gpu_hour": "owned-h100-sxm"}, "cost.gpu_hour", "a cloud row"),
    ],
)
def test_a_row_of_the_other_billing_or_an_unknown_billing_is_refused(
    cost: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _prices(cost)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_an_owned_row_whose_usd_is_not_its_arithmetic_is_refused() -> None:
    row = {"source": "s", "date": "2024", "billing": "owned", "units": 8, "amortisation_years": 5}
    ok = {"gpu_hour": {"mine": {**row, "purchase_usd": 8 * 5 * 8760, "usd": 1.0}}}
    assert parse_table(ok, "t.yaml").gpu_hour["mine"].billing == "owned"
    for bad in (
        {**row, "purchase_usd": 8 * 5 * 8760, "usd": 2.0},  # not the quotient
        {**row, "usd": 1.0},  # no purchase price
        {**row, "purchase_usd": 1, "usd": 1.0, "billing": "leased"},
    ):
        with pytest.raises(ConfigError) as caught:
            parse_table({"gpu_hour": {"mine": bad}}, "t.yaml")
        assert caught.value.field == "cost.prices"


def test_validate_prints_one_line_naming_the_field_and_exits_2(tmp_path: Path) -> None:
    config = {**BASE, "space": str(REPO / "search_spaces" / "mlp.py"), "cost": {"billing": "x"}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [sys.executable, "-m", "automl_bench.cli", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cost.billing" in lines[0] and "'cloud' or 'owned'" in lines[0]


def test_records_keep_their_billing_through_sums_results_and_summaries() -> None:
    owned = Prices(1.0, 0.1, 0.2, 0.3, 1.1, billing="owned").record(USAGE, MEASURED, 1.0)
    cloud = Prices(1.0, 0.1, 0.2, 0.3, 1.1).record(USAGE, MEASURED, 1.0)
    assert owned.usd - cloud.usd == pytest.approx(owned.usd_energy)
    for r in (owned, cloud):
        assert CostRecord.from_result(r.to_result("x_"), "x_") == r
        back = CostRecord.from_dict(r.to_dict())
        assert back == r and back.usd == pytest.approx(r.usd)
        assert total([CostRecord(), r, r]).usd == pytest.approx(2 * r.usd)  # an empty one adds
        assert r.scaled(0.5).billing == r.billing
    with pytest.raises(ValueError, match="cannot add"):
        owned + cloud
    # a summary written before billing existed: its electricity band comes from the USD band
    old = owned.to_dict()
    del old["usd_energy_band"], old["billing"]
    assert CostRecord.from_dict(old).usd_energy_high == pytest.approx(owned.usd_energy_high)
