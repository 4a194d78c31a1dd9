"""Which metric scores a task, and which method is its yardstick.

A meta-learning family (``tasks/families.py``) is scored by its own metric and compared with
``pretrain_finetune``, every meta-learning paper's yardstick (pretrain on all the training tasks,
fine-tune on the new task's support set); every other task by accuracy against ``baseline``, the
hand-designed point of the space. It sits above both ``metric`` and ``tasks.families``, so that
neither imports the other's way back.
"""

from __future__ import annotations

from automl_bench.metric import ACCURACY, BASELINE, PRETRAIN_FINETUNE, Metric
from automl_bench.tasks.families import META_FAMILIES


def task_metric(task: str) -> Metric:
    """The metric of a task by name: a meta-learning family's own, accuracy otherwise."""
    family = META_FAMILIES.get(task)
    return family.metric if family is not None else ACCURACY


def reference_method(task: str) -> str:
    """The method every other method of an experiment on ``task`` is compared with."""
    return PRETRAIN_FINETUNE if task in META_FAMILIES else BASELINE
