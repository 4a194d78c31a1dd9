"""A multilayer-perceptron space: depth, widths, activation, dropout, residual connections and
the optimiser's settings. Its baseline is the MLP of the MNIST-1D paper (Greydanus 2020):
two hidden layers of 100 ReLU units, the second with a residual connection, Adam at lr 1e-2,
batch size 100.

Written only against the public API, exactly as a user writes a search space.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
import torch
from torch import nn

from automl_bench import TaskInfo, suggest_training

MAX_LAYERS = 4
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}


def space(trial: optuna.Trial) -> dict[str, Any]:
    n_layers = trial.suggest_int("n_layers", 1, MAX_LAYERS)
    for i in range(n_layers):
        trial.suggest_int(f"width_{i}", 16, 512, log=True)
    trial.suggest_categorical("activation", list(ACTIVATIONS))
    trial.suggest_categorical("residual", [False, True])
    trial.suggest_float("dropout", 0.0, 0.5)
    suggest_training(trial)  # lr, weight_decay, batch_size, optimizer
    return {}


class _Block(nn.Module):
    def __init__(
        self, width_in: int, width_out: int, activation: str, dropout: float, residual: bool
    ):
        super().__init__()
        self.linear = nn.Linear(width_in, width_out)
        self.activation = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout)
        self.residual = residual and width_in == width_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h: torch.Tensor = self.dropout(self.activation(self.linear(x)))
        return x + h if self.residual else h


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    width = math.prod(task.input_shape)
    layers: list[nn.Module] = [nn.Flatten()]
    for i in range(config["n_layers"]):
        out = config[f"width_{i}"]
        layers.append(
            _Block(width, out, config["activation"], config["dropout"], config["residual"])
        )
        width = out
    layers.append(nn.Linear(width, task.num_classes))
    return nn.Sequential(*layers)


baseline: dict[str, Any] = {
    "n_layers": 2,
    "width_0": 100,
    "width_1": 100,
    "activation": "relu",
    "residual": True,  # the paper's MLP adds the second layer's output to its input
    "dropout": 0.0,
    "lr": 1e-2,
    "weight_decay": 0.0,
    "batch_size": 100,
    "optimizer": "adam",
}
