"""Histogram-based gradient boosting: scikit-learn's HistGradientBoostingClassifier or
HistGradientBoostingRegressor, the gradient-boosted trees a practitioner ships without search.

``baseline`` is scikit-learn's defaults for the searched keys, so the untuned model is
scikit-learn's own default model. ``space`` covers the hyperparameters scikit-learn's user guide
names for tuning it: the learning rate and number of iterations, the trees' size
(``max_leaf_nodes``, ``min_samples_leaf``), L2 regularisation of the leaf values, and feature
subsampling per split (``max_features``).

Sources (scikit-learn 1.9):
https://scikit-learn.org/stable/modules/ensemble.html#histogram-based-gradient-boosting
https://scikit-learn.org/stable/modules/generated/sklearn.ensemble.HistGradientBoostingClassifier.html
https://scikit-learn.org/stable/modules/generated/sklearn.ensemble.HistGradientBoostingRegressor.html
"""

from __future__ import annotations

from typing import Any

import optuna

from automl_bench import TaskInfo
from automl_bench.reference_models.common import estimator_kwargs, is_classification

L2_CHOICES = (0.0, 1e-3, 1e-2, 1e-1, 1.0, 10.0)  # 0 (the default) has no log scale: a choice

baseline: dict[str, Any] = {  # scikit-learn's defaults
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 20,
    "l2_regularization": 0.0,
    "max_features": 1.0,
}


def space(trial: optuna.Trial) -> dict[str, Any]:
    """The usual hyperparameters, each range around scikit-learn's default."""
    trial.suggest_float("learning_rate", 0.01, 1.0, log=True)
    trial.suggest_int("max_iter", 25, 500, log=True)
    trial.suggest_int("max_leaf_nodes", 8, 128, log=True)
    trial.suggest_int("min_samples_leaf", 1, 200, log=True)
    trial.suggest_categorical("l2_regularization", list(L2_CHOICES))
    trial.suggest_float("max_features", 0.2, 1.0)
    return {}


def build(config: dict[str, Any], task: TaskInfo) -> Any:
    """An unfitted HistGradientBoostingClassifier or HistGradientBoostingRegressor, by
    ``task.problem``; ``config`` may also hold ``random_state``."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kwargs = estimator_kwargs(config, baseline)
    if is_classification(task):
        return HistGradientBoostingClassifier(**kwargs)
    return HistGradientBoostingRegressor(**kwargs)
