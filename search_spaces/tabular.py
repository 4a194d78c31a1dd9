"""An MLP / ResNet space for tables (``task: table``): the two baselines of "Revisiting Deep
Learning Models for Tabular Data" (Gorishniy, Rubachev, Khrulkov, Babenko, NeurIPS 2021,
arXiv:2106.11959), over the hyperparameters the paper tunes for them, plus normalisation.

The input is ``task.input_shape == (n_features,)``: a table's rows, already one-hot encoded and
scaled. The output is ``task.num_classes`` logits for a classification table and one prediction
for a regression table (``task.problem == "regression"``, ``task.num_classes == 1``), so
``build`` needs no branch on the problem.

``architecture`` chooses the network:

``mlp`` (the paper's MLP)
    ``n_layers`` blocks Linear -> [Norm] -> ReLU -> Dropout, then a Linear head. Layer sizes as
    the paper's tuner draws them: ``d_first`` for the first layer, ``d_last`` for the last (from
    two layers on) and one ``d_middle`` shared by the layers between (from three layers on).
    ``dropout`` only where ``use_dropout`` (the paper's "{0, Uniform[0, 0.5]}").
``resnet`` (the paper's ResNet)
    a Linear to width ``d``, ``n_blocks`` residual blocks
    ``x + Dropout_r(Linear(Dropout_h(ReLU(Linear(Norm(x))))))`` whose inner width is
    ``int(d * d_hidden_factor)``, then Norm -> ReLU -> Linear head. ``hidden_dropout`` is
    always drawn, ``residual_dropout`` only where ``use_residual_dropout``.

``normalization`` (``none``, ``batchnorm``, ``layernorm``) is drawn for both. The paper's ResNet
uses BatchNorm (its code offers LayerNorm too) and its MLP none; the MLP's choice here is this
space's addition. A BatchNorm layer that meets a training batch of one row (the trainer's last
batch when the training split is one more than a multiple of the batch size) normalises it with
its running statistics instead of failing.

The trainer's keys: ``lr`` log-uniform on [1e-5, 1e-2] and ``weight_decay`` log-uniform on
[1e-6, 1e-3] where ``use_weight_decay`` (else absent, so the trainer's 0), as the paper tunes
them; ``optimizer`` is the constant ``adamw`` and ``batch_size`` the constant 256 (the paper
fixes the batch size per dataset, 256 on its smaller ones, and does not tune it). The ranges
are the paper's MLP and ResNet tuning spaces for its smaller datasets (its supplementary
material, the tables of hyperparameter spaces; on the largest, such as Covertype, it widens the
MLP to 16 layers of up to 1024 units and trains in batches of 1024). Its official code holds
the same spaces verbatim, in ``output/<dataset>/mlp/tuning/0.toml`` and
``output/<dataset>/resnet/tuning/0.toml`` of
github.com/yandex-research/tabular-dl-revisiting-models (first published in
yandex-research/rtdl). The ResNet's depth, the paper's ``n_layers``, is ``n_blocks`` here, so
that the sampler learns it apart from the MLP's ``n_layers``.

The baseline is the paper's MLP. The paper gives no default MLP (its only hand-set default
configuration is FT-Transformer's): every MLP it reports is tuned per dataset. So the baseline
is the centre of its MLP tuning space: 4 layers (of 1-8) of 256 units (of 1-512), dropout on at
0.25 (of 0-0.5), weight decay on at 3e-5 (about 10^-4.5, the log-centre of 1e-6-1e-3), lr 3e-4
(about 10^-3.5, the log-centre of 1e-5-1e-2), AdamW, batch size 256, no normalisation. (The
official code's README gives the median lr of the tuned MLPs as 2.2e-4: the centre is near.)

Written only against the public API, exactly as a user writes a search space.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
import torch
from torch import nn

from automl_bench import TaskInfo

ARCHITECTURES = ("mlp", "resnet")
NORMALIZATIONS = ("none", "batchnorm", "layernorm")
MAX_DEPTH = 8  # MLP layers, ResNet blocks
MLP_WIDTH = (1, 512)  # the paper's layer sizes
RESNET_WIDTH = (64, 512)  # the paper's d
HIDDEN_FACTOR = (1.0, 4.0)  # the ResNet block's inner width, as a multiple of d
MAX_DROPOUT = 0.5
LR_RANGE = (1e-5, 1e-2)  # log-uniform
WEIGHT_DECAY_RANGE = (1e-6, 1e-3)  # log-uniform, where use_weight_decay
BATCH_SIZE = 256


def space(trial: optuna.Trial) -> dict[str, Any]:
    if trial.suggest_categorical("architecture", list(ARCHITECTURES)) == "mlp":
        n_layers = trial.suggest_int("n_layers", 1, MAX_DEPTH)
        trial.suggest_int("d_first", *MLP_WIDTH)
        if n_layers > 2:
            trial.suggest_int("d_middle", *MLP_WIDTH)
        if n_layers > 1:
            trial.suggest_int("d_last", *MLP_WIDTH)
        if trial.suggest_categorical("use_dropout", [False, True]):
            trial.suggest_float("dropout", 0.0, MAX_DROPOUT)
    else:
        trial.suggest_int("n_blocks", 1, MAX_DEPTH)
        trial.suggest_int("d", *RESNET_WIDTH)
        trial.suggest_float("d_hidden_factor", *HIDDEN_FACTOR)
        trial.suggest_float("hidden_dropout", 0.0, MAX_DROPOUT)
        if trial.suggest_categorical("use_residual_dropout", [False, True]):
            trial.suggest_float("residual_dropout", 0.0, MAX_DROPOUT)
    trial.suggest_categorical("normalization", list(NORMALIZATIONS))
    trial.suggest_float("lr", *LR_RANGE, log=True)
    if trial.suggest_categorical("use_weight_decay", [False, True]):
        trial.suggest_float("weight_decay", *WEIGHT_DECAY_RANGE, log=True)
    return {"optimizer": "adamw", "batch_size": BATCH_SIZE}


class _BatchNorm(nn.BatchNorm1d):
    """BatchNorm1d that normalises a training batch of one row with its running statistics
    (a batch's own statistics are undefined for one row, and BatchNorm1d raises)."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.training and input.shape[0] == 1:
            return nn.functional.batch_norm(
                input, self.running_mean, self.running_var, self.weight, self.bias, False
            )
        return super().forward(input)


def _norm(kind: str, width: int) -> nn.Module:
    if kind == "batchnorm":
        return _BatchNorm(width)
    if kind == "layernorm":
        return nn.LayerNorm(width)
    return nn.Identity()


def mlp_widths(config: dict[str, Any]) -> list[int]:
    """The MLP's layer sizes: ``d_first``, then ``d_middle`` repeated, then ``d_last``."""
    n = config["n_layers"]
    middle = [config["d_middle"]] * (n - 2) if n > 2 else []
    return [config["d_first"], *middle, *([config["d_last"]] if n > 1 else [])]


class _Net(nn.Module):
    """The rows, flattened to (batch, n_features), through ``body`` to the head."""

    def __init__(self, body: nn.Module, head: nn.Module):
        super().__init__()
        self.body = body
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.body(x.flatten(1)))
        return out


class _ResidualBlock(nn.Module):
    """``x + Dropout_r(Linear(Dropout_h(ReLU(Linear(Norm(x))))))``."""

    def __init__(self, d: int, d_hidden: int, norm: str, hidden_dropout: float, residual: float):
        super().__init__()
        self.branch = nn.Sequential(
            _norm(norm, d),
            nn.Linear(d, d_hidden),
            nn.ReLU(),
            nn.Dropout(hidden_dropout),
            nn.Linear(d_hidden, d),
            nn.Dropout(residual),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.branch(x)
        return out


def _mlp(config: dict[str, Any], width: int, outputs: int) -> nn.Module:
    dropout = config.get("dropout", 0.0)  # absent where use_dropout is False
    layers: list[nn.Module] = []
    for out in mlp_widths(config):
        norm = _norm(config["normalization"], out)
        layers += [nn.Linear(width, out), norm, nn.ReLU(), nn.Dropout(dropout)]
        width = out
    return _Net(nn.Sequential(*layers), nn.Linear(width, outputs))


def _resnet(config: dict[str, Any], width: int, outputs: int) -> nn.Module:
    d, norm = config["d"], config["normalization"]
    d_hidden = int(d * config["d_hidden_factor"])
    residual = config.get("residual_dropout", 0.0)  # absent where use_residual_dropout is False
    blocks = [
        _ResidualBlock(d, d_hidden, norm, config["hidden_dropout"], residual)
        for _ in range(config["n_blocks"])
    ]
    head = nn.Sequential(_norm(norm, d), nn.ReLU(), nn.Linear(d, outputs))
    return _Net(nn.Sequential(nn.Linear(width, d), *blocks), head)


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    width = math.prod(task.input_shape)
    make = _mlp if config["architecture"] == "mlp" else _resnet
    return make(config, width, task.num_classes)  # regression: num_classes == 1, one output


baseline: dict[str, Any] = {
    "architecture": "mlp",
    "n_layers": 4,
    "d_first": 256,
    "d_middle": 256,
    "d_last": 256,
    "use_dropout": True,
    "dropout": 0.25,
    "normalization": "none",  # the paper's MLP has no normalisation
    "lr": 3e-4,
    "use_weight_decay": True,
    "weight_decay": 3e-5,
    "optimizer": "adamw",
    "batch_size": 256,
}
