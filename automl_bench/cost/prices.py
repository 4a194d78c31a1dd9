"""Prices and carbon intensity: the table in configs/prices.yaml, the rows a config picks, and
the arithmetic that turns measured time and energy into USD and kg CO2e.

A config's ``cost`` section names a row of the table or gives its own number for each of
``gpu_hour``, ``cpu_hour``, ``electricity``, ``carbon_intensity`` and ``pue``. Electricity and
carbon intensity default to the rows of ``cost.country_iso_code``; a country with no carbon
intensity row falls back to CodeCarbon's offline table (Our World in Data / Ember).

``cost.billing`` says what the hourly rates are (see ``record.py`` for what ``usd`` adds up):

- ``cloud`` (the default): rented instances' on-demand prices, which already pay for the power
  they draw. The ``gpu_hour`` and ``cpu_hour`` rows are cloud rows (no ``billing`` key).
- ``owned``: hardware you own, priced as its purchase amortised over the hours of its useful
  life, plus the electricity at the tariff. The rows say ``billing: owned`` and give
  ``purchase_usd`` (with its dated source), the ``units`` (GPUs, logical CPUs) it buys and
  ``amortisation_years``; their ``usd`` must be ``purchase_usd / units / (years x 8760 h)``.
  The defaults are ``owned-h100-sxm`` and ``owned-epyc-9654``.

A row of the other billing is refused (a cloud rate under ``owned`` would count power twice; an
owned rate under ``cloud`` would leave power out); a number is taken as given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from automl_bench.cost.attribution import Energy
from automl_bench.cost.record import CostRecord
from automl_bench.cost.uncertainty import band
from automl_bench.errors import ConfigError

_ROW = ConfigDict(extra="allow", strict=True)

CLOUD, OWNED = "cloud", "owned"
BILLINGS = (CLOUD, OWNED)
# cost.billing -> the (gpu_hour, cpu_hour) rows a config gets unless it names its own
DEFAULT_HOUR_ROWS: dict[str, tuple[str, str]] = {
    CLOUD: ("aws-p5.48xlarge", "aws-c7i"),
    OWNED: ("owned-h100-sxm", "owned-epyc-9654"),
}
HOURS_PER_YEAR = 8760.0
AMORTISED_TOLERANCE = 0.005  # an owned row's usd may differ from its arithmetic by 0.5 %


class _Row(BaseModel):
    model_config = _ROW
    source: str = Field(min_length=1)
    date: str = Field(min_length=4)


class UsdRow(_Row):
    """USD per GPU-hour, per vCPU-hour or per kWh (extra keys such as ``gpu`` are kept).

    An hourly row with ``billing: owned`` is amortised hardware: it also gives ``purchase_usd``,
    ``units`` and ``amortisation_years``, and its ``usd`` is their quotient."""

    usd: float = Field(ge=0)

    @property
    def billing(self) -> str:
        return str((self.model_extra or {}).get("billing", CLOUD))

    @model_validator(mode="after")
    def _amortised(self) -> UsdRow:
        extra = self.model_extra or {}
        if extra.get("billing", CLOUD) not in BILLINGS:
            raise ValueError(f"billing must be one of {', '.join(BILLINGS)}")
        if self.billing != OWNED:
            return self
        numbers = {}
        for key in ("purchase_usd", "units", "amortisation_years"):
            value = extra.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"an owned row needs {key} > 0, got {value!r}")
            numbers[key] = float(value)
        hourly = numbers["purchase_usd"] / (
            numbers["units"] * numbers["amortisation_years"] * HOURS_PER_YEAR
        )
        if abs(self.usd - hourly) > AMORTISED_TOLERANCE * hourly:
            raise ValueError(
                f"usd must be purchase_usd / units / (amortisation_years x {HOURS_PER_YEAR:g} h)"
                f" = {hourly:.6g}, got {self.usd}"
            )
        return self


class CarbonRow(_Row):
    kg_per_kwh: float = Field(ge=0)


class PueRow(_Row):
    pue: float = Field(ge=1)


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    gpu_hour: dict[str, UsdRow] = Field(default_factory=dict)
    cpu_hour: dict[str, UsdRow] = Field(default_factory=dict)
    electricity: dict[str, UsdRow] = Field(default_factory=dict)
    carbon_intensity: dict[str, CarbonRow] = Field(default_factory=dict)
    pue: dict[str, PueRow] = Field(default_factory=dict)


@dataclass(frozen=True)
class Prices:
    """The figures one experiment is priced with, and where each came from."""

    gpu_hour_usd: float
    cpu_hour_usd: float
    electricity_usd_per_kwh: float
    carbon_intensity_kg_per_kwh: float
    pue: float
    sources: Mapping[str, str] = field(default_factory=dict)  # figure -> "row: source (date)"
    gpu_model: str | None = None  # the card the GPU-hour row prices ("H100"), if it says
    billing: str = CLOUD  # cloud: usd is the compute; owned: amortised compute + electricity

    def gpu_mismatch(self, cards: Iterable[str]) -> str | None:
        """A warning when trials ran on cards other than the one the GPU-hour row prices."""
        other = sorted({c for c in cards if self.gpu_model and self.gpu_model not in c})
        if not other:
            return None
        return (
            f"GPU time is priced as {self.gpu_model} ({self.sources.get('gpu_hour', '')[:40]}...)"
            f" but trials ran on {', '.join(other)}: pick a matching cost.gpu_hour row"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpu_hour_usd": self.gpu_hour_usd,
            "cpu_hour_usd": self.cpu_hour_usd,
            "electricity_usd_per_kwh": self.electricity_usd_per_kwh,
            "carbon_intensity_kg_per_kwh": self.carbon_intensity_kg_per_kwh,
            "pue": self.pue,
            "gpu_model": self.gpu_model,
            "billing": self.billing,
            "sources": dict(self.sources),
        }

    def record(self, usage: Energy, measured: Mapping[str, str], cpu_s: float = 0.0) -> CostRecord:
        """A priced cost record for measured usage (a window's share, idle, a node)."""
        parts = {"cpu": usage.cpu_kwh, "gpu": usage.gpu_kwh, "ram": usage.ram_kwh}
        low, high = band(parts, measured)
        facility = self.pue * self.carbon_intensity_kg_per_kwh
        tariff = self.pue * self.electricity_usd_per_kwh
        return CostRecord(
            wall_s=usage.wall_s,
            cpu_s=cpu_s,
            core_s=usage.core_s,
            device_s=usage.device_s,
            energy_kwh_cpu=usage.cpu_kwh,
            energy_kwh_gpu=usage.gpu_kwh,
            energy_kwh_ram=usage.ram_kwh,
            energy_kwh_low=low,
            energy_kwh_high=high,
            co2_kg=usage.kwh * facility,
            co2_kg_low=low * facility,
            co2_kg_high=high * facility,
            usd_compute=(usage.core_s * self.cpu_hour_usd + usage.device_s * self.gpu_hour_usd)
            / 3600.0,
            usd_energy=usage.kwh * tariff,
            usd_energy_low=low * tariff,
            usd_energy_high=high * tariff,
            pue=self.pue,
            carbon_intensity_kg_per_kwh=self.carbon_intensity_kg_per_kwh,
            measured=dict(measured),
            billing=self.billing,
        )


def parse_table(raw: dict[str, Any], where: str) -> PriceTable:
    try:
        return PriceTable.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError("cost.prices", f"{where}: {loc}: {message}") from None


@cache
def codecarbon_intensity() -> dict[str, tuple[float, int]]:
    """ISO code -> (kg CO2e per kWh, year), from CodeCarbon's bundled offline table."""
    table = resources.files("codecarbon").joinpath("data/private_infra/global_energy_mix.json")
    out = {}
    for code, row in json.loads(table.read_text()).items():
        if isinstance(row, dict) and row.get("carbon_intensity") is not None:
            out[code] = (float(row["carbon_intensity"]) / 1000.0, int(row.get("year", 0)))
    return out


def _pick(
    choice: str | float | None,
    rows: Mapping[str, _Row],
    value_of: str,
    field_name: str,
    table_path: Path,
) -> tuple[float, str]:
    if isinstance(choice, int | float) and not isinstance(choice, bool):
        return float(choice), "given in the config"
    if not isinstance(choice, str) or choice not in rows:
        names = ", ".join(sorted(rows)) or "none"
        raise ConfigError(
            field_name,
            f"must be a number or a row of {table_path.name}'s {field_name.split('.')[-1]} "
            f"table ({names}), got {choice!r}",
        )
    row = rows[choice]
    return float(getattr(row, value_of)), f"{choice}: {row.source} ({row.date})"


def _check_billing(
    choice: str | float, rows: Mapping[str, UsdRow], billing: str, field_name: str
) -> None:
    """A named hourly row must be of the config's billing; a number is taken as given."""
    if not isinstance(choice, str) or choice not in rows or rows[choice].billing == billing:
        return
    same = ", ".join(sorted(n for n, r in rows.items() if r.billing == billing)) or "none"
    why = (
        "a cloud rate already pays for power, which owned billing adds at the tariff"
        if billing == OWNED
        else "an owned rate is amortised hardware without its power"
    )
    article = {CLOUD: "a", OWNED: "an"}
    raise ConfigError(
        field_name,
        f"row {choice!r} is {article[rows[choice].billing]} {rows[choice].billing} rate but "
        f"cost.billing is {billing} ({why}): pick {article[billing]} {billing} row ({same}) or "
        "give a number",
    )


def _carbon_intensity(
    table: PriceTable, table_path: Path, country_iso_code: str, given: str | float | None
) -> tuple[float, str]:
    """kg CO2e per kWh and where it came from: the config's figure or row, the price table's
    country row, else CodeCarbon's own table for the country."""
    if given is not None or country_iso_code in table.carbon_intensity:
        return _pick(
            country_iso_code if given is None else given,
            table.carbon_intensity,
            "kg_per_kwh",
            "cost.carbon_intensity",
            table_path,
        )
    known = codecarbon_intensity()
    if country_iso_code not in known:
        raise ConfigError(
            "cost.carbon_intensity",
            f"no grid carbon intensity for {country_iso_code!r} in {table_path.name} or "
            "CodeCarbon's table: give a number (kg CO2e per kWh)",
        )
    intensity, year = known[country_iso_code]
    return intensity, (
        f"{country_iso_code}: CodeCarbon global_energy_mix.json (Our World in Data / Ember) "
        f"({year})"
    )


def resolve_prices(
    table: PriceTable,
    table_path: Path,
    *,
    country_iso_code: str,
    gpu_hour: str | float,
    cpu_hour: str | float,
    electricity: str | float | None,
    carbon_intensity: str | float | None,
    pue: str | float,
    billing: str = CLOUD,
) -> Prices:
    """The figures a config's ``cost`` section picks. Raises ConfigError naming the field."""
    if billing not in BILLINGS:
        raise ConfigError("cost.billing", f"must be one of {', '.join(BILLINGS)}, got {billing!r}")
    _check_billing(gpu_hour, table.gpu_hour, billing, "cost.gpu_hour")
    _check_billing(cpu_hour, table.cpu_hour, billing, "cost.cpu_hour")
    sources: dict[str, str] = {}
    gpu, sources["gpu_hour"] = _pick(gpu_hour, table.gpu_hour, "usd", "cost.gpu_hour", table_path)
    cpu, sources["cpu_hour"] = _pick(cpu_hour, table.cpu_hour, "usd", "cost.cpu_hour", table_path)
    tariff, sources["electricity"] = _pick(
        country_iso_code if electricity is None else electricity,
        table.electricity,
        "usd",
        "cost.electricity",
        table_path,
    )
    intensity, sources["carbon_intensity"] = _carbon_intensity(
        table, table_path, country_iso_code, carbon_intensity
    )
    facility, sources["pue"] = _pick(pue, table.pue, "pue", "cost.pue", table_path)
    if facility < 1.0:
        raise ConfigError("cost.pue", f"must be >= 1 (facility energy / IT energy), got {facility}")
    row = table.gpu_hour.get(gpu_hour) if isinstance(gpu_hour, str) else None
    model = (row.model_extra or {}).get("gpu") if row is not None else None
    return Prices(
        gpu, cpu, tariff, intensity, facility, sources, str(model) if model else None, billing
    )
