"""Post-adaptation MSE on meta-test tasks, as the MAML paper reports it.

Each meta-test task gives K support points to adapt on (SGD, inner lr 0.01) and a query set to
score; the query MSE is read after 1, 5 and 10 steps and averaged over the tasks (at least 600)
with a Student-t 95% interval. Tasks come from the meta-test seed, disjoint from meta-training's.
Methods compared on the same ``seed`` see the same tasks, so per-task values pair up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from automl_bench.analysis.intervals import Interval, t_interval
from automl_bench.meta.algorithms import AdaptFn, Params, adapt, task_mse
from automl_bench.meta.sinusoid import META_TEST_SEED, sample_tasks

MIN_TASKS = 600
STEPS = (1, 5, 10)


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
    mse = {s: t_interval(v) for s, v in per_task.items()}
    return AdaptationResult(k_shot, inner_lr, per_task, mse)
