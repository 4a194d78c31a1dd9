from __future__ import annotations

import pytest
import torch
from torch import nn

from automl_bench.train import EpochMetrics, TrainingDiverged, TrainSettings, evaluate, train


def _blobs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (600,), generator=g)
    centres = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    return centres[y] + 0.5 * torch.randn(600, 2, generator=g), y


def _fit(seed: int) -> tuple[nn.Module, list[EpochMetrics]]:
    x, y = _blobs(0)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    settings = TrainSettings(epochs=5, lr=1e-2, batch_size=32)
    seen: list[EpochMetrics] = []
    history = train(model, x[:400], y[:400], x[400:], y[400:], settings, seed, seen.append)
    assert seen == history
    return model, history


def test_training_learns_a_separable_problem() -> None:
    _, history = _fit(0)
    assert [m.epoch for m in history] == [1, 2, 3, 4, 5]
    assert history[-1].val_accuracy is not None and history[-1].val_accuracy > 0.95
    assert history[-1].train_loss < history[0].train_loss


def test_training_is_reproducible_from_the_seed() -> None:
    (a, ha), (b, hb), (_, hc) = _fit(1), _fit(1), _fit(2)
    assert ha == hb
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert ha != hc


def test_without_validation_only_the_train_loss_is_reported() -> None:
    x, y = _blobs(0)
    history = train(nn.Linear(2, 3), x, y, None, None, TrainSettings(epochs=2), 0)
    assert history[-1].val_accuracy is None
    assert set(history[-1].to_dict()) == {"epoch", "train_loss"}


class _Nan(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * float("nan")


def test_a_nan_loss_fails_the_training_with_its_reason() -> None:
    x, y = _blobs(0)
    with pytest.raises(TrainingDiverged, match="nan"):
        train(_Nan(), x, y, None, None, TrainSettings(epochs=1), 0)


def test_evaluate_counts_accuracy_exactly() -> None:
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    _, accuracy = evaluate(model, x, torch.tensor([0, 1, 1, 1]))
    assert accuracy == 0.75


def test_settings_come_from_the_config_and_are_checked() -> None:
    s = TrainSettings.from_config({"lr": 0.1, "batch_size": 64, "optimizer": "sgd"}, epochs=3)
    assert (s.lr, s.batch_size, s.optimizer, s.epochs) == (0.1, 64, "sgd", 3)
    with pytest.raises(ValueError, match="optimizer"):
        TrainSettings.from_config({"optimizer": "lion"}, epochs=1)
