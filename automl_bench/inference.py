"""Inference at the deployment batch size: the final model predicting, for a measured while.

The ``inference`` phase of a study is measured here: after a warm-up, forward passes over the test
inputs in batches of ``batch_size`` (cycling through them) until ``seconds`` have passed. The cost
of that window divided by the predictions made gives the cost per 1,000 predictions.
"""

from __future__ import annotations

import time

import torch
from torch import nn

WARMUP_BATCHES = 3


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def warm_up(model: nn.Module, x: torch.Tensor, batch_size: int) -> None:
    model.eval()
    with torch.inference_mode():
        for _ in range(WARMUP_BATCHES):
            model(x[:batch_size])
    _sync(x.device)


def predict_for(model: nn.Module, x: torch.Tensor, batch_size: int, seconds: float) -> int:
    """Predict batches of ``x`` until ``seconds`` have passed (at least one batch); returns the
    number of predictions made. The device is synchronised before it returns."""
    model.eval()
    batches = [x[i : i + batch_size] for i in range(0, len(x), batch_size)]
    batches = [b for b in batches if len(b) == batch_size] or batches  # full batches only
    made = 0
    deadline = time.perf_counter() + seconds
    with torch.inference_mode():
        while True:
            for batch in batches:
                model(batch)
                made += len(batch)
            if x.device.type == "cuda":
                _sync(x.device)  # the clock must see the device's work, not its queue
            if time.perf_counter() >= deadline:
                break
    return made
