"""What a task is: data, splits and default budget (its metric: ``automl_bench.metric``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from pathlib import Path

    import torch


@dataclass(frozen=True)
class TaskInfo:
    """What a search space's ``build`` may rely on about a task."""

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    default_trials: int = 20
    default_epochs: int = 20
    standardize: bool = False  # scale features with the train split's mean and std
    # "classification" (num_classes logits, cross-entropy) or "regression" (num_classes is 1:
    # one output, trained on the standardised target)
    problem: str = "classification"


@dataclass(frozen=True)
class TaskArrays:
    """A task's raw arrays. ``x_test`` is None when the test split is drawn from ``x`` by seed."""

    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.int64]  # class indices; float32 targets for a regression task
    x_test: npt.NDArray[np.float32] | None = None
    y_test: npt.NDArray[np.int64] | None = None


@dataclass(frozen=True)
class TaskData:
    """One seed's splits as tensors resident on the training device."""

    info: TaskInfo
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


class Task(Protocol):
    """A built-in task: its description and how to make (or read from cache) its arrays."""

    info: TaskInfo

    def arrays(self, cache_dir: Path) -> TaskArrays: ...
