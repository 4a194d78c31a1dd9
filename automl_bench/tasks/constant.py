"""The constant predictor: the same answer for every example, learnt from the training split.

It is the zero of normalised scores (the hand-designed baseline is one) and a reference row of
every experiment: the score any model must beat to have learnt anything. scikit-learn's
DummyClassifier (``prior``: the training split's class frequencies; its answer is the most
frequent class) or DummyRegressor (``mean``) on each seed's splits, the same splits every
method sees at that seed, scored by the experiment's metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_bench.metric_values import metric_value
from automl_bench.tasks.base import Task

CONSTANT = "constant"


@dataclass(frozen=True)
class ConstantScore:
    seed: int
    val_metric: float
    test_metric: float
    predicts: int | float  # the class it always answers, or the value


def constant_scores(
    task: Task, seeds: list[int], cache_dir: Path, metric: str = "accuracy"
) -> list[ConstantScore]:
    from automl_bench.tasks import task_splits

    regression = task.info.problem == "regression"
    out = []
    for seed in seeds:
        splits = task_splits(task, seed, cache_dir)
        model = _constant(regression).fit(splits.x_train, splits.y_train)
        answer = model.predict(splits.x_test[:1])[0]
        out.append(
            ConstantScore(
                seed,
                _score(model, splits.x_val, splits.y_val, metric, task),
                _score(model, splits.x_test, splits.y_test, metric, task),
                float(answer) if regression else int(answer),
            )
        )
    return out


def _constant(regression: bool) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyRegressor(strategy="mean") if regression else DummyClassifier(strategy="prior")


def _score(model: Any, x: Any, y: Any, metric: str, task: Task) -> float:
    if task.info.problem == "regression":
        return metric_value(metric, y, np.asarray(model.predict(x), dtype=np.float64))
    proba = model.predict_proba(x)
    full = np.zeros((len(x), max(task.info.num_classes, proba.shape[1])))
    full[:, np.asarray(model.classes_, dtype=np.int64)] = proba
    return metric_value(metric, y, full)
