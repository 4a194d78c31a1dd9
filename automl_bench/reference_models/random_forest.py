"""Random forest: scikit-learn's RandomForestClassifier or RandomForestRegressor.

``baseline`` is scikit-learn's defaults for the searched keys, so the untuned model is
scikit-learn's own default model. Its default ``max_features`` depends on the problem (the
square root of the number of features for a classifier, all of them for a regressor), so the
space spells it ``"default"``: ``build`` turns that into the problem's own default. ``space``
covers what scikit-learn's user guide names as the main parameters to adjust (the number of
trees and the features considered per split) and the trees' size (``max_depth``, ``None``
included, and ``min_samples_leaf``). ``n_jobs`` is 1: the trial's CPU share is enforced by
threadpoolctl, not by joblib.

Sources (scikit-learn 1.9):
https://scikit-learn.org/stable/modules/ensemble.html#random-forests
https://scikit-learn.org/stable/modules/generated/sklearn.ensemble.RandomForestClassifier.html
https://scikit-learn.org/stable/modules/generated/sklearn.ensemble.RandomForestRegressor.html
"""

from __future__ import annotations

from typing import Any

import optuna

from automl_bench import TaskInfo
from automl_bench.reference_models.common import estimator_kwargs, is_classification

DEFAULT = "default"  # max_features: scikit-learn's default for the problem
MAX_FEATURES_CHOICES = (DEFAULT, "sqrt", "log2", 0.33, 0.5, 1.0)
MAX_DEPTH_CHOICES = (None, 4, 8, 16, 32)  # None: grown until the leaves are pure
CLASSIFIER_MAX_FEATURES = "sqrt"
REGRESSOR_MAX_FEATURES = 1.0

baseline: dict[str, Any] = {  # scikit-learn's defaults
    "n_estimators": 100,
    "max_depth": None,
    "min_samples_leaf": 1,
    "max_features": DEFAULT,
}


def space(trial: optuna.Trial) -> dict[str, Any]:
    """The usual hyperparameters, each range around scikit-learn's default."""
    trial.suggest_int("n_estimators", 25, 400, log=True)
    trial.suggest_categorical("max_depth", list(MAX_DEPTH_CHOICES))
    trial.suggest_int("min_samples_leaf", 1, 50, log=True)
    trial.suggest_categorical("max_features", list(MAX_FEATURES_CHOICES))
    return {}


def build(config: dict[str, Any], task: TaskInfo) -> Any:
    """An unfitted RandomForestClassifier or RandomForestRegressor, by ``task.problem``;
    ``config`` may also hold ``random_state``."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    kwargs = estimator_kwargs(config, baseline)
    classify = is_classification(task)
    if kwargs.get("max_features", DEFAULT) == DEFAULT:
        kwargs["max_features"] = CLASSIFIER_MAX_FEATURES if classify else REGRESSOR_MAX_FEATURES
    if classify:
        return RandomForestClassifier(n_jobs=1, **kwargs)
    return RandomForestRegressor(n_jobs=1, **kwargs)
