"""The trainer: data resident on the device, seeded, per-epoch validation metrics.

The same code runs on CPU and GPU; on CUDA it trains under bf16 autocast, and in channels_last
for image (4-D) inputs. What it minimises and what it scores is the ``Objective``: cross-entropy
and a classification metric (accuracy by default), or, for regression, the squared error on the
standardised target (the training split's mean and std: a net predicts the standardised target,
and its predictions are scaled back before they are scored) and a regression metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

OPTIMIZERS = ("adam", "adamw", "sgd")
REGRESSION = "regression"


@dataclass(frozen=True)
class Objective:
    """What training minimises and what validation and test score.

    Classification: cross-entropy on ``num_classes`` logits. Regression: one output, the squared
    error between it and the standardised target ``(y - target_mean) / target_std``; the
    prediction in the target's units is ``output * target_std + target_mean``."""

    metric: str = "accuracy"
    problem: str = "classification"
    target_mean: float = 0.0
    target_std: float = 1.0

    @classmethod
    def for_targets(cls, metric: str, problem: str, y_train: torch.Tensor) -> Objective:
        """The objective of a task whose training targets are ``y_train``."""
        if problem != REGRESSION:
            return cls(metric, problem)
        std = float(y_train.float().std()) if len(y_train) > 1 else 1.0
        return cls(metric, problem, float(y_train.float().mean()), std if std > 0 else 1.0)

    def loss(self, output: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        if self.problem != REGRESSION:
            return nn.functional.cross_entropy(output.float(), y, reduction=reduction)
        scaled = (y.float() - self.target_mean) / self.target_std
        return nn.functional.mse_loss(output.float()[:, 0], scaled, reduction=reduction)

    def predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities, or values in the target's units."""
        if self.problem != REGRESSION:
            return torch.softmax(outputs.float(), dim=1)
        return outputs.float()[:, 0] * self.target_std + self.target_mean


ACCURACY_OBJECTIVE = Objective()


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the trial fails with this reason."""


@dataclass(frozen=True)
class TrainSettings:
    """The optimiser keys of a configuration, with their defaults (see ``automl_bench.space``)."""

    epochs: int
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 128
    optimizer: str = "adam"
    momentum: float = 0.9

    @classmethod
    def from_config(cls, config: Mapping[str, Any], epochs: int) -> TrainSettings:
        settings = cls(
            epochs=epochs,
            lr=float(config.get("lr", cls.lr)),
            weight_decay=float(config.get("weight_decay", cls.weight_decay)),
            batch_size=int(config.get("batch_size", cls.batch_size)),
            optimizer=str(config.get("optimizer", cls.optimizer)),
            momentum=float(config.get("momentum", cls.momentum)),
        )
        if settings.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {settings.optimizer!r}")
        if settings.batch_size < 1 or settings.lr <= 0:
            raise ValueError(f"batch_size >= 1 and lr > 0 must hold, got {settings}")
        return settings


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int  # 1-based
    train_loss: float
    val_loss: float | None = None  # None when training without a validation split (final phase)
    val_value: float | None = None  # the metric's value on the validation split
    metric: str = "accuracy"

    @property
    def val_accuracy(self) -> float | None:
        return self.val_value if self.metric == "accuracy" else None

    def to_dict(self) -> dict[str, float]:
        out = {"epoch": float(self.epoch), "train_loss": self.train_loss}
        if self.val_loss is not None and self.val_value is not None:
            out.update({"val_loss": self.val_loss, f"val_{self.metric}": self.val_value})
        return out


def make_optimizer(model: nn.Module, s: TrainSettings) -> torch.optim.Optimizer:
    params = model.parameters()
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)
    return torch.optim.SGD(params, lr=s.lr, weight_decay=s.weight_decay, momentum=s.momentum)


def _autocast(device: torch.device) -> torch.autocast:
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    )


def _prepare(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    if device.type == "cuda" and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 1024,
    objective: Objective = ACCURACY_OBJECTIVE,
) -> tuple[float, float]:
    """The mean loss of ``model`` on ``(x, y)`` and its value of the objective's metric
    (accuracy: a fraction in [0, 1], counted on the device; the others by
    ``automl_bench.metric_values`` on the gathered predictions)."""
    model.eval()
    device = x.device
    loss_sum, correct = 0.0, 0
    gathered: list[torch.Tensor] = []
    for i in range(0, len(x), batch_size):
        xb, yb = _prepare(x[i : i + batch_size], device), y[i : i + batch_size]
        with _autocast(device):
            outputs = model(xb)
        loss_sum += float(objective.loss(outputs, yb, reduction="sum"))
        if objective.metric == "accuracy":
            correct += int((outputs.argmax(dim=1) == yb).sum())
        else:
            gathered.append(objective.predictions(outputs).cpu())
    if objective.metric == "accuracy":
        return loss_sum / len(x), correct / len(x)
    from automl_bench.metric_values import metric_value

    predicted = torch.cat(gathered).numpy()
    return loss_sum / len(x), metric_value(objective.metric, y.cpu().numpy(), predicted)


def train(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor | None,
    y_val: torch.Tensor | None,
    settings: TrainSettings,
    seed: int,
    on_epoch: Callable[[EpochMetrics], None] | None = None,
    objective: Objective = ACCURACY_OBJECTIVE,
) -> list[EpochMetrics]:
    """Train ``model`` in place for ``settings.epochs`` epochs; validate after each one
    (unless ``x_val`` is None).

    Batches are index slices of tensors already on the device (no host-to-device copy per
    batch); the shuffle order comes from a generator seeded with ``seed``.
    """
    device = x_train.device
    if device.type == "cuda" and x_train.dim() == 4:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimizer = make_optimizer(model, settings)
    generator = torch.Generator(device=device).manual_seed(seed)
    history: list[EpochMetrics] = []
    n = len(x_train)
    for epoch in range(1, settings.epochs + 1):
        model.train()
        order = torch.randperm(n, device=device, generator=generator)
        loss_sum = torch.zeros((), device=device)
        for i in range(0, n, settings.batch_size):
            idx = order[i : i + settings.batch_size]
            xb, yb = _prepare(x_train[idx], device), y_train[idx]
            with _autocast(device):
                loss = objective.loss(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            loss_sum += loss.detach() * len(idx)
        train_loss = float(loss_sum) / n  # one device sync per epoch, not per batch
        if not math.isfinite(train_loss):
            raise TrainingDiverged(f"training loss became {train_loss} in epoch {epoch}")
        metrics = EpochMetrics(epoch, train_loss, metric=objective.metric)
        if x_val is not None and y_val is not None:
            loss_value = evaluate(model, x_val, y_val, objective=objective)
            metrics = EpochMetrics(epoch, train_loss, *loss_value, metric=objective.metric)
        history.append(metrics)
        if on_epoch is not None:
            on_epoch(metrics)
    return history
