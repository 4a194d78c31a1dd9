"""The price table in configs/ and the figures a config picks from it."""

from __future__ import annotations

from typing import Any

import yaml
from repo_paths import REPO

from automl_bench.config import load_prices, parse_config
from automl_bench.cost.prices import codecarbon_intensity

TABLE = REPO / "configs" / "prices.yaml"
BASE: dict[str, Any] = {
    "experiment": "prices",
    "task": "wine",
    "space": "search_spaces/mlp.py",
    "methods": ["baseline"],
    "seeds": [0],
}


def _prices(cost: dict[str, Any]) -> Any:
    return load_prices(parse_config({**BASE, "cost": cost}), REPO / "configs" / "x.yaml")


def test_every_row_of_the_table_says_where_it_comes_from_and_when() -> None:
    table = yaml.safe_load(TABLE.read_text())
    assert set(table) == {"gpu_hour", "cpu_hour", "electricity", "carbon_intensity", "pue"}
    value_of = {
        "gpu_hour": "usd",
        "cpu_hour": "usd",
        "electricity": "usd",
        "carbon_intensity": "kg_per_kwh",
        "pue": "pue",
    }
    for section, rows in table.items():
        assert len(rows) >= 3, section
        for name, row in rows.items():
            assert isinstance(row[value_of[section]], float | int), (section, name)
            assert row["source"].strip() and isinstance(row["date"], str), (section, name)
            assert row["date"][:4].isdigit() and 2020 <= int(row["date"][:4]) <= 2026
    # the cards people rent, by their short names
    assert {"H100", "H200", "A100", "L4"} <= {r["gpu"] for r in table["gpu_hour"].values()}


def test_the_defaults_price_an_aws_instance_in_the_usa() -> None:
    prices = _prices({})
    table = yaml.safe_load(TABLE.read_text())
    assert prices.gpu_hour_usd == table["gpu_hour"]["aws-p5.48xlarge"]["usd"]
    assert prices.cpu_hour_usd == table["cpu_hour"]["aws-c7i"]["usd"]
    assert prices.electricity_usd_per_kwh == table["electricity"]["USA"]["usd"]
    assert prices.carbon_intensity_kg_per_kwh == table["carbon_intensity"]["USA"]["kg_per_kwh"]
    assert prices.pue == table["pue"]["aws"]["pue"]
    assert prices.sources["gpu_hour"].startswith("aws-p5.48xlarge: ")
    assert table["gpu_hour"]["aws-p5.48xlarge"]["date"] in prices.sources["gpu_hour"]


def test_a_config_picks_rows_or_gives_its_own_numbers() -> None:
    prices = _prices(
        {
            "country_iso_code": "FRA",
            "gpu_hour": "gcp-a3-highgpu-8g",
            "cpu_hour": 0.03,
            "pue": "none",
            "carbon_intensity": 0.1,
        }
    )
    table = yaml.safe_load(TABLE.read_text())
    assert prices.gpu_hour_usd == table["gpu_hour"]["gcp-a3-highgpu-8g"]["usd"]
    assert prices.cpu_hour_usd == 0.03 and prices.sources["cpu_hour"] == "given in the config"
    assert prices.electricity_usd_per_kwh == table["electricity"]["FRA"]["usd"]
    assert prices.carbon_intensity_kg_per_kwh == 0.1
    assert prices.pue == 1.0


def test_a_country_missing_from_the_table_falls_back_to_codecarbons_intensity() -> None:
    prices = _prices({"country_iso_code": "MEX", "electricity": 0.12})
    intensity, year = codecarbon_intensity()["MEX"]
    assert prices.carbon_intensity_kg_per_kwh == intensity
    assert "CodeCarbon" in prices.sources["carbon_intensity"]
    assert str(year) in prices.sources["carbon_intensity"]
    assert 0.1 < intensity < 1.0  # kg per kWh, not grams


def test_gpu_time_priced_for_another_card_is_flagged() -> None:
    prices = _prices({"gpu_hour": "aws-p5.48xlarge"})
    assert prices.gpu_model == "H100"
    assert prices.gpu_mismatch(["NVIDIA H100 80GB HBM3"]) is None
    assert prices.gpu_mismatch([]) is None  # no GPU used: nothing to say
    warning = prices.gpu_mismatch(["NVIDIA H200", "NVIDIA H100 80GB HBM3"])
    assert warning is not None and "NVIDIA H200" in warning and "cost.gpu_hour" in warning
    assert _prices({"gpu_hour": 3.0}).gpu_mismatch(["NVIDIA H200"]) is None  # a number: no card
