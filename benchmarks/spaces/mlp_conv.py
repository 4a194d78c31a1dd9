"""The MNIST-1D paper's MLP with a convolutional stem searched: ``n_conv`` in 0..3 convolutions
of the paper's CNN (25 channels, kernels 5, 3, 3, stride 2, ReLU) before the classifier, and
Adam's learning rate, log-uniform in [3e-3, 3e-2] around the paper's 1e-2, at batch size 100.

Its baseline is the paper's MLP (``n_conv`` 0: search_spaces/mlp.py's baseline); 1 to 3
convolutions give cnn1d's network at that depth (search_spaces/cnn1d.py's build). The paper
measured the CNN far ahead of the MLP (94 % against 68 %), so this small architecture search has
a real effect with a small spread: benchmarks/verdict_stability.py uses it to see whether seeds
added until decided give the same calls on disjoint seed sets. Both networks come from their
files in search_spaces/.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import optuna
from torch import nn

from automl_bench import TaskInfo

_SPACES = Path(__file__).resolve().parents[2] / "search_spaces"
MAX_CONV = 3
TRAINING = {"lr": 1e-2, "weight_decay": 0.0, "batch_size": 100, "optimizer": "adam"}


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_{name}_of_mlp_conv", _SPACES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_MLP, _CNN = _load("mlp"), _load("cnn1d")
baseline: dict[str, Any] = {"n_conv": 0, **TRAINING}


def space(trial: optuna.Trial) -> dict[str, Any]:
    trial.suggest_int("n_conv", 0, MAX_CONV)
    trial.suggest_float("lr", 3e-3, 3e-2, log=True)
    return {k: v for k, v in TRAINING.items() if k != "lr"}


def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
    if config["n_conv"] == 0:
        mlp: nn.Module = _MLP.build({**_MLP.baseline, **config}, task)
        return mlp
    cnn: nn.Module = _CNN.build({**_CNN.baseline, **config}, task)
    return cnn
