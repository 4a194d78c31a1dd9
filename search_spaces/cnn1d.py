"""A 1-D convolutional macro space: depth, channels, kernel sizes, downsampling by stride or
pooling, head, activation, dropout and the optimiser's settings. Its baseline is the CNN of the
MNIST-1D paper (Greydanus 2020): three convolutions of 25 channels (kernels 5, 3, 3, stride 2),
ReLU, a linear layer on the flattened features, Adam at lr 1e-2, batch size 100.

One deviation: every convolution pads kernel // 2 (the paper pads 1 for the 5-wide kernel too);
on MNIST-1D the feature length is the same (5) and so is the parameter count.

Written only against the public API, exactly as a user writes a search space.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
import torch
from torch import nn

from automl_bench import TaskInfo, suggest_training

MAX_CONV = 4
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}


def space(trial: optuna.Trial) -> dict[str, Any]:
    n_conv = trial.suggest_int("n_conv", 1, MAX_CONV)
    for i in range(n_conv):
        trial.suggest_int(f"channels_{i}", 8, 128, log=True)
        trial.suggest_categorical(f"kernel_{i}", [3, 5, 7])
    trial.suggest_categorical("downsample", ["stride", "maxpool", "avgpool"])
    trial.suggest_categorical("head", ["flatten", "global_avg"])
    trial.suggest_categorical("activation", list(ACTIVATIONS))
    trial.suggest_float("dropout", 0.0, 0.5)
    suggest_training(trial)  # lr, weight_decay, batch_size, optimizer
    return {}


class _Net(nn.Module):
    def __init__(self, features: nn.Sequential, head: nn.Sequential, length: int):
        super().__init__()
        self.length = length
        self.features = features
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.features(x.reshape(x.shape[0], 1, self.length)))
        return logits


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    length = math.prod(task.input_shape)
    channels_in, size = 1, length
    features: list[nn.Module] = []
    for i in range(config["n_conv"]):
        channels, kernel = config[f"channels_{i}"], config[f"kernel_{i}"]
        stride = 2 if config["downsample"] == "stride" else 1
        features += [
            nn.Conv1d(channels_in, channels, kernel, stride=stride, padding=kernel // 2),
            ACTIVATIONS[config["activation"]](),
        ]
        size = (size + 2 * (kernel // 2) - kernel) // stride + 1
        if config["downsample"] != "stride":
            pool = nn.MaxPool1d if config["downsample"] == "maxpool" else nn.AvgPool1d
            features.append(pool(2, ceil_mode=True))
            size = math.ceil(size / 2)
        channels_in = channels
    head: list[nn.Module] = []
    if config["head"] == "global_avg":
        head += [nn.AdaptiveAvgPool1d(1), nn.Flatten()]
        width = channels_in
    else:
        head.append(nn.Flatten())
        width = channels_in * size
    head += [nn.Dropout(config["dropout"]), nn.Linear(width, task.num_classes)]
    return _Net(nn.Sequential(*features), nn.Sequential(*head), length)


baseline: dict[str, Any] = {
    "n_conv": 3,
    "channels_0": 25,
    "kernel_0": 5,
    "channels_1": 25,
    "kernel_1": 3,
    "channels_2": 25,
    "kernel_2": 3,
    "downsample": "stride",
    "head": "flatten",
    "activation": "relu",
    "dropout": 0.0,
    "lr": 1e-2,
    "weight_decay": 0.0,
    "batch_size": 100,
    "optimizer": "adam",
}
