"""A metric's value from predictions: the one place every model's score is computed.

Nets and scikit-learn estimators alike hand over their predictions as NumPy arrays: class
probabilities ``(n, K)`` for classification, values ``(n,)`` in the target's units for
regression. The values are scikit-learn's (``sklearn.metrics``): ``roc_auc`` is the binary AUC
for two classes and the macro one-vs-rest AUC above; ``log_loss`` is over all K classes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def metric_value(
    name: str, y_true: npt.NDArray[np.generic], predicted: npt.NDArray[np.floating]
) -> float:
    """The value of metric ``name`` for ``predicted`` (probabilities or values) against
    ``y_true`` (class indices 0..K-1, or targets)."""
    from sklearn import metrics

    if predicted.ndim == 2:  # classification: (n, K) probabilities
        labels = np.arange(predicted.shape[1])
        if name == "roc_auc":
            if predicted.shape[1] == 2:
                return float(metrics.roc_auc_score(y_true, predicted[:, 1]))
            return float(
                metrics.roc_auc_score(
                    y_true, predicted, multi_class="ovr", average="macro", labels=labels
                )
            )
        if name == "log_loss":
            return float(metrics.log_loss(y_true, predicted, labels=labels))
        chosen = predicted.argmax(axis=1)
        if name == "balanced_accuracy":
            return float(metrics.balanced_accuracy_score(y_true, chosen))
        if name == "accuracy":
            return float(np.mean(chosen == y_true))
        raise ValueError(f"{name!r} is not a classification metric")
    if name == "rmse":
        return float(metrics.root_mean_squared_error(y_true, predicted))
    if name == "mae":
        return float(metrics.mean_absolute_error(y_true, predicted))
    if name == "r2":
        return float(metrics.r2_score(y_true, predicted))
    if name == "mse":
        return float(metrics.mean_squared_error(y_true, predicted))
    raise ValueError(f"{name!r} is not a regression metric")
