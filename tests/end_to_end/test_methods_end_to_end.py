"""Every search method from a config, end to end on the real stack (Ray Tune, MLflow, CodeCarbon,
real training on digits), at a small budget: each runs, records its cost, and shows what makes it
that method (stopped trials with the fidelity they reached, Pareto fronts, proxy scores)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.slow

EPOCHS = 9  # rungs at 1, 3 and 9 epochs (eta 3)
TRIALS = 8
METHODS = ["baseline", "rea", "asha", "hyperband", "bohb", "nsga2", "motpe", "naswot"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, run_cli: Callable[..., Any]) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("methods")
    out = tmp / "runs"
    config = {
        "experiment": "methods",
        "task": "digits",
        "space": "search_spaces/mlp.py",
        "methods": METHODS,
        "seeds": [0],
        "budget": {"trials": TRIALS, "epochs": EPOCHS},
        "search": {"cost_objective": "params"},
        "deploy": {"onnx": False},
        "output_dir": str(out),
    }
    proc = run_cli(config, tmp)
    exp = out / "methods"
    lines = [json.loads(x) for x in (exp / "trials.jsonl").read_text().splitlines()]
    summary = json.loads((exp / "summary.json").read_text())
    return {"summary": summary, "trials": lines, "stdout": proc.stdout, "out": out}


def _search(run: dict[str, Any], method: str) -> list[dict[str, Any]]:
    return [t for t in run["trials"] if t["method"] == method and t["phase"] == "search"]


def test_every_method_runs_and_records_its_cost(run: dict[str, Any]) -> None:
    methods = run["summary"]["methods"]
    assert set(methods) == set(METHODS)
    for label in METHODS:
        (study,) = methods[label]["studies"]
        assert study["test_metric"] is not None and study["test_metric"] > 0.3, label
        assert study["final"]["energy_kwh"]["total"] > 0, label
        if label != "baseline":
            assert study["trials"] == TRIALS, label
            assert study["search"]["energy_kwh"]["total"] > 0, label
            assert len(_search(run, label)) == TRIALS, label
            assert all(t["cost"]["energy_kwh"]["total"] > 0 for t in _search(run, label)), label
            assert "verdict" in methods[label]


def test_multi_fidelity_stops_trials_and_charges_what_they_ran(run: dict[str, Any]) -> None:
    stopped = [
        t
        for m in ("asha", "hyperband", "bohb")
        for t in _search(run, m)
        if t["status"] == "stopped"
    ]
    assert stopped, "no trial was stopped early"
    full = [
        t for m in ("asha", "hyperband", "bohb") for t in _search(run, m) if t["status"] == "ok"
    ]
    assert full and all(t["epochs_run"] == EPOCHS for t in full)
    for t in stopped:  # the fidelity it reached, its cost, and why it ended
        assert 1 <= t["epochs_run"] < EPOCHS, t
        assert t["cost"]["energy_kwh"]["total"] > 0 and t["cost"]["wall_s"] > 0
        assert t["reason"].startswith("stopped after epoch")
    per_epoch = [t["cost"]["wall_s"] / t["epochs_run"] for t in full]
    assert min(t["cost"]["wall_s"] for t in stopped) < max(per_epoch) * EPOCHS
    # a stopped trial is not a failure, and never the study's choice
    for label in ("asha", "hyperband", "bohb"):
        (study,) = run["summary"]["methods"][label]["studies"]
        assert study["failed"] == 0
        assert study["stopped"] == sum(t["status"] == "stopped" for t in _search(run, label))
        best = max(
            (t for t in _search(run, label) if t["status"] == "ok"), key=lambda t: t["val_metric"]
        )
        assert study["best_config"] == best["config"]
    # the other methods run every trial to the end
    assert all(t["status"] == "ok" for t in _search(run, "nsga2") + _search(run, "motpe"))


def test_multi_objective_methods_give_a_pareto_front(run: dict[str, Any]) -> None:
    for label in ("nsga2", "motpe"):
        (study,) = run["summary"]["methods"][label]["studies"]
        front = study["pareto_front"]
        assert front, label
        costs = [p["params"] for p in front]
        vals = [p["val_metric"] for p in front]
        assert costs == sorted(costs)  # cheapest first ...
        assert vals == sorted(vals) and len(set(vals)) == len(vals)  # ... each more accurate
        finished = [t for t in _search(run, label) if t["status"] == "ok"]
        for p in front:  # no finished trial dominates a front member
            for t in finished:
                better = t["val_metric"] >= p["val_metric"] and t["params"] <= p["params"]
                strictly = t["val_metric"] > p["val_metric"] or t["params"] < p["params"]
                assert not (better and strictly), (label, p, t)


def test_naswot_scores_without_training(run: dict[str, Any]) -> None:
    trials = _search(run, "naswot")
    scored = [t for t in trials if t["status"] == "ok"]
    assert scored and all(t["epochs_run"] == 0 for t in scored)
    random_like = _search(run, "asha")  # trained trials of the same space
    assert sum(t["cost"]["wall_s"] for t in trials) < sum(t["cost"]["wall_s"] for t in random_like)


def test_stopped_trials_are_finished_runs_in_mlflow(run: dict[str, Any]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=run["summary"]["tracking_uri"])
    exp = client.get_experiment_by_name("methods")
    assert exp is not None
    runs = client.search_runs([exp.experiment_id], filter_string="tags.trial_status = 'stopped'")
    assert runs
    for r in runs:
        assert r.info.status == "FINISHED"
        assert r.data.tags["stop_reason"].startswith("stopped after epoch")
        assert r.data.metrics["energy_kwh"] > 0 and r.data.metrics["epochs_run"] < EPOCHS
