"""Post-adaptation MSE on meta-test tasks, as the MAML paper reports it, and the choice of the
pretrain-and-fine-tune baseline's step size on meta-validation tasks.

Each meta-test task gives K support points to adapt on (SGD at the method's inner lr: 0.01 as
meta-trained for MAML; for the baseline, the step size ``choose_finetune_lr`` picked) and a query
set to score; the query MSE is read after 1, 5 and 10 steps and averaged over the tasks (at least
600) with a Student-t 95% interval. Tasks come from the meta-test seed, disjoint from
meta-training's. Methods compared on the same ``seed`` see the same tasks, so per-task values
pair up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from automl_bench.analysis.intervals import Interval, t_interval
from automl_bench.meta.algorithms import AdaptFn, Params, adapt, task_mse
from automl_bench.meta.sinusoid import META_TEST_SEED, TaskBatch, sample_tasks

MIN_TASKS = 600
STEPS = (1, 5, 10)

# The baseline's fine-tuning step sizes: a log grid of quarter decades from 1e-3 to 1e-1. It holds
# 0.01 (the inner lr MAML is meta-trained and adapted with, and the step the baseline used before
# the choice), so the choice is never worse than it on the validation tasks; quarter decades
# (x1.78) because the pretrained 1-40-40-1 network's fine-tuning is stable only below about
# 0.02-0.03 (measured at 2,000 pretraining iterations: every seed diverged on some validation
# tasks at 0.03 after 10 steps, and all at 0.1), so half decades (0.01, 0.03) would leave no
# real choice next to 0.01; 0.1 and below 0.003 are there so that a network less (or more)
# sharply curved than this one still has its best step inside the grid.
FINETUNE_LRS = tuple(float(f"{10 ** (k / 4):.3g}") for k in range(-12, -3))


@dataclass(frozen=True)
class AdaptationResult:
    k_shot: int
    inner_lr: float
    per_task: dict[int, list[float]]  # steps -> query MSE of each task, in task order
    mse: dict[int, Interval]  # steps -> mean over tasks with a t 95% CI

    def line(self) -> str:
        parts = []
        for steps, iv in sorted(self.mse.items()):
            parts.append(f"{steps} step(s) {iv.estimate:.3f} [{iv.low:.3f}, {iv.high:.3f}]")
        return f"K={self.k_shot}: " + "; ".join(parts)


def evaluate_adaptation(
    params: Params,
    k_shot: int = 10,
    n_tasks: int = MIN_TASKS,
    steps: Sequence[int] = STEPS,
    inner_lr: float = 0.01,
    k_query: int = 100,
    seed: int = META_TEST_SEED,
    inner: AdaptFn = adapt,
) -> AdaptationResult:
    """Adapt ``params`` to ``n_tasks`` meta-test tasks; the query MSE after each of ``steps``.
    ``inner``: how a task is adapted (``adapt``: every parameter; ANIL's ``adapt_head``)."""
    if n_tasks < MIN_TASKS:
        raise ValueError(f"n_tasks: at least {MIN_TASKS} meta-test tasks, got {n_tasks}")
    wanted = sorted(set(steps))
    if not wanted or wanted[0] < 0:
        raise ValueError(f"steps: non-negative step counts, got {list(steps)}")
    batch = sample_tasks(n_tasks, k_shot, k_query, torch.Generator().manual_seed(seed))
    per_task = _query_mse(params, batch, wanted, inner_lr, inner)
    mse = {s: t_interval(v) for s, v in per_task.items()}
    return AdaptationResult(k_shot, inner_lr, per_task, mse)


def _query_mse(
    params: Params, batch: TaskBatch, wanted: list[int], inner_lr: float, inner: AdaptFn
) -> dict[int, list[float]]:
    """Each task's query MSE after each of ``wanted`` (sorted) SGD steps on its support set."""
    per_task: dict[int, list[float]] = {}
    current = {k: p.detach() for k, p in params.items()}
    done = 0
    for target in wanted:
        if target > done:
            current = inner(
                current, batch.support_x, batch.support_y, target - done, inner_lr, True
            )
            current = {k: p.detach() for k, p in current.items()}
            done = target
        with torch.no_grad():
            mse_now = task_mse(current, batch.query_x, batch.query_y)
        per_task[target] = [float(v) for v in mse_now]
    return per_task


@dataclass(frozen=True)
class StepSizeChoice:
    """The fine-tuning step size picked on meta-validation tasks, and what it was picked from."""

    lr: float
    steps: int  # adaptation steps the query loss was read after
    seed: int  # the validation tasks' seed
    tasks: int
    losses: dict[float, float]  # step size -> mean query MSE over the tasks (inf: diverged)

    def describe(self) -> str:
        grid = ", ".join(f"{lr:g}" for lr in self.losses)
        return (
            f"lowest mean query MSE after {self.steps} step(s) on {self.tasks} meta-validation "
            f"tasks over {grid}"
        )


def mean_or_inf(values: Sequence[float]) -> float:
    """The mean, or inf when any value is not finite (a task whose fine-tuning diverged)."""
    if not values or not all(math.isfinite(v) for v in values):
        return math.inf
    return math.fsum(values) / len(values)


def choose_finetune_lr(
    params: Params,
    seed: int,
    lrs: Sequence[float] = FINETUNE_LRS,
    k_shot: int = 10,
    n_tasks: int = MIN_TASKS,
    steps: int = 10,
    k_query: int = 100,
    inner: AdaptFn = adapt,
) -> StepSizeChoice:
    """The step size of ``lrs`` whose fine-tuning gives the lowest mean query MSE after ``steps``
    SGD steps on ``n_tasks`` validation tasks drawn from ``seed`` (exactly the tasks
    ``evaluate_adaptation`` draws from that seed), as the MAML paper tuned its baseline. A step
    size under which any task diverges scores inf; ties go to the earlier one in ``lrs``.
    ``seed`` must not be the meta-test seed: the choice is made before meta-test is seen."""
    if seed == META_TEST_SEED:
        raise ValueError("seed: the step size is chosen on meta-validation tasks, never meta-test")
    if not lrs or any(not (lr > 0 and math.isfinite(lr)) for lr in lrs):
        raise ValueError(f"lrs: positive finite step sizes, got {list(lrs)}")
    if steps < 1:
        raise ValueError(f"steps: at least 1 adaptation step to choose a step size, got {steps}")
    batch = sample_tasks(n_tasks, k_shot, k_query, torch.Generator().manual_seed(seed))
    losses: dict[float, float] = {}
    for lr in lrs:
        losses[float(lr)] = mean_or_inf(_query_mse(params, batch, [steps], lr, inner)[steps])
    best = min(losses, key=lambda lr: losses[lr])  # the first of equals: min is stable
    return StepSizeChoice(best, steps, seed, n_tasks, losses)
