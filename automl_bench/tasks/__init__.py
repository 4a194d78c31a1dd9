"""The built-in tasks, all offline: generated, or shipped inside a package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from automl_bench.tasks.base import Task, TaskArrays, TaskData, TaskInfo
from automl_bench.tasks.mnist1d import Mnist1d
from automl_bench.tasks.sklearn_sets import BreastCancer, Digits, DigitsImage, Wine
from automl_bench.tasks.splits import Splits, make_splits, standardized

if TYPE_CHECKING:
    import torch

TASKS: dict[str, Task] = {
    t.info.name: t for t in (Mnist1d(), Digits(), DigitsImage(), Wine(), BreastCancer())
}


def get_task(name: str) -> Task:
    return TASKS[name]


def load_task(
    name: str, seed: int, cache_dir: Path, device: torch.device | str = "cpu"
) -> TaskData:
    """The splits of ``name`` at ``seed`` as tensors on ``device`` (moved once, not per batch)."""
    import torch

    task = TASKS[name]
    splits = make_splits(task.arrays(cache_dir), seed)
    if task.info.standardize:
        splits = standardized(splits)

    def put(a: object, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(a, dtype=dtype).to(device)

    return TaskData(
        info=task.info,
        x_train=put(splits.x_train, torch.float32),
        y_train=put(splits.y_train, torch.int64),
        x_val=put(splits.x_val, torch.float32),
        y_val=put(splits.y_val, torch.int64),
        x_test=put(splits.x_test, torch.float32),
        y_test=put(splits.y_test, torch.int64),
    )


__all__ = [
    "TASKS",
    "Splits",
    "Task",
    "TaskArrays",
    "TaskData",
    "TaskInfo",
    "get_task",
    "load_task",
    "make_splits",
]
