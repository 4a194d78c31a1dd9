"""The whole stack, for real: the CLI, Ray Tune + OptunaSearch, an MLflow SQLite store, a
CodeCarbon offline tracker and real training on scikit-learn's digits. No mocks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

RunCli = Callable[..., "subprocess.CompletedProcess[str]"]

pytestmark = pytest.mark.slow

SEEDS = [0, 1]
TRIALS = 2
EPOCHS = 3
METHODS = ["baseline", "random", "tpe"]


@pytest.fixture(scope="module")
def experiment(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, run_cli: RunCli
) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("e2e")
    out = tmp / "runs"
    config = {
        "experiment": "e2e",
        "task": "digits",
        "space": str(repo_root / "tests" / "fixtures" / "flaky_mlp.py"),
        "reference_spaces": ["search_spaces/mlp.py"],
        "methods": METHODS,
        "seeds": SEEDS,
        "budget": {"trials": TRIALS, "epochs": EPOCHS},
        "energy": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }
    proc = run_cli(config, tmp)
    summary = json.loads((out / "e2e" / "summary.json").read_text())
    return {"out": out, "stdout": proc.stdout, "stderr": proc.stderr, "summary": summary}


def test_table_lists_every_method(experiment: dict[str, Any]) -> None:
    for label in [*METHODS, "baseline:mlp"]:
        assert label in experiment["stdout"]
    assert "4 search trials failed" in experiment["stdout"]
    failures = [line for line in experiment["stdout"].splitlines() if "meant to fail" in line]
    assert len(failures) == 4 and all(" failed: ValueError: " in line for line in failures)
    assert "Traceback" not in experiment["stdout"] + experiment["stderr"]


def test_summary_has_every_method_over_paired_seeds(experiment: dict[str, Any]) -> None:
    methods = experiment["summary"]["methods"]
    assert set(methods) == {*METHODS, "baseline:mlp"}
    for label, method in methods.items():
        assert [s["seed"] for s in method["studies"]] == SEEDS
        assert method["test_metric"]["n"] == len(SEEDS)
        # digits is easy: far above chance (10%) even after a few epochs
        assert method["test_metric"]["mean"] > 0.5, label
        for study in method["studies"]:
            assert Path(study["model_path"], "model.pt").is_file()
            final = study["final"]
            assert final["wall_s"] > 0 and final["cpu_s"] > 0
            assert final["energy_kwh"]["total"] > 0 and final["co2_kg"] > 0
            assert final["measured"]["cpu"] in {"rapl", "tdp-estimate", "constant"}
            assert final["measured"]["gpu"] in {"nvml", "none"}
    baseline = methods["baseline"]
    assert baseline["delta_vs_baseline"]["mean"] == pytest.approx(0.0)
    for label in ("random", "tpe"):
        tests = [s["test_metric"] for s in methods[label]["studies"]]
        base = [s["test_metric"] for s in baseline["studies"]]
        expected = sum(t - b for t, b in zip(tests, base, strict=True)) / len(SEEDS)
        assert methods[label]["delta_vs_baseline"]["mean"] == pytest.approx(expected)


def test_failing_trials_are_recorded_and_the_study_goes_on(experiment: dict[str, Any]) -> None:
    for label in ("random", "tpe"):
        for study in experiment["summary"]["methods"][label]["studies"]:
            assert study["trials"] == TRIALS
            assert study["failed"] == 1
            assert "meant to fail" in study["failures"][0]["reason"]
            assert study["best_config"]["fail"] is False
            assert study["test_metric"] is not None  # the study went on to its final training
            # the failed trial's cost is counted in the search phase
            assert study["search"]["energy_kwh"]["total"] > 0


def _runs(out: Path) -> tuple[Any, list[Any]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("e2e")
    assert exp is not None
    return client, client.search_runs([exp.experiment_id], max_results=1000)


def test_mlflow_holds_parent_and_child_runs(experiment: dict[str, Any]) -> None:
    client, runs = _runs(experiment["out"])
    parents = {r.info.run_id: r for r in runs if "mlflow.parentRunId" not in r.data.tags}
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    # one parent per study: 3 methods x 2 seeds, plus the reference baseline x 2 seeds
    assert len(parents) == (len(METHODS) + 1) * len(SEEDS)
    # searching studies: TRIALS search + 1 final; baselines: 1 final
    assert len(children) == len(SEEDS) * (2 * (TRIALS + 1) + 2 * 1)
    for child in children:
        parent = parents[child.data.tags["mlflow.parentRunId"]]
        assert parent.data.tags["seed"] == child.data.tags["seed"]
        assert parent.data.tags["method"] == child.data.tags["method"]
        metrics = child.data.metrics
        for name in ("wall_s", "cpu_s", "energy_kwh", "energy_kwh_cpu", "energy_kwh_ram", "co2_kg"):
            assert name in metrics, (name, child.data.tags)
        if child.info.status == "FAILED":
            assert "meant to fail" in child.data.tags["failure_reason"]
            continue
        assert child.info.status == "FINISHED"
        if child.data.tags["phase"] == "final":
            assert 0 < metrics["test_accuracy"] <= 1
        else:
            history = client.get_metric_history(child.info.run_id, "val_accuracy")
            assert sorted(m.step for m in history) == list(range(1, EPOCHS + 1))
    assert sum(c.info.status == "FAILED" for c in children) == 2 * len(SEEDS)
    for parent in parents.values():
        assert parent.info.status == "FINISHED"
        assert {"test_accuracy", "energy_kwh", "co2_kg", "wall_s"} <= set(parent.data.metrics)
        assert parent.data.tags["code_revision"]
        assert parent.data.tags["version.torch"]
        artifacts = [a.path for a in client.list_artifacts(parent.info.run_id)]
        assert "config.json" in artifacts


def test_ui_serves_the_runs_on_loopback(
    experiment: dict[str, Any], free_port: Callable[[], int]
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automl_bench.cli",
            "ui",
            "--runs-dir",
            str(experiment["out"]),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/get-by-name?experiment_name=e2e"
        deadline, body = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert body is not None, "the MLflow UI did not answer"
        assert body["experiment"]["name"] == "e2e"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    time.sleep(2)
    leftovers = subprocess.run(
        ["pgrep", "-f", f"--port {port}"], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == [], "the UI left processes running"
