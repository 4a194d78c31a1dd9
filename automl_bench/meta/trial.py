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
from pathlib import Path
from typing import Any

from automl_bench.cost.window import WindowMeter, metered
from automl_bench.meta.families import META_FAMILIES
from automl_bench.meta.learners import META_VAL_SEED, Learner, MetaBudget, meta_learn
from automl_bench.meta.sinusoid import META_TEST_SEED
from automl_bench.seeding import init_seed
from automl_bench.trial import (
    FINAL,
    INFERENCE,
    SEARCH,
    Reporter,
    TrialContext,
    TrialJob,
    check_time,
    save_model,
)

MEMORY_MEASURED = "autograd-graph"  # see meta/learners.py: no peak counter on CPU


def run_meta_trial(job: TrialJob, ctx: TrialContext, report: Reporter, meter: WindowMeter) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    from automl_bench.trial import failure_reason

    threads = max(1, int(ctx.cpus_per_trial))
    torch.set_num_threads(threads)
    family = META_FAMILIES[ctx.task]
    metric = family.metric
    budget = MetaBudget.from_config(ctx.meta or {})
    closing: dict[str, Any] = {"phase": job.phase, "trial_status": "ok", "meta_device": "cpu"}
    closing["torch_threads"] = torch.get_num_threads()
    pending: list[dict[str, float]] = []
    window: list[float] = []
    last_report = started = time.monotonic()

    def on_iteration(i: int, loss: float) -> None:
        nonlocal last_report
        window.append(loss)
        check_time(started, ctx.timeout_s)
        if i % budget.log_every and i != budget.iterations:
            return
        pending.append({"epoch": i, "meta_train_loss": sum(window) / len(window)})
        window.clear()
        if time.monotonic() - last_report >= ctx.report_interval_s:
            report({"phase": job.phase, **pending[-1], "epoch_history": pending[:]}, None)
            pending.clear()
            last_report = time.monotonic()

    error: BaseException | None = None
    learner: Learner | None = None
    with threadpool_limits(limits=threads), metered(meter, ctx.prices) as measurement:
        try:
            if job.phase == SEARCH and not family.searchable:
                raise ValueError(f"{family.name}: no meta-validation split to search on")
            seed = init_seed(job.seed, job.phase)
            learner = meta_learn(
                family, job.config, budget, seed, on_iteration, Path(ctx.cache_dir)
            )
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
                closing[metric.val_key] = scores.per_steps[budget.primary_steps][0]
        except Exception as exc:  # recorded with its reason; the study goes on
            error = exc
            closing["trial_status"] = "failed"
            closing["failure_reason"] = failure_reason(exc)
    closing["epoch_history"] = pending
    closing.update(measurement.record.to_result())
    model_dir: Path | None = None
    if job.phase == FINAL and learner is not None and error is None:
        try:
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
            served = budget.served
            train = measurement.record
            closing["meta_tasks_served"] = served
            closing["meta_train_kwh_per_task"] = train.energy_kwh / served
            closing["meta_train_usd_per_task"] = train.usd / served
            closing["meta_train_wall_s_per_task"] = train.wall_s / served
            closing["meta_adapt_kwh_per_task"] = inference.record.energy_kwh / scores.tasks
            model_dir = save_model(learner.state(), job)
        except Exception as exc:  # meta-trained but not scored: the trial failed
            error = exc
            closing["trial_status"] = "failed"
            closing["failure_reason"] = failure_reason(exc)
    report(closing, model_dir)
    if error is not None:
        raise error


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
