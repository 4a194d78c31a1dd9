"""The reference models' search-space files: each loads and passes the contract's checks, its
baseline is scikit-learn's default model, it builds a classifier or a regressor by the task's
problem, and a configuration a TPE search samples builds a model that fits."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest
from sklearn.base import is_classifier, is_regressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits

from automl_bench.reference_models import REFERENCE_MODELS, is_estimator
from automl_bench.space import SearchSpace, load_search_space, sample_config
from automl_bench.tasks.base import TaskInfo

CLASSIFICATION = TaskInfo("table", (6,), 3, problem="classification")
REGRESSION = TaskInfo("table", (6,), 1, problem="regression")

# name -> (scikit-learn's default classifier, its default regressor)
DEFAULTS: dict[str, tuple[Any, Any]] = {
    "hist_gradient_boosting": (HistGradientBoostingClassifier(), HistGradientBoostingRegressor()),
    "random_forest": (RandomForestClassifier(), RandomForestRegressor()),
    "linear": (LogisticRegression(), Ridge()),
}
NOT_HYPERPARAMETERS = {"n_jobs"}  # ours hold one thread: the trial's share is threadpoolctl's


def _space(name: str) -> SearchSpace:
    return load_search_space(REFERENCE_MODELS[name])  # runs the baseline_in_space check


def _data(rng: np.random.Generator, problem: str) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(120, 6)).astype(np.float32)
    if problem == "classification":
        return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    return x, (x[:, 0] * 2 + x[:, 1]).astype(np.float32)


def test_the_reference_models_are_the_issue_s_names() -> None:
    assert list(REFERENCE_MODELS) == ["hist_gradient_boosting", "random_forest", "linear"]
    assert all(path.is_file() for path in REFERENCE_MODELS.values())


@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
@pytest.mark.parametrize("task", [CLASSIFICATION, REGRESSION], ids=lambda t: t.problem)
def test_the_baseline_is_scikit_learns_default_model(name: str, task: TaskInfo) -> None:
    space = _space(name)
    built = space.build(dict(space.baseline), task)
    default = DEFAULTS[name][task.problem == "regression"]
    assert type(built) is type(default)
    assert is_estimator(built)
    ours, theirs = built.get_params(), default.get_params()
    assert ours.keys() == theirs.keys()
    differ = {k for k in ours if ours[k] != theirs[k]} - NOT_HYPERPARAMETERS
    assert not differ, {k: (ours[k], theirs[k]) for k in differ}
    assert space.defaults == space.baseline  # the untuned model is that default model too


@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_build_gives_a_classifier_or_a_regressor_by_the_problem(name: str) -> None:
    space = _space(name)
    assert is_classifier(space.build(dict(space.baseline), CLASSIFICATION))
    assert is_regressor(space.build(dict(space.baseline), REGRESSION))
    with pytest.raises(ValueError, match="problem"):
        space.build(dict(space.baseline), TaskInfo("table", (6,), 3, problem="ranking"))


@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_the_seed_is_passed_and_a_misspelt_key_refused(name: str) -> None:
    space = _space(name)
    seeded = space.build({**space.baseline, "random_state": 7}, CLASSIFICATION)
    assert seeded.get_params()["random_state"] == 7
    space.build({**space.baseline, "lr": 1e-3, "batch_size": 128}, CLASSIFICATION)  # ignored
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        space.build({**space.baseline, "learning_rat": 0.1}, CLASSIFICATION)


def test_the_searched_keys_reach_the_estimator() -> None:
    hgb = _space("hist_gradient_boosting").build({"learning_rate": 0.05}, REGRESSION)
    assert hgb.learning_rate == 0.05
    forest = _space("random_forest")
    assert forest.build({"max_features": "log2"}, REGRESSION).max_features == "log2"
    assert forest.build({"max_features": "default"}, CLASSIFICATION).max_features == "sqrt"
    assert forest.build({"max_features": "default"}, REGRESSION).max_features == 1.0
    linear = _space("linear")
    assert linear.build({"C": 4.0}, CLASSIFICATION).C == 4.0
    assert linear.build({"C": 4.0}, REGRESSION).alpha == 0.25  # ridge's alpha is 1 / C


@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
@pytest.mark.parametrize("task", [CLASSIFICATION, REGRESSION], ids=lambda t: t.problem)
def test_a_tpe_sampled_configuration_builds_and_fits(name: str, task: TaskInfo) -> None:
    space = _space(name)
    rng = np.random.default_rng(0)
    x, y = _data(rng, task.problem)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=2))
    for _ in range(3):  # two random start-up trials, then one TPE proposes
        trial = study.ask()
        config = sample_config(space.space, trial)
        with threadpool_limits(limits=1):  # as a trial fits it: one thread
            model = space.build({**config, "random_state": 0}, task).fit(x, y)
        study.tell(trial, float(np.mean(model.predict(x) != y)))
    assert set(config) <= set(space.baseline)
