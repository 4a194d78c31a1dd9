"""The built-in tasks, all offline: generated, or shipped inside a package; image tasks read
from a user's folder (``cifar10``, ``image_folder``: see ``tasks.folders``); and a user's own
table (``table``: see ``automl_bench.tasks.table``)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from automl_bench.tasks.base import Task, TaskArrays, TaskData, TaskInfo
from automl_bench.tasks.folders import FOLDER_TASKS  # image tasks read from a folder (data_dir)
from automl_bench.tasks.mnist1d import Mnist1d
from automl_bench.tasks.sklearn_sets import BreastCancer, Digits, DigitsImage, Wine
from automl_bench.tasks.splits import Splits, make_splits, standardized

if TYPE_CHECKING:
    import torch

    from automl_bench.tasks.table.spec import TableSpec

TABLE = "table"  # a user's CSV or Parquet file (config ``table:``)

TASKS: dict[str, Task] = {
    t.info.name: t for t in (Mnist1d(), Digits(), DigitsImage(), Wine(), BreastCancer())
}


def get_task(name: str, data_dir: str | Path | None = None, table: TableSpec | None = None) -> Task:
    """A built-in task, an image task read from ``data_dir`` (``cifar10``, ``image_folder``), or
    the table ``table`` describes."""
    if name in TASKS:
        return TASKS[name]
    if name == TABLE:
        if table is None:
            raise ValueError("task 'table' reads a file: give its table spec")
        from automl_bench.tasks.table.task import open_table

        found: Task = open_table(table)
        return found
    if data_dir is None:
        raise ValueError(f"task {name!r} reads a folder: give its data_dir")
    return _folder_task(name, str(Path(data_dir).resolve()))


@functools.lru_cache(maxsize=8)
def _folder_task(name: str, data_dir: str) -> Task:
    from automl_bench.tasks.folders import open_folder_task

    return open_folder_task(name, data_dir)


def task_splits(task: Task, seed: int, cache_dir: Path) -> Splits:
    """The splits of ``task`` at ``seed``: a table's own (split and transformed, see
    ``automl_bench.tasks.table``), else drawn from its arrays (standardised where it says so)."""
    own = getattr(task, "splits", None)
    if own is not None:
        return own(seed, cache_dir)  # type: ignore[no-any-return]
    splits = make_splits(task.arrays(cache_dir), seed)
    return standardized(splits) if task.info.standardize else splits


def load_task(
    name: str,
    seed: int,
    cache_dir: Path,
    device: torch.device | str = "cpu",
    data_dir: str | Path | None = None,
    table: TableSpec | None = None,
) -> TaskData:
    """The splits of ``name`` at ``seed`` as tensors on ``device`` (moved once, not per batch)."""
    import torch

    task = get_task(name, data_dir, table)
    splits = task_splits(task, seed, cache_dir)
    target = torch.float32 if task.info.problem == "regression" else torch.int64

    def put(a: object, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(a, dtype=dtype).to(device)

    return TaskData(
        info=task.info,
        x_train=put(splits.x_train, torch.float32),
        y_train=put(splits.y_train, target),
        x_val=put(splits.x_val, torch.float32),
        y_val=put(splits.y_val, target),
        x_test=put(splits.x_test, torch.float32),
        y_test=put(splits.y_test, target),
    )


__all__ = [
    "FOLDER_TASKS",
    "TABLE",
    "TASKS",
    "Splits",
    "Task",
    "TaskArrays",
    "TaskData",
    "TaskInfo",
    "get_task",
    "load_task",
    "make_splits",
    "task_splits",
]
