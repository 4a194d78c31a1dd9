"""A user's own table, end to end on the real stack (Ray Tune, an MLflow SQLite store, a
CodeCarbon node meter), run from a folder outside the repository as a user would:

- a classification CSV with a categorical column and missing values, scored by ROC AUC, with
  the three reference models a practitioner ships without search;
- a regression CSV scored by RMSE, with a reference model tuned by TPE (``tuned: true``).

Each prints the table and the verdict with the reference models' rows; each reference model is
metered, tested and measured for deployment from raw rows like any method.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from automl_bench.tasks.table.examples import example_table

MODELS = ["hist_gradient_boosting", "random_forest", "linear"]


def _run(config: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    """``automl-bench run`` on ``config`` from ``folder`` (not the repository), as a user would."""
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}
    proc = subprocess.run(
        [sys.executable, "-m", "automl_bench.cli", "run", path.name, "--no-live"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _results(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _a_users_csv(folder: Path, name: str, new_name: str) -> Path:
    """The shipped example table copied to the user's own folder, as their own file."""
    source = example_table(name, folder / "made")
    target = folder / new_name
    target.write_bytes(source.read_bytes())
    return target


@pytest.mark.slow
def test_a_classification_table_with_categories_and_missing_values(tmp_path: Path) -> None:
    data = _a_users_csv(tmp_path, "breast_cancer", "patients.csv")
    with data.open() as f:
        header = next(csv.reader(f))
    target = header[-1]
    config = {
        "experiment": "my_table",
        "task": "table",
        "table": {"data": data.name, "target": target, "metric": "roc_auc"},
        "space": "tabular",
        "methods": ["baseline", "tpe"],
        "seeds": [0],
        "budget": {"trials": 2, "epochs": 6},
        "deploy": {"onnx": True},
    }
    proc = _run(config, tmp_path)
    for label in MODELS:  # each reference model is a row of the table and of the verdict
        assert proc.stdout.count(label) >= 2, (label, proc.stdout[-4000:])
    summary = json.loads((tmp_path / "runs" / "my_table" / "summary.json").read_text())
    assert summary["metric"] == "roc_auc" and summary["direction"] == "maximize"
    for label in [*MODELS, "baseline", "tpe"]:
        for study in summary["methods"][label]["studies"]:
            assert study["test_metric"] is not None, label
            deploy = study["deploy"]
            assert deploy["cpu"]["latency_ms_p95"] > 0 and deploy["size_mb"] > 0, label
            assert study["final"]["wall_s"] > 0, label  # metered like any trial
    hgb = summary["methods"]["hist_gradient_boosting"]["studies"]
    assert all(s["test_metric"] > 0.9 for s in hgb)  # breast cancer: a tree separates it
    assert hgb[0]["deploy"]["onnx"] == "ok"  # the whole pipeline, transform included
    rows = _results(tmp_path / "runs" / "my_table" / "results.csv")
    constant = [r for r in rows if r["method"] == "constant"]
    assert len(constant) == 1 and all(float(r["test_metric"]) == 0.5 for r in constant)


@pytest.mark.slow
def test_a_regression_table_with_a_tuned_reference_model(tmp_path: Path) -> None:
    data = _a_users_csv(tmp_path, "diabetes", "progress.csv")
    with data.open() as f:
        header = next(csv.reader(f))
    config = {
        "experiment": "my_regression",
        "task": "table",
        "table": {
            "data": str(data),
            "target": header[-1],
            "reference_models": ["hist_gradient_boosting", "linear"],
            "tuned": True,
        },
        "space": "tabular",
        "methods": ["baseline"],
        "seeds": [0],
        "budget": {"trials": 2, "epochs": 10},
        "deploy": {"onnx": False},
        "verdict": {"rope_points": 2.0},
    }
    proc = _run(config, tmp_path)
    assert "hist_gradient_boosting:tuned" in proc.stdout
    summary = json.loads((tmp_path / "runs" / "my_regression" / "summary.json").read_text())
    assert summary["metric"] == "rmse" and summary["direction"] == "minimize"
    tuned = summary["methods"]["hist_gradient_boosting:tuned"]["studies"][0]
    assert tuned["trials"] == 2 and tuned["test_metric"] is not None
    rows = _results(tmp_path / "runs" / "my_regression" / "results.csv")
    by_method = {r["method"]: float(r["test_metric"]) for r in rows}
    # the mean of the training targets is the constant; a linear model on diabetes beats it
    assert by_method["linear"] < by_method["constant"]
    assert 30 < by_method["linear"] < 80  # RMSE in the target's units (its sd is about 77)
