"""The small trial of the GPU packing measurement: a 32-wide CNN for 32x32 RGB images.

Three 3x3 convolutions of 32 channels (BN, ReLU; 2x2 max pooling after the first two), global
average pooling and a linear layer: 20 k parameters, the size of trial that leaves a big GPU mostly
idle when it runs alone (64 k images/s for one such process on an H200, 2026-11-27: see
docs/measured-figures.md, "On the GPU").
Only the optimiser's learning rate and the batch size are searched, so that every trial does about
the same work and the packing alone changes between levels.
"""

from __future__ import annotations

from typing import Any

import optuna
from torch import nn

from automl_bench import TaskInfo

WIDTH = 32


def space(trial: optuna.Trial) -> dict[str, Any]:
    trial.suggest_float("lr", 1e-3, 1e-2, log=True)
    trial.suggest_categorical("batch_size", [256, 512])
    return {"optimizer": "adam", "weight_decay": 0.0}


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    channels = task.input_shape[0]
    layers: list[nn.Module] = []
    for i in range(3):
        layers += [
            nn.Conv2d(channels if i == 0 else WIDTH, WIDTH, 3, padding=1, bias=False),
            nn.BatchNorm2d(WIDTH),
            nn.ReLU(),
        ]
        if i < 2:
            layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(WIDTH, task.num_classes)]
    return nn.Sequential(*layers)


baseline: dict[str, Any] = {"lr": 3e-3, "batch_size": 256, "optimizer": "adam", "weight_decay": 0.0}
