"""summary.json written from the ``Summary`` record and read back through it.

The file carries ``schema_version``. A file without one (written before it existed) is
converted here, in ``upgrade``, and nowhere else; a newer version than this package reads is
refused with one line naming both versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from automl_bench.errors import ConfigError
from automl_bench.files import atomic_write
from automl_bench.metric import ACCURACY, BASELINE
from automl_bench.schema.summary import SCHEMA_VERSION, Summary

SUMMARY = "summary.json"


def summary_json(summary: Summary) -> str:
    """The file's text (``Infinity`` for a break-even that never comes, as json writes it)."""
    return json.dumps(summary.model_dump(mode="python"), indent=2, default=str)


def write_summary_json(summary: Summary, path: Path) -> None:
    atomic_write(path, summary_json(summary))


def _upgrade_cost(cost: dict[str, Any]) -> dict[str, Any]:
    """A cost record written before billing: its electricity bill's band from the USD band."""
    if "usd_energy_band" in cost:
        return cost
    compute = float(cost.get("usd_compute", 0.0))
    band = [float(b) - compute for b in cost.get("usd_band", [compute, compute])]
    return {"billing": None, **cost, "usd_energy_band": band}


def _upgrade_costs(data: Any) -> Any:
    """Every cost record in ``data`` (a dict with an ``energy_kwh`` dict), upgraded."""
    if isinstance(data, dict):
        data = {k: _upgrade_costs(v) for k, v in data.items()}
        if isinstance(data.get("energy_kwh"), dict) and "co2_kg_band" in data:
            return _upgrade_cost(data)
        return data
    if isinstance(data, list):
        return [_upgrade_costs(v) for v in data]
    return data


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A summary without ``schema_version`` (version 0) as version 1: an accuracy experiment
    against ``baseline`` unless it says otherwise (a metric given as a mapping, flattened),
    ``delta_vs_reference`` from ``delta_vs_baseline``, cost records given the electricity
    bill's band."""
    out: dict[str, Any] = _upgrade_costs(dict(data))
    named = out.get("metric")
    if isinstance(named, dict):  # {"name", "direction", "scale", "unit"}, flattened
        out["metric"] = named.get("name", ACCURACY.name)
        fields = {"direction": "direction", "metric_scale": "scale", "metric_unit": "unit"}
        out.update({k: named[v] for k, v in fields.items() if named.get(v) is not None})
    out.setdefault("metric", ACCURACY.name)
    out.setdefault("reference_method", BASELINE)
    for method in out.get("methods", {}).values():
        if "delta_vs_reference" not in method and "delta_vs_baseline" in method:
            method["delta_vs_reference"] = method["delta_vs_baseline"]
    out["schema_version"] = SCHEMA_VERSION
    return out


def summary_from_dict(data: dict[str, Any], where: str = SUMMARY) -> Summary:
    """A summary's parsed JSON as the record: version 0 converted, a newer one refused."""
    version = data.get("schema_version", 0)
    if version == 0:
        data = upgrade(data)
    elif version != SCHEMA_VERSION:
        raise ConfigError(
            "schema_version",
            f"{where} has schema_version {version!r}; this automl-bench reads "
            f"{SCHEMA_VERSION} (and files without one): upgrade automl-bench to read it",
        )
    try:
        return Summary.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            "summary.json", f"{where}: {place}: {first['msg']} ({exc.error_count()} errors)"
        ) from None


def load_summary(path: Path) -> Summary:
    """summary.json read back through the ``Summary`` record."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError("summary.json", f"{path} is not readable: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("summary.json", f"{path} holds no summary (a JSON object)")
    return summary_from_dict(data, str(path))
