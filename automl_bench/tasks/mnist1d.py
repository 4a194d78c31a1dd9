"""MNIST-1D (Greydanus 2020), made by its own generator with its default arguments.

Never downloaded.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import numpy as np

from automl_bench.tasks.base import TaskArrays, TaskInfo

CACHE_NAME = "mnist1d-default.npz"


class Mnist1d:
    info = TaskInfo(
        name="mnist1d",
        input_shape=(40,),
        num_classes=10,
        default_trials=20,
        default_epochs=60,
    )

    def arrays(self, cache_dir: Path) -> TaskArrays:
        path = cache_dir / CACHE_NAME
        if not path.exists():
            _generate(path)
        with np.load(path) as f:
            return TaskArrays(
                x=f["x"].astype(np.float32),
                y=f["y"].astype(np.int64),
                x_test=f["x_test"].astype(np.float32),
                y_test=f["y_test"].astype(np.int64),
            )


def _generate(path: Path) -> None:
    """4,000 train / 1,000 test, length 40: ``make_dataset(get_dataset_args())``.

    Not ``get_dataset``, which downloads. The generator reseeds the global NumPy and ``random``
    states; they are restored afterwards. The file is written atomically, so concurrent workers
    that generate at once cannot read half a file.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    with open(tmp, "wb") as out:
        np.savez(out, x=data["x"], y=data["y"], x_test=data["x_test"], y_test=data["y_test"])
    os.replace(tmp, path)
