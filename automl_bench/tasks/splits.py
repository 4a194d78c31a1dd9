"""Train / validation / test splits fixed by a seed, the same for every method at that seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from automl_bench.tasks.base import TaskArrays

VAL_FRACTION = 0.2
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Splits:
    x_train: npt.NDArray[np.float32]
    y_train: npt.NDArray[np.int64]
    x_val: npt.NDArray[np.float32]
    y_val: npt.NDArray[np.int64]
    x_test: npt.NDArray[np.float32]
    y_test: npt.NDArray[np.int64]


def make_splits(arrays: TaskArrays, seed: int) -> Splits:
    """Stratified splits from ``seed``.

    A task with its own test set (MNIST-1D) keeps it, so results compare with the published ones;
    only train / validation are drawn. Otherwise a test split is drawn first, then validation.
    The seed alone decides the splits: every method at that seed sees the same data.
    """
    from sklearn.model_selection import train_test_split

    if arrays.x_test is not None and arrays.y_test is not None:
        x_rest, y_rest = arrays.x, arrays.y
        x_test, y_test = arrays.x_test, arrays.y_test
    else:
        x_rest, x_test, y_rest, y_test = train_test_split(
            arrays.x, arrays.y, test_size=TEST_FRACTION, random_state=seed, stratify=arrays.y
        )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=VAL_FRACTION, random_state=seed, stratify=y_rest
    )
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test)


def standardized(splits: Splits) -> Splits:
    """Every split scaled with the train split's per-feature mean and std (no test leakage)."""
    mean = splits.x_train.mean(axis=0)
    std = splits.x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0).astype(np.float32)

    def scale(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return np.asarray((x - mean) / std, dtype=np.float32)

    return Splits(
        scale(splits.x_train),
        splits.y_train,
        scale(splits.x_val),
        splits.y_val,
        scale(splits.x_test),
        splits.y_test,
    )
