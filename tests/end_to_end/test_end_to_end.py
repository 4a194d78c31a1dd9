"""The whole stack, for real: the CLI, Ray Tune + OptunaSearch, an MLflow SQLite store, a
CodeCarbon node meter and real training on scikit-learn's digits. No mocks."""

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
from e2e_setup import EPOCHS, MAX_PARAMS, METHODS, SEEDS, TRIALS

pytestmark = pytest.mark.slow


def test_table_lists_every_method(experiment: dict[str, Any]) -> None:
    for label in [*METHODS, "baseline:mlp"]:
        assert label in experiment["stdout"]
    # the run says how many trials failed, in the same words on stdout and on stderr, and ends
    # with exit code 3 (run_cli checks)
    finals, searches = len(SEEDS) * (len(METHODS) + 1), 2 * TRIALS * len(SEEDS)
    words = (
        f"4 of {finals + searches} trials failed (4 of {searches} search trials, "
        f"0 of {finals} final trainings)"
    )
    assert f"{words}; " in experiment["stdout"]
    assert f"automl-bench: {words}; " in experiment["stderr"]
    failures = [line for line in experiment["stdout"].splitlines() if "meant to fail" in line]
    assert len(failures) == 4 and all(" failed: ValueError: " in line for line in failures)
    assert "Traceback" not in experiment["stdout"] + experiment["stderr"]


def test_summary_has_every_method_over_paired_seeds(experiment: dict[str, Any]) -> None:
    methods = experiment["summary"]["methods"]
    assert set(methods) == {*METHODS, "baseline:mlp"}
    for label, method in methods.items():
        assert [s["seed"] for s in method["studies"]] == SEEDS
        assert method["test_metric"]["n"] == len(SEEDS)
        # digits is easy: far above chance (10%) even after a few epochs (the untuned defaults,
        # at lr 1e-3, learn slower)
        assert method["test_metric"]["mean"] > (0.2 if label == "defaults" else 0.5), label
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
    parents = {
        r.info.run_id: r
        for r in runs
        if "mlflow.parentRunId" not in r.data.tags and r.data.tags.get("level") != "experiment"
    }
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    # one parent per study: 4 methods x 2 seeds, plus the reference baseline x 2 seeds
    assert len(parents) == (len(METHODS) + 1) * len(SEEDS)
    # searching studies: TRIALS search + 1 final; baseline, defaults, baseline:mlp: 1 final
    assert len(children) == len(SEEDS) * (2 * (TRIALS + 1) + 3 * 1)
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


def _child_energy(metrics: dict[str, float]) -> float:
    return metrics["energy_kwh"] + metrics.get("inference_energy_kwh", 0.0)


def test_every_trial_and_phase_carries_its_full_cost_record(experiment: dict[str, Any]) -> None:
    from automl_bench.cost.record import METRIC_NAMES

    _, runs = _runs(experiment["out"])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    for child in children:
        metrics, tags = child.data.metrics, child.data.tags
        assert set(METRIC_NAMES) <= set(metrics), set(METRIC_NAMES) - set(metrics)
        assert tags["measured_cpu"] in {"rapl", "tdp-estimate", "constant"}
        assert tags["measured_ram"] == "estimate" and tags["measured_gpu"] in {"nvml", "none"}
        assert tags["measured_cpu"] in tags["energy_estimate"]  # the band, next to the figure
        assert metrics["energy_kwh_low"] < metrics["energy_kwh"] < metrics["energy_kwh_high"]
        assert metrics["co2_kg"] > 0 and metrics["usd"] > 0 and metrics["core_s"] > 0
        assert metrics["pue"] >= 1 and metrics["carbon_intensity_kg_per_kwh"] > 0
        if tags["phase"] == "final":  # the inference phase rides on the final training's run
            assert metrics["inference_predictions"] > 0 and metrics["inference_batch_size"] == 64
            assert metrics["inference_energy_kwh"] > 0
            assert metrics["inference_per_1k_energy_kwh"] == pytest.approx(
                metrics["inference_energy_kwh"] * 1000 / metrics["inference_predictions"]
            )
            assert tags["inference_measured_cpu"] == tags["measured_cpu"]
    parents = [
        r
        for r in runs
        if "mlflow.parentRunId" not in r.data.tags and r.data.tags.get("level") != "experiment"
    ]
    for parent in parents:
        metrics = parent.data.metrics
        for phase in ("search", "decide", "final", "inference", "inference_per_1k"):
            assert f"{phase}_energy_kwh" in metrics and f"{phase}_usd" in metrics
        assert metrics["final_energy_kwh"] > 0 and metrics["inference_energy_kwh"] > 0
        searching = parent.data.tags["method"] in ("random", "tpe")
        assert (metrics["decide_wall_s"] > 0) == searching  # the sampler's own work
        assert (metrics["search_energy_kwh"] > 0) == searching
    (totals,) = [r for r in runs if r.data.tags.get("level") == "experiment"]
    for line in ("search", "final", "inference", "idle", "node"):
        assert totals.data.metrics[f"{line}_energy_kwh"] > 0, line
    assert totals.data.tags["price_electricity"].startswith("FRA: ")
    assert totals.data.tags["price_gpu_hour"].startswith("aws-p5.48xlarge: ")


def test_trials_energy_plus_idle_is_what_the_node_measured(experiment: dict[str, Any]) -> None:
    """The attribution invariant, from what MLflow holds: every trial run's energy (its
    training and, for finals, inference), each study's decision-making, and the idle /
    overhead line add up to the node meter's measured energy within 5%."""
    _, runs = _runs(experiment["out"])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    (totals,) = [r for r in parents if r.data.tags.get("level") == "experiment"]
    studies = [r for r in parents if r.data.tags.get("level") != "experiment"]
    trials_kwh = sum(_child_energy(c.data.metrics) for c in children)
    decide_kwh = sum(p.data.metrics["decide_energy_kwh"] for p in studies)
    idle_kwh = totals.data.metrics["idle_energy_kwh"]
    deploy_kwh = totals.data.metrics["deploy_energy_kwh"]  # measuring the final models
    node_kwh = totals.data.metrics["node_energy_kwh"]
    assert 0 < idle_kwh < node_kwh and 0 < deploy_kwh < node_kwh
    assert trials_kwh + decide_kwh + deploy_kwh + idle_kwh == pytest.approx(node_kwh, rel=0.05)
    # the failed trials are in there, charged for what they ran
    failed = [c for c in children if c.info.status == "FAILED"]
    assert failed and all(c.data.metrics["energy_kwh"] > 0 for c in failed)
    # and summary.json says the same
    cost = experiment["summary"]["cost"]
    assert cost["attribution"]["ratio"] == pytest.approx(1.0, rel=0.05)
    assert cost["node"]["energy_kwh"]["total"] == pytest.approx(node_kwh)
    phases = sum(cost[p]["energy_kwh"]["total"] for p in ("search", "final", "inference"))
    assert phases == pytest.approx(trials_kwh + decide_kwh)


def test_summary_keeps_phases_apart_with_their_measurement_methods(
    experiment: dict[str, Any],
) -> None:
    for label, method in experiment["summary"]["methods"].items():
        for study in method["studies"]:
            for phase in ("search", "decide", "final", "inference", "inference_per_1k"):
                record = study[phase]
                if record["wall_s"] == 0:  # a baseline has no search: nothing spent, nothing said
                    assert record["energy_kwh"]["total"] == 0 and record["measured"] == {}
                    continue
                assert set(record["measured"]) == {"cpu", "gpu", "ram"}, (label, phase)
                assert record["estimate"], (label, phase)
            search, decide = study["search"], study["decide"]
            if label in ("random", "tpe"):
                assert 0 < decide["wall_s"] < search["wall_s"]
                assert search["energy_kwh"]["total"] > decide["energy_kwh"]["total"] > 0
            else:
                assert search["wall_s"] == 0 and decide["wall_s"] == 0
            assert study["inference_predictions"] > 0
            assert study["inference_per_1k"]["energy_kwh"]["total"] == pytest.approx(
                study["inference"]["energy_kwh"]["total"] * 1000 / study["inference_predictions"]
            )
        assert method["cost"]["inference_per_1k"]["energy_kwh"]["total"] > 0
    prices = experiment["summary"]["cost"]["prices"]
    assert set(prices["sources"]) == {
        "gpu_hour",
        "cpu_hour",
        "electricity",
        "carbon_intensity",
        "pue",
    }


def test_every_final_model_has_its_deploy_record_and_feasibility(
    experiment: dict[str, Any],
) -> None:
    methods = experiment["summary"]["methods"]
    for label, method in methods.items():
        for study in method["studies"]:
            deploy = study["deploy"]
            assert deploy is not None and "error" not in deploy, (label, deploy)
            assert deploy["params"] > 0 and deploy["flops"] > 0 and deploy["size_mb"] > 0
            assert deploy["exportable"] is True and deploy["onnx"] == "not asked"
            cpu = deploy["cpu"]
            assert cpu["threads"] == 1 and cpu["batch_size"] == 64 and cpu["latency_repeats"] >= 30
            assert 0 < cpu["latency_ms_p50"] <= cpu["latency_ms_p95"] and cpu["peak_mem_mb"] > 0
            assert deploy["inference_per_1k_energy_kwh"] > 0  # from the cost meter
            assert deploy["feasible"] == (deploy["params"] <= MAX_PARAMS)
        expected = 0 if label == "baseline:mlp" else len(SEEDS)
        assert method["deploy"] == {
            "models": len(SEEDS),
            "feasible": expected,
            "broken": [] if expected else ["params 17,610 > 10,000"],
        }
    assert "baseline:mlp: not deployable as configured: params 17,610 > 10,000" in (
        experiment["stdout"].replace("\n", " ")
    )
    _, runs = _runs(experiment["out"])
    finals = [
        r for r in runs if r.data.tags.get("phase") == "final" and r.info.status == "FINISHED"
    ]
    assert len(finals) == len(methods) * len(SEEDS)
    for run in finals:
        metrics, tags = run.data.metrics, run.data.tags
        for name in ("params", "flops", "size_mb", "latency_ms_p95_cpu", "throughput_per_s_cpu"):
            assert metrics[f"deploy_{name}"] > 0, name
        feasible = metrics["deploy_params"] <= MAX_PARAMS
        assert tags["deploy_feasible"] == str(feasible).lower()
        assert ("deploy_broken" in tags) == (not feasible)


def test_results_in_long_format_and_the_verdict_read_from_them(
    experiment: dict[str, Any],
) -> None:
    from automl_bench.analysis import VerdictSettings, verdicts
    from automl_bench.results import read_results

    exp_dir = experiment["out"] / "e2e"
    rows = read_results(exp_dir / "results.csv")
    methods = experiment["summary"]["methods"]
    # one row per method and seed, and the constant predictor's per seed
    assert len(rows) == (len(methods) + 1) * len(SEEDS)
    constant = [r for r in rows if r["method"] == "constant"]
    assert [r["seed"] for r in constant] == SEEDS
    for r in constant:  # digits has ten balanced classes: the most frequent one is about 10%
        assert 0.05 < r["test_metric"] < 0.2 and r["search_energy_kwh"] == 0
    for r in rows:
        if r["method"] == "constant":
            continue
        study = next(s for s in methods[r["method"]]["studies"] if s["seed"] == r["seed"])
        assert r["test_metric"] == pytest.approx(study["test_metric"])
        assert r["final_energy_kwh"] == pytest.approx(study["final"]["energy_kwh"]["total"])
        assert r["search_usd"] == pytest.approx(study["search"]["usd"])
        assert r["code_revision"] and r["versions"] and r["created"]
    lines = [json.loads(x) for x in (exp_dir / "trials.jsonl").read_text().splitlines()]
    trials = [x for x in lines if x["phase"] != "decide"]
    assert len(trials) == sum(
        len(SEEDS) * (TRIALS + 1) if m in ("random", "tpe") else len(SEEDS) for m in methods
    )
    assert all(x["start"] and x["end"] and x["start"] <= x["end"] for x in trials)
    failed = [x for x in trials if x["status"] == "failed"]
    assert len(failed) == 2 * len(SEEDS) and all("meant to fail" in x["reason"] for x in failed)
    assert all(x["cost"]["energy_kwh"]["total"] > 0 for x in trials)
    assert {x["epochs_run"] for x in trials if x["status"] == "ok"} == {EPOCHS}
    # the verdict in summary.json is the one results.csv gives
    settings = VerdictSettings(**experiment["summary"]["verdict_settings"])
    recomputed = verdicts(rows, settings)
    assert set(recomputed) == set(methods) - {"baseline"}
    for label, verdict in recomputed.items():
        assert methods[label]["verdict"]["call"] == verdict["call"]
        assert verdict["call"] in {"worth it", "not worth it", "inconclusive", "not deployable"}
        assert "points" in verdict["reason"]
    # normalised scores: the constant predictor 0, the baseline 1 at every seed
    assert methods["baseline"]["normalised_score"]["per_seed"] == {"0": 1.0, "1": 1.0}
    for label, m in methods.items():
        score = m["normalised_score"]
        tests = {r["seed"]: r["test_metric"] for r in rows if r["method"] == label}
        base = {r["seed"]: r["test_metric"] for r in rows if r["method"] == "baseline"}
        zero = {r["seed"]: r["test_metric"] for r in constant}
        expected = [(tests[s] - zero[s]) / (base[s] - zero[s]) for s in SEEDS]
        assert score["estimate"] == pytest.approx(sum(expected) / len(SEEDS)), label
    # the untuned defaults: the baseline with the trainer's keys dropped
    for study in methods["defaults"]["studies"]:
        assert study["best_config"] == {"width": 32}
    assert "latency_ratio" in methods["tpe"]["verdict"]
    # the reference MLP breaks the parameter budget: not deployable, whatever its accuracy
    assert methods["baseline:mlp"]["verdict"]["call"] == "not deployable"
    assert "Is it worth it?" in experiment["stdout"]
    analysis = experiment["summary"]["analysis"]
    assert set(analysis["anytime"]) == {"random", "tpe"}  # the methods that search
    for curve in analysis["anytime"].values():
        assert len(curve["grid_kwh"]) == 25 and curve["seeds"][-1] == len(SEEDS)
        assert 0 < curve["mean"][-1] <= 1
    for name in ("energy_kwh", "latency_ms_p95_cpu", "search_usd"):
        front = analysis["pareto"][name]
        assert set(front["points"]) == set(methods) and front["front"]


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
