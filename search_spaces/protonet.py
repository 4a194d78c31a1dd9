"""Few-shot classification settings (``task: fewshot_mnist1d``, ``fewshot_digits``): the Adam
learning rate, episodes per step, and the pretraining baseline's minibatch. Its baseline is
Snell et al.'s setting scaled to MNIST-1D: Adam lr 1e-3, 4 episodes per step, minibatch 64.

``build`` gives the embedding both methods train (ProtoNets episodically, the baseline jointly
with a linear head): three Conv1d(32, k=5) + ReLU + MaxPool(2) blocks, flattened.

Written only against the public API, exactly as a user writes a search space.
"""

from __future__ import annotations

from typing import Any

import optuna
from torch import nn

from automl_bench import TaskInfo
from automl_bench.meta import make_embedding


def space(trial: optuna.Trial) -> dict[str, Any]:
    trial.suggest_float("lr", 1e-4, 1e-2, log=True)
    trial.suggest_int("meta_batch", 1, 8)
    trial.suggest_categorical("batch_size", [32, 64, 128])
    return {}


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    embedding: nn.Module = make_embedding(task.input_shape[-1] if task.input_shape else 40)
    return embedding  # MNIST-1D: 40 features


baseline: dict[str, Any] = {"lr": 1e-3, "meta_batch": 4, "batch_size": 64}
