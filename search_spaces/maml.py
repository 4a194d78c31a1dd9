"""The meta-learner's settings on the sinusoid family: a search space like any other.

What a search (``tpe``, ``random`` on ``task: sinusoid``) tunes: the inner loop's learning rate
and steps, the meta-batch, the outer (Adam) learning rate, and first or second order. Its
baseline is the MAML paper's setting (Finn et al. 2017, appendix: inner lr 0.01, one inner step,
meta-batch 25, Adam lr 1e-3, second order); the methods ``maml``, ``fomaml``, ``reptile``,
``anil`` and ``pretrain_finetune`` each train it with their own choices over it.

``build`` gives the network every method adapts: the paper's MLP 1 -> 40 -> 40 -> 1, ReLU.

Written only against the public API, exactly as a user writes a search space.
"""

from __future__ import annotations

from typing import Any

import optuna
from torch import nn

from automl_bench import TaskInfo

HIDDEN = 40


def space(trial: optuna.Trial) -> dict[str, Any]:
    trial.suggest_float("inner_lr", 1e-3, 0.1, log=True)
    trial.suggest_int("inner_steps", 1, 5)
    trial.suggest_categorical("meta_batch", [5, 10, 25])
    trial.suggest_float("outer_lr", 1e-4, 1e-2, log=True)
    trial.suggest_categorical("first_order", [False, True])
    return {}


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    return nn.Sequential(
        nn.Linear(1, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1)
    )


baseline: dict[str, Any] = {
    "inner_lr": 0.01,
    "inner_steps": 1,
    "meta_batch": 25,
    "outer_lr": 1e-3,
    "first_order": False,
}
