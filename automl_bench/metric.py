"""What an experiment is scored by: a metric, its direction and its unit of difference.

Classification tasks are scored by accuracy (higher is better; differences in accuracy points,
x100); the sinusoid regression family by query MSE (lower is better; differences in MSE as is).
Trials report ``val_<name>`` and ``test_<name>``. Everything that compares two methods works on
the *improvement*: ``sign x scale x (method - reference)``, positive when the method is better,
so the ROPE, the break-even and the verdict read the same way for both directions.

Which metric a task is scored by, and which method is its yardstick (``baseline``, the
hand-designed point of the space, or ``pretrain_finetune`` for meta-learning families), is
``automl_bench.scoring``'s to say: this module knows no task.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAXIMIZE, MINIMIZE = "maximize", "minimize"  # Optuna's words; Ray's "max"/"min" at its boundary


@dataclass(frozen=True)
class Metric:
    name: str = "accuracy"
    direction: str = MAXIMIZE
    scale: float = 100.0  # one unit of difference: an accuracy point is 0.01
    unit: str = "points"  # what a difference is counted in, in words
    # the range a value can take, in the metric's own values (an accuracy is a fraction)
    value_bounds: tuple[float, float] = (0.0, 1.0)
    words: str = "accuracy"  # the metric's name in a sentence or an axis label

    @property
    def percent(self) -> bool:
        """Its values are fractions shown in % (differences in points, x100)."""
        return self.scale == 100.0

    @property
    def val_key(self) -> str:
        return f"val_{self.name}"

    @property
    def test_key(self) -> str:
        return f"test_{self.name}"

    @property
    def mode(self) -> str:
        """Ray Tune's word for the direction."""
        return "max" if self.direction == MAXIMIZE else "min"

    @property
    def sign(self) -> float:
        return 1.0 if self.direction == MAXIMIZE else -1.0

    def improvement(self, value: float, reference: float) -> float:
        """How much better ``value`` is than ``reference``, in ``unit`` (positive: better)."""
        return self.sign * self.scale * (value - reference)

    @property
    def difference_bounds(self) -> tuple[float, float]:
        """The range a difference of two values can take: [-1, 1] for accuracies."""
        low, high = self.value_bounds
        return (low - high, high - low)

    @property
    def improvement_bounds(self) -> tuple[float, float]:
        """The range an improvement (in ``unit``) can take: [-100, 100] accuracy points."""
        return (self.scale * self.difference_bounds[0], self.scale * self.difference_bounds[1])

    def better(self, value: float, than: float) -> bool:
        return self.sign * (value - than) > 0

    def best(self, values: list[float]) -> float:
        return max(values) if self.direction == MAXIMIZE else min(values)

    def worst_value(self) -> float:
        """A value every real one beats (the start of a running best)."""
        return -float("inf") if self.direction == MAXIMIZE else float("inf")


ACCURACY = Metric()
MSE = Metric("mse", MINIMIZE, 1.0, "MSE", (0.0, float("inf")), "MSE")
_INF = float("inf")
# A table's metrics (``task: table``): fractions in points (x100), errors in the target's units
BALANCED_ACCURACY = Metric(
    "balanced_accuracy", MAXIMIZE, 100.0, "points", (0.0, 1.0), "balanced accuracy"
)
ROC_AUC = Metric("roc_auc", MAXIMIZE, 100.0, "AUC points", (0.0, 1.0), "ROC AUC")
LOG_LOSS = Metric("log_loss", MINIMIZE, 1.0, "log loss", (0.0, _INF), "log loss")
RMSE = Metric("rmse", MINIMIZE, 1.0, "RMSE", (0.0, _INF), "RMSE")  # in the target's units
MAE = Metric("mae", MINIMIZE, 1.0, "MAE", (0.0, _INF), "MAE")
R2 = Metric("r2", MAXIMIZE, 100.0, "R² points", (-_INF, 1.0), "R²")
KNOWN: dict[str, Metric] = {
    m.name: m for m in (ACCURACY, MSE, BALANCED_ACCURACY, ROC_AUC, LOG_LOSS, RMSE, MAE, R2)
}
# what a table's ``metric:`` may be, by problem; the first is the default
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "roc_auc", "log_loss")
REGRESSION_METRICS = ("rmse", "mae", "r2")


def infer_metric(results: Iterable[Mapping[str, Any]]) -> Metric | None:
    """The metric trial results report: the first known one whose val_ or test_ key appears
    (None: none does)."""
    for result in results:
        for metric in KNOWN.values():
            if metric.val_key in result or metric.test_key in result:
                return metric
    return None


BASELINE = "baseline"
PRETRAIN_FINETUNE = "pretrain_finetune"
