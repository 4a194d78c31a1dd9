"""A linear model: scikit-learn's LogisticRegression for classification, Ridge for regression.

Both are L2-regularised; the space searches the regularisation strength as logistic
regression's ``C`` (the inverse strength), log-uniform, and ridge takes ``alpha = 1 / C``.
``baseline`` is ``C = 1``: scikit-learn's defaults for both (``C=1.0``, ``alpha=1.0``), so the
untuned model is scikit-learn's own default model.

Sources (scikit-learn 1.9):
https://scikit-learn.org/stable/modules/linear_model.html#logistic-regression
https://scikit-learn.org/stable/modules/linear_model.html#ridge-regression-and-classification
https://scikit-learn.org/stable/modules/generated/sklearn.linear_model.LogisticRegression.html
https://scikit-learn.org/stable/modules/generated/sklearn.linear_model.Ridge.html
"""

from __future__ import annotations

from typing import Any

import optuna

from automl_bench import TaskInfo
from automl_bench.reference_models.common import estimator_kwargs, is_classification

C_RANGE = (1e-4, 1e4)  # log-uniform

baseline: dict[str, Any] = {"C": 1.0}  # scikit-learn's defaults: C=1.0 and alpha=1.0


def space(trial: optuna.Trial) -> dict[str, Any]:
    """The inverse regularisation strength, log-uniform over eight decades."""
    trial.suggest_float("C", *C_RANGE, log=True)
    return {}


def build(config: dict[str, Any], task: TaskInfo) -> Any:
    """An unfitted LogisticRegression (``C``) or Ridge (``alpha = 1 / C``), by
    ``task.problem``; ``config`` may also hold ``random_state``."""
    from sklearn.linear_model import LogisticRegression, Ridge

    kwargs = estimator_kwargs(config, baseline)
    if is_classification(task):
        return LogisticRegression(**kwargs)
    c = kwargs.pop("C", baseline["C"])
    return Ridge(alpha=1.0 / c, **kwargs)
