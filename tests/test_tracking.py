"""What the MLflow store holds for its UI: the experiment kind that opens it on its training
runs, for new experiments, reopened ones and stores written before; and the shared view of the
runs table with its metric columns, which `automl-bench ui` links to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automl_bench.tracking import (
    KIND_TAG,
    TRAINING_RUNS,
    VIEW_KEY,
    VIEW_TAG,
    Tracking,
    default_tracking_uri,
    prepare_ui,
)

pytestmark = pytest.mark.slow  # a real MLflow store (SQLite)


def test_experiments_are_tagged_as_training_runs(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = default_tracking_uri(tmp_path)
    Tracking(uri, "fresh", tmp_path / "artifacts")
    client = MlflowClient(tracking_uri=uri)
    fresh = client.get_experiment_by_name("fresh")
    assert fresh is not None and fresh.tags[KIND_TAG] == TRAINING_RUNS == "custom_model_development"
    # an experiment written without the tag (an older automl-bench) gets it when reopened
    older = client.create_experiment("older")
    assert KIND_TAG not in client.get_experiment(older).tags
    Tracking(uri, "older", tmp_path / "artifacts")
    assert client.get_experiment(older).tags[KIND_TAG] == TRAINING_RUNS


def test_the_ui_links_each_experiment_to_its_runs_with_metric_columns(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = default_tracking_uri(tmp_path)
    client = MlflowClient(tracking_uri=uri)
    untagged = client.create_experiment("untagged")
    run = client.create_run(untagged).info.run_id
    for key in ("val_accuracy", "test_accuracy", "val_loss", "energy_kwh", "cpu_s", "failed"):
        client.log_metric(run, key, 0.5)
    chosen = client.create_experiment("chosen", tags={KIND_TAG: "genai_development"})
    client.create_run(chosen)
    client.create_experiment("empty")

    pages = {p.experiment: p for p in prepare_ui(uri)}
    assert set(pages) == {"untagged", "chosen"}  # no runs, nothing to show
    assert client.get_experiment(untagged).tags[KIND_TAG] == TRAINING_RUNS
    assert client.get_experiment(chosen).tags[KIND_TAG] == "genai_development"  # left alone
    view = json.loads(client.get_experiment(untagged).tags[VIEW_TAG])
    assert view == {
        "selectedColumns": [
            "metrics.`test_accuracy`",
            "metrics.`val_accuracy`",
            "metrics.`energy_kwh`",
            "metrics.`failed`",
        ]
    }
    url = pages["untagged"].url("http://127.0.0.1:5000")
    assert url == (
        f"http://127.0.0.1:5000/#/experiments/{untagged}/runs?workflowType=machine_learning"
        f"&viewStateShareKey={VIEW_KEY}"
    )
