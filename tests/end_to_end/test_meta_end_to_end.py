"""Meta-learning through the whole stack: the CLI on real Ray Tune (+ OptunaSearch for the search
over MAML's settings), a real MLflow SQLite store and a real CodeCarbon meter, meta-training on
generated sinusoid tasks and on MNIST-1D episodes, at small budgets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from e2e_setup import RunCli

ITERATIONS = 400
LOG_EVERY = 50
SEEDS = [0, 1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sinusoid(tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("maml")
    out = tmp / "runs"
    config = {
        "experiment": "maml_e2e",
        "task": "sinusoid",
        "space": "search_spaces/maml.py",
        "methods": ["pretrain_finetune", "maml", "fomaml", "tpe"],
        "seeds": SEEDS,
        "budget": {"trials": 2},
        "meta": {"iterations": ITERATIONS, "log_every": LOG_EVERY, "test_tasks": 600},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }
    proc = run_cli(config, tmp)
    summary = json.loads((out / "maml_e2e" / "summary.json").read_text())
    return {"out": out, "stdout": proc.stdout, "summary": summary}


def test_every_method_reports_its_mse_with_an_interval_and_its_cost(
    sinusoid: dict[str, Any],
) -> None:
    summary = sinusoid["summary"]
    assert set(summary["methods"]) == {"pretrain_finetune", "maml", "fomaml", "tpe"}
    for label, method in summary["methods"].items():
        assert method["test_metric"]["n"] == len(SEEDS), label
        lo, hi = method["test_metric"]["ci95"]
        assert lo < method["test_metric"]["mean"] < hi
        for study in method["studies"]:
            assert study["test_metric"] > 0
            assert study["final"]["energy_kwh"]["total"] > 0 and study["final"]["wall_s"] > 0
            steps = study["meta"]["steps"]
            assert set(steps) == {"1", "5", "10"}, steps
            for reading in steps.values():
                low, high = reading["ci95"]
                assert low < reading["mean"] < high
            assert steps["10"]["mean"] == pytest.approx(study["test_metric"])
    assert "test MSE" in sinusoid["stdout"]


def test_maml_beats_pretraining_and_first_order_is_cheaper(sinusoid: dict[str, Any]) -> None:
    methods = sinusoid["summary"]["methods"]
    maml = {s["seed"]: s for s in methods["maml"]["studies"]}
    for study in methods["pretrain_finetune"]["studies"]:  # paired, seed by seed
        assert maml[study["seed"]]["test_metric"] < study["test_metric"]
    first, second = methods["fomaml"]["meta"], methods["maml"]["meta"]
    assert first["seconds_per_iteration"] < second["seconds_per_iteration"]
    assert first["peak_memory_mb"] < second["peak_memory_mb"]
    ratios = sinusoid["summary"]["meta_ratios"]["second_over_first_order"]
    assert ratios["time_per_iteration"] > 1 and ratios["peak_memory"] > 1
    # the verdict reads the improvement: MAML's lower MSE is a positive delta
    assert methods["maml"]["verdict"]["delta_points"]["estimate"] > 0


def test_meta_training_is_amortised_over_the_tasks_served(sinusoid: dict[str, Any]) -> None:
    for study in sinusoid["summary"]["methods"]["maml"]["studies"]:
        meta = study["meta"]
        assert meta["tasks_served"] == 600
        assert meta["train_kwh_per_task"] == pytest.approx(
            study["final"]["energy_kwh"]["total"] / 600, rel=1e-6
        )


def test_the_search_over_mamls_settings_ran_under_optuna(sinusoid: dict[str, Any]) -> None:
    for study in sinusoid["summary"]["methods"]["tpe"]["studies"]:
        assert study["trials"] == 2 and study["failed"] == 0
        assert study["val_metric"] is not None and study["val_metric"] > 0
        assert {"inner_lr", "inner_steps", "meta_batch", "outer_lr", "first_order"} <= set(
            study["best_config"]
        )


def test_mlflow_holds_parents_children_and_the_meta_training_curve(
    sinusoid: dict[str, Any],
) -> None:
    from mlflow.tracking import MlflowClient

    out: Path = sinusoid["out"]
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("maml_e2e")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = {
        r.info.run_id: r
        for r in runs
        if "label" in r.data.tags and "mlflow.parentRunId" not in r.data.tags
    }
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") in parents]
    # 4 methods x 2 seeds studies; each one final training, tpe 2 search trials more
    assert len(parents) == 8 and len(children) == 8 + 2 * len(SEEDS)
    final = next(
        r for r in children if r.data.tags["method"] == "maml" and r.data.tags["phase"] == "final"
    )
    assert final.data.metrics["test_mse"] > 0
    assert final.data.metrics["meta_seconds_per_iteration"] > 0
    curve = client.get_metric_history(final.info.run_id, "meta_train_loss")
    assert sorted(m.step for m in curve) == list(range(LOG_EVERY, ITERATIONS + 1, LOG_EVERY))
    by_step = {m.step: m.value for m in curve}
    assert by_step[ITERATIONS] < by_step[LOG_EVERY]  # it learnt


def test_fewshot_protonets_beat_the_pretrained_embedding(
    tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli
) -> None:
    tmp = tmp_path_factory.mktemp("fewshot")
    out = tmp / "runs"
    config = {
        "experiment": "fewshot_e2e",
        "task": "fewshot_mnist1d",
        "space": "search_spaces/protonet.py",
        "methods": ["pretrain_finetune", "protonet"],
        "seeds": [0],
        "meta": {
            "iterations": 150,
            "n_way": 5,
            "k_shot": 5,
            "eval_steps": [0],
            "primary_steps": 0,
            "log_every": 50,
        },
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }
    proc = run_cli(config, tmp)
    summary = json.loads((out / "fewshot_e2e" / "summary.json").read_text())
    proto = summary["methods"]["protonet"]["studies"][0]
    base = summary["methods"]["pretrain_finetune"]["studies"][0]
    assert 0.2 < base["test_metric"] < proto["test_metric"] <= 1.0  # chance is 20%
    low, high = proto["meta"]["steps"]["0"]["ci95"]
    assert low < proto["test_metric"] < high
    assert "constant" not in summary["methods"]
    assert "test acc" in proc.stdout
