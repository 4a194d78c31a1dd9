"""A metric's value from predictions equals scikit-learn's, for nets and estimators alike."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from automl_bench.metric import CLASSIFICATION_METRICS, KNOWN, REGRESSION_METRICS
from automl_bench.metric_values import metric_value

RNG = np.random.default_rng(0)


def _probabilities(n: int, k: int) -> np.ndarray:
    raw = RNG.random((n, k))
    return raw / raw.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("k", [2, 4])
def test_classification_metrics_are_scikit_learns(k: int) -> None:
    y = np.arange(60) % k
    proba = _probabilities(60, k)
    chosen = proba.argmax(axis=1)
    assert metric_value("accuracy", y, proba) == pytest.approx(metrics.accuracy_score(y, chosen))
    assert metric_value("balanced_accuracy", y, proba) == pytest.approx(
        metrics.balanced_accuracy_score(y, chosen)
    )
    assert metric_value("log_loss", y, proba) == pytest.approx(metrics.log_loss(y, proba))
    expected_auc = (
        metrics.roc_auc_score(y, proba[:, 1])
        if k == 2
        else metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    )
    assert metric_value("roc_auc", y, proba) == pytest.approx(expected_auc)


def test_regression_metrics_are_scikit_learns() -> None:
    y = RNG.normal(100, 20, 50)
    predicted = y + RNG.normal(0, 5, 50)
    assert metric_value("rmse", y, predicted) == pytest.approx(
        np.sqrt(np.mean((y - predicted) ** 2))
    )
    assert metric_value("mae", y, predicted) == pytest.approx(np.mean(np.abs(y - predicted)))
    assert metric_value("r2", y, predicted) == pytest.approx(metrics.r2_score(y, predicted))


def test_a_perfect_and_a_constant_prediction() -> None:
    y = np.array([0, 1, 1, 0])
    perfect = np.eye(2)[y]
    assert metric_value("roc_auc", y, perfect) == 1.0
    assert metric_value("roc_auc", y, np.full((4, 2), 0.5)) == 0.5  # the constant's AUC


def test_a_metric_of_the_other_problem_is_refused() -> None:
    with pytest.raises(ValueError, match="not a classification metric"):
        metric_value("rmse", np.array([0, 1]), np.eye(2))
    with pytest.raises(ValueError, match="not a regression metric"):
        metric_value("accuracy", np.array([1.0, 2.0]), np.array([1.0, 2.0]))


def test_every_table_metric_is_known_with_its_direction() -> None:
    for name in CLASSIFICATION_METRICS + REGRESSION_METRICS:
        assert name in KNOWN
    assert KNOWN["rmse"].direction == KNOWN["log_loss"].direction == "minimize"
    assert KNOWN["roc_auc"].direction == KNOWN["r2"].direction == "maximize"
    assert KNOWN["roc_auc"].percent and not KNOWN["rmse"].percent
