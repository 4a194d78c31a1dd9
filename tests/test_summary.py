from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from automl_bench.cost import CostRecord
from automl_bench.summary import write_summary


def _summary(created: str, accuracy: float) -> dict[str, Any]:
    cost = CostRecord().to_dict()
    return {
        "experiment": "x",
        "created": created,
        "methods": {
            "baseline": {
                "studies": [{"seed": 0, "trials": 0, "failed": 0}],
                "test_metric": {"n": 1, "mean": accuracy, "std": None, "ci95": None},
                "delta_vs_baseline": {"n": 1, "mean": 0.0, "std": None, "ci95": None},
                "cost": {"search": cost, "final": cost},
            }
        },
    }


def test_a_new_run_never_overwrites_an_earlier_summary(tmp_path: Path) -> None:
    write_summary(_summary("2026-11-27T08:00:00+00:00", 0.5), tmp_path)
    write_summary(_summary("2026-11-27T09:00:00+00:00", 0.9), tmp_path)
    current = json.loads((tmp_path / "summary.json").read_text())
    assert current["methods"]["baseline"]["test_metric"]["mean"] == 0.9
    kept = sorted(p.name for p in (tmp_path / "history").iterdir())
    assert kept == [
        "2026-11-27T08-00-00-00-00-summary.csv",
        "2026-11-27T08-00-00-00-00-summary.json",
    ]
    old = json.loads((tmp_path / "history" / kept[1]).read_text())
    assert old["methods"]["baseline"]["test_metric"]["mean"] == 0.5
    csv_rows = (tmp_path / "summary.csv").read_text().splitlines()
    assert csv_rows[0].startswith("method,seeds,test_accuracy_mean") and len(csv_rows) == 2
