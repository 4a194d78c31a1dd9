"""The sinusoid regression family of MAML (Finn et al. 2017, section 5.1 and appendix C).

A task is y = A sin(x - phase) with amplitude A ~ U[0.1, 5.0] and phase ~ U[0, pi]; its points
have x ~ U[-5, 5]; the loss is MSE. Everything is generated offline from a seeded
``torch.Generator``: nothing is downloaded.

Meta-train and meta-test tasks: a continuous family has no classes to split, so the two streams
are kept apart by their seeds alone (``META_TRAIN_SEED`` and ``META_TEST_SEED``, disjoint
generators). Tasks from the two streams are independent draws from the same distribution, which
is what the paper evaluates on; none is shared except with probability zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)

META_TRAIN_SEED = 0
META_TEST_SEED = 1_000_003  # a different seed: the meta-test stream never replays meta-train tasks


@dataclass(frozen=True)
class TaskBatch:
    """n tasks, batched: x and y of shape (n, k, 1); amplitude and phase of shape (n,)."""

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    amplitude: torch.Tensor
    phase: torch.Tensor

    @property
    def n(self) -> int:
        return int(self.support_x.shape[0])


def _uniform(
    shape: tuple[int, ...], bounds: tuple[float, float], gen: torch.Generator
) -> torch.Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(shape, generator=gen)


def sample_tasks(n: int, k_support: int, k_query: int, generator: torch.Generator) -> TaskBatch:
    """Draw n sinusoid tasks, each with k_support support points and k_query query points."""
    if n < 1 or k_support < 1 or k_query < 1:
        raise ValueError(f"n, k_support and k_query must be >= 1, got {n}, {k_support}, {k_query}")
    amplitude = _uniform((n,), AMPLITUDE, generator)
    phase = _uniform((n,), PHASE, generator)
    x = _uniform((n, k_support + k_query, 1), X_RANGE, generator)
    y = amplitude[:, None, None] * torch.sin(x - phase[:, None, None])
    return TaskBatch(
        support_x=x[:, :k_support],
        support_y=y[:, :k_support],
        query_x=x[:, k_support:],
        query_y=y[:, k_support:],
        amplitude=amplitude,
        phase=phase,
    )


def task_stream(seed: int, n: int, k_support: int, k_query: int) -> Iterator[TaskBatch]:
    """An endless stream of task batches from one seed (use META_TRAIN_SEED or META_TEST_SEED)."""
    gen = torch.Generator().manual_seed(seed)
    while True:
        yield sample_tasks(n, k_support, k_query, gen)
