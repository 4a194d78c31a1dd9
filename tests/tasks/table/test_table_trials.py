"""Trials on a user's table, in-process with a scripted meter: a net trained for regression on
the standardised target and scored in the target's units; a net scored by ROC AUC; a reference
model (a scikit-learn estimator) fitted, scored, saved and metered like any trial; and the
constant predictor by the experiment's metric."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from repo_paths import REPO
from test_trial import PRICES, ThirtyWatts

from automl_bench.cost.attribution import Holding
from automl_bench.cost.node_meter import NodeMeter
from automl_bench.cost.window import LocalWindowMeter
from automl_bench.estimator_trial import MODEL_FILE
from automl_bench.reference_models import REFERENCE_MODELS
from automl_bench.space import load_search_space
from automl_bench.tasks.constant import constant_scores
from automl_bench.tasks.table.examples import example_table
from automl_bench.tasks.table.spec import TableSpec
from automl_bench.tasks.table.task import open_table
from automl_bench.trial import TrialContext, TrialJob, run_trial

TABULAR = str(REPO / "search_spaces" / "tabular.py")


@pytest.fixture(scope="module")
def meter() -> LocalWindowMeter:
    return LocalWindowMeter(NodeMeter(ThirtyWatts(), 2.0), Holding(cpus=1.0))


def _context(tmp: Path, name: str, target: str, metric: str) -> TrialContext:
    cache = tmp / "cache"
    spec = TableSpec(str(example_table(name, cache)), target, metric=metric)
    spec = replace(spec, problem=open_table(spec).info.problem)
    open_table(spec).prepare([0], cache)
    return TrialContext(
        task="table",
        cache_dir=str(cache),
        spaces={"tabular": TABULAR, "linear": str(REFERENCE_MODELS["linear"])},
        epochs=15,
        cpus_per_trial=1,
        gpus_per_trial=0,
        prices=PRICES,
        deploy_batch_size=16,
        inference_seconds=0.2,
        metric=metric,
        table=spec,
        estimators=("linear",),
    )


def _run(job: TrialJob, ctx: TrialContext, meter: LocalWindowMeter) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    run_trial(job, ctx, lambda metrics, model_dir: reports.append(metrics), meter)
    return reports


def _baseline() -> dict[str, Any]:
    return dict(load_search_space(TABULAR).baseline)


def test_a_net_learns_a_regression_in_the_targets_units(
    tmp_path: Path, meter: LocalWindowMeter
) -> None:
    ctx = _context(tmp_path, "diabetes", "progression", "rmse")
    job = TrialJob("baseline/seed=0", "baseline", 0, "search", "tabular", _baseline())
    closing = _run(job, ctx, meter)[-1]
    history = closing["epoch_history"]
    assert closing["trial_status"] == "ok", closing.get("failure_reason")
    # scored in the target's units (its sd is about 77): the untrained net is far off
    (constant,) = constant_scores(open_table(ctx.table), [0], Path(ctx.cache_dir), "rmse")
    assert closing["val_rmse"] < constant.val_metric < 90
    assert all("val_accuracy" not in e for e in history) and "val_rmse" in history[-1]
    assert history[-1]["train_loss"] < history[0]["train_loss"]  # on the standardised target


def test_a_final_net_is_tested_by_roc_auc_and_saves_its_scaling(
    tmp_path: Path, meter: LocalWindowMeter
) -> None:
    ctx = _context(tmp_path, "breast_cancer", "diagnosis", "roc_auc")
    job = TrialJob("baseline/seed=0", "baseline", 0, "final", "tabular", _baseline())
    closing = _run(job, ctx, meter)[-1]
    assert closing["trial_status"] == "ok", closing.get("failure_reason")
    assert 0.9 < closing["test_roc_auc"] <= 1.0
    assert closing["inference_predictions"] > 0


def test_a_reference_model_is_fitted_scored_saved_and_metered(
    tmp_path: Path, meter: LocalWindowMeter
) -> None:
    ctx = _context(tmp_path, "diabetes", "progression", "rmse")
    space = load_search_space(REFERENCE_MODELS["linear"])
    search = _run(
        TrialJob("linear/seed=0", "baseline", 0, "search", "linear", space.baseline), ctx, meter
    )
    (closing,) = search  # no epochs: one closing result
    assert closing["trial_status"] == "ok" and 40 < closing["val_rmse"] < 70
    assert closing["wall_s"] > 0 and closing["energy_kwh"] > 0
    reports: list[tuple[dict[str, Any], Path | None]] = []
    job = TrialJob("linear/seed=0", "baseline", 0, "final", "linear", space.baseline)
    run_trial(job, ctx, lambda metrics, model_dir: reports.append((metrics, model_dir)), meter)
    (final, model_dir) = reports[-1]
    assert final["trial_status"] == "ok" and 40 < final["test_rmse"] < 70
    assert final["inference_predictions"] > 0 and final["inference_energy_kwh"] > 0
    assert model_dir is not None
    fitted = pickle.loads((model_dir / MODEL_FILE).read_bytes())
    assert type(fitted).__name__ == "Ridge"


def test_a_failing_reference_model_is_recorded_with_its_reason(
    tmp_path: Path, meter: LocalWindowMeter
) -> None:
    ctx = _context(tmp_path, "diabetes", "progression", "rmse")
    job = TrialJob("linear/seed=0", "tpe", 0, "search", "linear", {"C": -1.0})
    reports: list[dict[str, Any]] = []
    with pytest.raises(Exception):  # noqa: B017 - whatever scikit-learn raises, it is recorded
        run_trial(job, ctx, lambda metrics, model_dir: reports.append(metrics), meter)
    (closing,) = reports
    assert closing["trial_status"] == "failed" and closing["failure_reason"]
    assert closing["wall_s"] > 0  # what it ran is charged


def test_the_constant_predictor_is_scored_by_the_metric(tmp_path: Path) -> None:
    ctx = _context(tmp_path, "breast_cancer", "diagnosis", "roc_auc")
    (score,) = constant_scores(open_table(ctx.table), [0], Path(ctx.cache_dir), "roc_auc")
    assert score.test_metric == score.val_metric == 0.5  # class frequencies rank nothing
    (accuracy,) = constant_scores(open_table(ctx.table), [0], Path(ctx.cache_dir), "accuracy")
    assert 0.55 < accuracy.test_metric < 0.7  # the majority class of breast cancer: 63 %
