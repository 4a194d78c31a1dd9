"""The NAS-Bench-201 cell search space (Dong & Yang, "NAS-Bench-201: Extending the Scope of
Reproducible Neural Architecture Search", ICLR 2020), on the NB-201 skeleton.

The cell: 4 nodes, 6 edges ``edge_i_j`` (node i <- node j, 0 <= j < i <= 3), each one of five ops:
``none`` (zero), ``skip_connect`` (identity), ``nor_conv_1x1`` and ``nor_conv_3x3`` (ReLU-Conv-BN)
and ``avg_pool_3x3`` (stride 1, padding 1, padding not counted): 5^6 = 15,625 cells. Node i is the
sum over j < i of op_{i,j}(node j); the cell's output is node 3. A node whose edges are all
``none`` is zero.

The skeleton (NB-201's "TinyNetwork"): a 3x3 convolution to ``channels`` (C) + BN; N cells at C; a
residual reduction block (stride 2, 2C); N cells; a reduction block (4C); N cells; BN-ReLU, global
average pooling, a linear layer. NB-201's values are C = 16, N = 5 (``CHANNELS``,
``CELLS_PER_STAGE``); ``build`` reads them from the config, so smaller skeletons build too.
The reduction block is NB-201's ``ResNetBasicblock``: ReLU-Conv3x3(stride 2)-BN, ReLU-Conv3x3-BN,
plus a shortcut of 2x2 average pooling and a 1x1 convolution. The shortcut's pooling rounds up
(``ceil_mode``), so odd feature maps (7x7) reduce like the convolution does; on even sizes
(32x32, 8x8) it is NB-201's pooling exactly.

The baseline is the hand-designed ResNet written as an NB-201 cell, ``ResNet_CODE`` in NB-201's
code (AutoDL-Projects, lib/models/cell_searchs/genotypes.py), in NB-201's string notation
``|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|``:
node 1 = conv(x), node 2 = conv(node 1), node 3 = x + node 2, i.e. the basic residual block
x + BN(Conv(ReLU(BN(Conv(ReLU(x)))))) (He et al. 2016, in pre-activation order). With the
reduction blocks and the stem this is the ResNet NB-201 lists next to its searched cells.

Training settings are constants too (the cell is all that is searched), NB-201-like: SGD, lr 0.1,
momentum 0.9, weight decay 5e-4, batch size 256. Deviations from NB-201's recipe, which our
trainer cannot express: no Nesterov momentum, no cosine learning-rate schedule (the lr stays at
0.1), no random-crop / flip augmentation, and the number of epochs is the task's budget, not 200.

For one-shot methods (``automl_bench.methods.darts``) this file also defines ``supernet(config,
task)``: the DARTS supernet over the same skeleton and ops, every edge a softmax-weighted mixture
of the five ops, one architecture parameter ``alpha`` of shape (6, 5) shared by all cells (as in
NB-201's DARTS), its BN layers without affine parameters in the mixed ops (as DARTS searches).
``derive()`` takes the argmax op per edge over all five ops, ``none`` included, as NB-201's DARTS
does (``genotype()`` in its search models); DARTS's own cell space drops ``none`` there, which the
NB-201 space cannot (a node must be able to ignore an input).

Written only against the public API, exactly as a user writes a search space.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import optuna
import torch
from torch import nn

from automl_bench import TaskInfo

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NODES = 4
EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(1, NODES) for j in range(i))
EDGE_NAMES: tuple[str, ...] = tuple(f"edge_{i}_{j}" for i, j in EDGES)
CHANNELS = 16
CELLS_PER_STAGE = 5
TRAINING: dict[str, Any] = {
    "optimizer": "sgd",
    "lr": 0.1,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "batch_size": 256,
}


def space(trial: optuna.Trial) -> dict[str, Any]:
    for name in EDGE_NAMES:
        trial.suggest_categorical(name, list(OPS))
    return {"channels": CHANNELS, "cells_per_stage": CELLS_PER_STAGE, **TRAINING}


def arch_str(config: Mapping[str, Any]) -> str:
    """The cell in NB-201's notation (``|op~j|+|op~j|op~j|+|...|``), the key of its tables."""
    return "+".join(
        "|" + "|".join(f"{config[f'edge_{i}_{j}']}~{j}" for j in range(i)) + "|"
        for i in range(1, NODES)
    )


# --- ops ---------------------------------------------------------------------------------------


class _ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, affine: bool = True):
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


def _op(name: str, channels: int, affine: bool = True) -> nn.Module | None:
    """The module of one op at stride 1; None for ``none`` (its output is zero)."""
    if name == "none":
        return None
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return _ReLUConvBN(channels, channels, 1, 1, affine)
    if name == "nor_conv_3x3":
        return _ReLUConvBN(channels, channels, 3, 1, affine)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB-201 op {name!r}; the ops are {OPS}")


def _sum(terms: list[torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    if not terms:
        return torch.zeros_like(like)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


class _Cell(nn.Module):
    """One discrete cell; ``none`` edges have no module and contribute nothing."""

    def __init__(self, ops: Mapping[str, str], channels: int):
        super().__init__()
        modules = {name: _op(ops[name], channels) for name in EDGE_NAMES}
        self.edges = nn.ModuleDict({k: m for k, m in modules.items() if m is not None})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for i in range(1, NODES):
            terms = [
                self.edges[f"edge_{i}_{j}"](nodes[j])
                for j in range(i)
                if f"edge_{i}_{j}" in self.edges
            ]
            nodes.append(_sum(terms, x))
        return nodes[-1]


class _Reduction(nn.Module):
    """NB-201's residual reduction block (``ResNetBasicblock`` at stride 2)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = _ReLUConvBN(c_in, c_out, 3, 2)
        self.conv_b = _ReLUConvBN(c_out, c_out, 3, 1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, stride=2, ceil_mode=True),
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.shortcut(x) + self.conv_b(self.conv_a(x))
        return out


def _skeleton(
    config: Mapping[str, Any], task: TaskInfo, make_cell: Callable[[int], nn.Module]
) -> tuple[nn.Module, list[nn.Module], nn.Module]:
    """Stem, the layers (cells and reductions, in order) and head of the NB-201 skeleton."""
    channels, per_stage = int(config["channels"]), int(config["cells_per_stage"])
    if len(task.input_shape) != 3:
        raise ValueError(f"nb201 needs image inputs (C, H, W), got shape {task.input_shape}")
    if channels < 1 or per_stage < 0:
        raise ValueError(f"channels >= 1 and cells_per_stage >= 0 must hold, got {dict(config)}")
    stem = nn.Sequential(
        nn.Conv2d(task.input_shape[0], channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
    )
    layers: list[nn.Module] = []
    c = channels
    for stage in range(3):
        if stage > 0:
            layers.append(_Reduction(c, 2 * c))
            c *= 2
        layers += [make_cell(c) for _ in range(per_stage)]
    head = nn.Sequential(
        nn.BatchNorm2d(c),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(c, task.num_classes),
    )
    return stem, layers, head


class _Network(nn.Module):
    def __init__(self, config: Mapping[str, Any], task: TaskInfo):
        super().__init__()
        ops = {name: str(config[name]) for name in EDGE_NAMES}
        stem, layers, head = _skeleton(config, task, lambda c: _Cell(ops, c))
        self.stem, self.layers, self.head = stem, nn.Sequential(*layers), head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.layers(self.stem(x)))
        return logits


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    return _Network(config, task)


baseline: dict[str, Any] = {
    "edge_1_0": "nor_conv_3x3",
    "edge_2_0": "none",
    "edge_2_1": "nor_conv_3x3",
    "edge_3_0": "skip_connect",
    "edge_3_1": "none",
    "edge_3_2": "skip_connect",
    "channels": CHANNELS,
    "cells_per_stage": CELLS_PER_STAGE,
    **TRAINING,
}


# --- the DARTS supernet (an optional extension point for one-shot methods) --------------------


class _MixedCell(nn.Module):
    """Every edge the softmax-weighted sum of all five ops (``none`` adds zero: not computed,
    but its weight stays in the softmax)."""

    def __init__(self, channels: int):
        super().__init__()
        self.edges = nn.ModuleDict()
        for name in EDGE_NAMES:
            ops = {op: _op(op, channels, affine=False) for op in OPS}
            self.edges[name] = nn.ModuleDict({k: m for k, m in ops.items() if m is not None})
        self.op_index = {op: k for k, op in enumerate(OPS)}

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for i in range(1, NODES):
            terms: list[torch.Tensor] = []
            for j in range(i):
                e = EDGES.index((i, j))
                edge = self.edges[EDGE_NAMES[e]]
                assert isinstance(edge, nn.ModuleDict)
                terms += [weights[e, self.op_index[op]] * m(nodes[j]) for op, m in edge.items()]
            nodes.append(_sum(terms, x))
        return nodes[-1]


class Supernet(nn.Module):
    """The DARTS supernet of NB-201: ``alpha`` (6 edges x 5 ops) shared by every cell.

    ``config`` is any configuration of the space (the baseline, say): its ``edge_*`` keys are
    ignored, the rest (``channels``, ``cells_per_stage``, training constants) are the constants
    ``derive()`` returns with the cell it picks.
    """

    edge_names: tuple[str, ...] = EDGE_NAMES
    op_names: tuple[str, ...] = OPS

    def __init__(self, config: Mapping[str, Any], task: TaskInfo):
        super().__init__()
        self.constants = {k: v for k, v in config.items() if k not in EDGE_NAMES}
        stem, layers, head = _skeleton(config, task, _MixedCell)
        self.stem, self.layers, self.head = stem, nn.ModuleList(layers), head
        self.alpha = nn.Parameter(1e-3 * torch.randn(len(EDGES), len(OPS)))

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alpha]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p is not self.alpha]

    def derive(self) -> dict[str, Any]:
        """The discrete cell: the argmax op of each edge, ``none`` included, plus the constants."""
        best = self.alpha.detach().argmax(dim=-1).tolist()
        return {
            **{name: OPS[k] for name, k in zip(EDGE_NAMES, best, strict=True)},
            **self.constants,
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.alpha, dim=-1)
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, weights) if isinstance(layer, _MixedCell) else layer(x)
        logits: torch.Tensor = self.head(x)
        return logits


def supernet(config: dict[str, Any], task: TaskInfo) -> Supernet:
    return Supernet(config, task)
