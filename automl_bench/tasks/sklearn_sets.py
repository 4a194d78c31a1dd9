"""Data sets that ship inside scikit-learn: nothing to download."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from automl_bench.tasks.base import TaskArrays, TaskInfo


class Digits:
    """scikit-learn's bundled 8x8 digits (1,797 images), scaled to [0, 1], flattened."""

    info = TaskInfo(
        name="digits", input_shape=(64,), num_classes=10, default_trials=20, default_epochs=30
    )

    def arrays(self, cache_dir: Path) -> TaskArrays:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return TaskArrays(x=(bunch.data / 16.0).astype(np.float32), y=bunch.target.astype(np.int64))


class DigitsImage:
    """The same 8x8 digits as images, one channel (1, 8, 8): the offline image task for cell
    spaces (nb201) in tests."""

    info = TaskInfo(
        name="digits_image",
        input_shape=(1, 8, 8),
        num_classes=10,
        default_trials=20,
        default_epochs=30,
    )

    def arrays(self, cache_dir: Path) -> TaskArrays:
        flat = Digits().arrays(cache_dir)
        return TaskArrays(x=flat.x.reshape(-1, 1, 8, 8), y=flat.y)


class _Tabular:
    """A bundled tabular set; features are standardised with the train split's statistics."""

    loader_name: str

    def arrays(self, cache_dir: Path) -> TaskArrays:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, self.loader_name)()
        return TaskArrays(x=bunch.data.astype(np.float32), y=bunch.target.astype(np.int64))


class Wine(_Tabular):
    loader_name = "load_wine"
    info = TaskInfo(
        name="wine",
        input_shape=(13,),
        num_classes=3,
        default_trials=20,
        default_epochs=40,
        standardize=True,
    )


class BreastCancer(_Tabular):
    loader_name = "load_breast_cancer"
    info = TaskInfo(
        name="breast_cancer",
        input_shape=(30,),
        num_classes=2,
        default_trials=20,
        default_epochs=40,
        standardize=True,
    )
