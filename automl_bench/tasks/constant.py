"""The constant predictor: the training split's most frequent class, always.

It is the zero of normalised scores (the hand-designed baseline is one) and a reference row of
every experiment: the accuracy any model must beat to have learnt anything. scikit-learn's
DummyClassifier on each seed's splits, the same splits every method sees at that seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from automl_bench.tasks.base import Task
from automl_bench.tasks.splits import make_splits

CONSTANT = "constant"


@dataclass(frozen=True)
class ConstantScore:
    seed: int
    val_metric: float
    test_metric: float
    predicts: int  # the class it always answers


def constant_scores(task: Task, seeds: list[int], cache_dir: Path) -> list[ConstantScore]:
    from sklearn.dummy import DummyClassifier

    arrays = task.arrays(cache_dir)
    out = []
    for seed in seeds:
        splits = make_splits(arrays, seed)
        model = DummyClassifier(strategy="most_frequent").fit(splits.x_train, splits.y_train)
        out.append(
            ConstantScore(
                seed,
                float(model.score(splits.x_val, splits.y_val)),
                float(model.score(splits.x_test, splits.y_test)),
                int(model.predict(splits.x_test[:1])[0]),
            )
        )
    return out
