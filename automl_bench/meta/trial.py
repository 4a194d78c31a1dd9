"""One meta-learning trial on a worker: meta-train, score, meter, report (no Ray here).

A search trial meta-trains its configuration and is scored on meta-validation tasks; the final
training meta-trains the chosen configuration (fresh initialisation) and is scored once on the
meta-test tasks, at each of ``meta.eval_steps`` adaptation steps with a t 95% interval over the
tasks; ``test_<metric>`` is the reading at ``meta.primary_steps``. On the sinusoid family the
baseline (``pretrain_finetune``) first picks its fine-tuning step size on meta-validation tasks
(``meta/learners.py``), inside the trial's window, and reports it as ``meta_finetune_lr``.

Cost windows, as for every method:
- the trial's window (search or final phase) is the meta-training (and, for a search trial, its
  validation);
- the ``inference`` window of a final training is adapting to and predicting the meta-test
  tasks: what serving new tasks costs, per 1,000 query predictions.

The amortisation rule: meta-training is charged to the method in full (its final phase, like any
method's final training, plus its search if it searched). Per task served it is that cost divided
by ``meta.tasks_served`` (default: the meta-test tasks, ``meta.test_tasks``), reported as
``meta_train_<kwh|usd|wall_s>_per_task`` next to the adaptation cost per task.

The training curve: the mean meta-training loss over each ``meta.log_every`` meta-iterations is
reported as it trains (``epoch`` is the meta-iteration: MLflow's step).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_bench.cost.window import WindowMeter, metered
from automl_bench.meta.learners import META_VAL_SEED, Learner, MetaBudget, meta_learn
from automl_bench.meta.sinusoid import META_TEST_SEED
from automl_bench.seeding import init_seed
from automl_bench.tasks.families import META_FAMILIES, MetaFamily
from automl_bench.trial_job import (
    FINAL,
    INFERENCE,
    SEARCH,
    Reporter,
    TrialContext,
    TrialJob,
    check_time,
    failure_reason,
    save_model,
)

if TYPE_CHECKING:
    from automl_bench.cost.record import CostRecord

MEMORY_MEASURED = "autograd-graph"  # see meta/learners.py: no peak counter on CPU


def run_meta_trial(job: TrialJob, ctx: TrialContext, report: Reporter, meter: WindowMeter) -> None:
    """Meta-train ``job`` in its window, reporting the training curve as it goes; a final
    training is then scored on the meta-test tasks in the inference window. Reports the closing
    result, then, if it failed, raises its exception."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = max(1, int(ctx.cpus_per_trial))
    torch.set_num_threads(threads)
    family = META_FAMILIES[ctx.task]
    budget = MetaBudget.from_config(ctx.meta_budget or {})
    closing: dict[str, Any] = {"phase": job.phase, "trial_status": "ok", "meta_device": "cpu"}
    closing["torch_threads"] = torch.get_num_threads()
    curve = _CurveReports(job.phase, report, budget, ctx.report_interval_s, ctx.timeout_s)
    with threadpool_limits(limits=threads), metered(meter, ctx.prices) as measurement:
        learner, error = _meta_train(job, ctx, family, budget, curve, closing)
    closing["epoch_history"] = curve.pending
    closing.update(measurement.record.to_result())
    model_dir: Path | None = None
    if job.phase == FINAL and learner is not None:
        try:
            _meta_test(learner, budget, ctx, meter, threads, closing)
            _served_figures(closing, budget, measurement.record)
            model_dir = save_model(learner.state(), job)
        except Exception as exc:  # meta-trained but not scored: the trial failed
            error = exc
            closing["trial_status"] = "failed"
            closing["failure_reason"] = failure_reason(exc)
    report(closing, model_dir)
    if error is not None:
        raise error


@dataclass
class _CurveReports:
    """The mean meta-training loss over each ``budget.log_every`` meta-iterations, on its way
    to the driver: sent at most every ``interval_s``, the rest waiting in ``pending``."""

    phase: str
    report: Reporter
    budget: MetaBudget
    interval_s: float
    timeout_s: float | None
    started: float = field(default_factory=time.monotonic)  # the time limit counts from here
    last_sent: float = field(default_factory=time.monotonic)
    pending: list[dict[str, float]] = field(default_factory=list)  # points not reported yet
    losses: list[float] = field(default_factory=list)  # since the last point

    def __call__(self, i: int, loss: float) -> None:
        self.losses.append(loss)
        check_time(self.started, self.timeout_s)
        if i % self.budget.log_every and i != self.budget.iterations:
            return
        self.pending.append({"epoch": i, "meta_train_loss": sum(self.losses) / len(self.losses)})
        self.losses.clear()
        if time.monotonic() - self.last_sent >= self.interval_s:
            point = {"phase": self.phase, **self.pending[-1], "epoch_history": self.pending[:]}
            self.report(point, None)
            self.pending.clear()
            self.last_sent = time.monotonic()


def _meta_train(
    job: TrialJob,
    ctx: TrialContext,
    family: MetaFamily,
    budget: MetaBudget,
    curve: _CurveReports,
    closing: dict[str, Any],
) -> tuple[Learner | None, Exception | None]:
    """Meta-train (and, for a search trial, score on meta-validation tasks) inside the window;
    the learner, or the failure recorded in ``closing``."""
    try:
        if job.phase == SEARCH and not family.searchable:
            raise ValueError(f"{family.name}: no meta-validation split to search on")
        seed = init_seed(job.seed, job.phase)
        learner = meta_learn(family, job.config, budget, seed, curve, Path(ctx.cache_dir))
        closing["meta_iterations"] = budget.iterations
        closing["meta_seconds_per_iteration"] = learner.seconds_per_iteration
        closing["meta_time_measured"] = learner.time_measured
        closing["meta_peak_memory_mb"] = learner.graph_bytes / 2**20
        closing["meta_memory_measured"] = MEMORY_MEASURED
        closing["epochs_run"] = budget.iterations
        # e.g. the baseline's fine-tuning step size, chosen in this window on validation tasks
        closing.update({f"meta_{k}": v for k, v in learner.figures.items()})
        if job.phase == SEARCH:
            scores = learner.score(META_VAL_SEED, budget.test_tasks, (budget.primary_steps,))
            closing[family.metric.val_key] = scores.per_steps[budget.primary_steps][0]
        return learner, None
    except Exception as exc:  # recorded with its reason; the study goes on
        closing["trial_status"] = "failed"
        closing["failure_reason"] = failure_reason(exc)
        return None, exc


def _meta_test(
    learner: Learner,
    budget: MetaBudget,
    ctx: TrialContext,
    meter: WindowMeter,
    threads: int,
    closing: dict[str, Any],
) -> None:
    """Adapt to and predict the meta-test tasks in the inference window: the test readings and
    what serving them cost."""
    from threadpoolctl import threadpool_limits

    metric = META_FAMILIES[ctx.task].metric
    with threadpool_limits(limits=threads), metered(meter, ctx.prices) as inference:
        scores = learner.score(META_TEST_SEED, budget.test_tasks, budget.eval_steps)
    _test_metrics(closing, metric.test_key, scores.per_steps, budget.primary_steps)
    for steps, n in scores.diverged.items():
        closing[f"{metric.test_key}_{steps}step_diverged"] = n
    closing["meta_test_tasks"] = scores.tasks
    closing.update(inference.record.to_result(f"{INFERENCE}_"))
    per_1k = inference.record.scaled(1000 / scores.predictions)
    closing.update(per_1k.to_metrics(f"{INFERENCE}_per_1k_"))
    closing[f"{INFERENCE}_predictions"] = scores.predictions
    closing["meta_adapt_kwh_per_task"] = inference.record.energy_kwh / scores.tasks


def _served_figures(closing: dict[str, Any], budget: MetaBudget, train: CostRecord) -> None:
    """Meta-training's cost per task served (the amortisation rule, in the module docstring)."""
    served = budget.served
    closing["meta_tasks_served"] = served
    closing["meta_train_kwh_per_task"] = train.energy_kwh / served
    closing["meta_train_usd_per_task"] = train.usd / served
    closing["meta_train_wall_s_per_task"] = train.wall_s / served


def _test_metrics(
    closing: dict[str, Any],
    key: str,
    per_steps: dict[int, tuple[float, float, float]],
    primary: int,
) -> None:
    """``test_<metric>_<s>step`` with ``_low`` / ``_high`` for each reading; ``test_<metric>``
    at the primary number of steps (or the only reading, for a method without steps)."""
    for steps, (mean, low, high) in per_steps.items():
        closing[f"{key}_{steps}step"] = mean
        closing[f"{key}_{steps}step_low"] = low
        closing[f"{key}_{steps}step_high"] = high
    chosen = per_steps.get(primary) or next(iter(per_steps.values()))
    closing[key] = chosen[0]
