"""What the reference models' ``build`` functions share: which problem a task poses, and the
estimator's keyword arguments read from a configuration (its searched keys, and the seed).

A configuration holds the keys the model's ``space`` suggests, plus an optional
``random_state`` the trial seeds it with. The trainer's keys (``lr``, ``batch_size``...) mean
nothing to an estimator and are ignored; any other key is refused, so that a misspelt
hyperparameter is never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from automl_bench.space import TRAINER_KEYS

if TYPE_CHECKING:
    from automl_bench import TaskInfo

PROBLEMS = ("classification", "regression")
SEED_KEY = "random_state"


def is_classification(task: TaskInfo) -> bool:
    """True for a classification task, False for regression; anything else is refused."""
    if task.problem not in PROBLEMS:
        raise ValueError(f"task problem must be one of {PROBLEMS}, got {task.problem!r}")
    return task.problem == "classification"


def estimator_kwargs(config: Mapping[str, Any], searched: Iterable[str]) -> dict[str, Any]:
    """The ``searched`` keys of ``config`` that it holds, plus ``random_state`` when given."""
    allowed = {*searched, SEED_KEY}
    unknown = sorted(set(config) - allowed - set(TRAINER_KEYS))
    if unknown:
        raise ValueError(f"unknown hyperparameters {unknown}: this model takes {sorted(allowed)}")
    return {key: config[key] for key in allowed if key in config}
