"""One trial of a table's reference model: a scikit-learn estimator fitted, scored, metered.

The same phases and windows as a network's trial (``trial.py``): a search trial fits on the
train split and is scored on validation; a final training fits on train + validation, is scored
once on test, is saved (``model.pkl``) and then predicts the test rows at the deployment batch
size in its own ``inference`` window. The data are the same transformed splits every method sees
at that seed. There are no epochs: a trial reports once, its closing result.

The estimator is seeded from the study's seed (``random_state``), and holds one thread (the
trial's CPU share is enforced by threadpoolctl, as for a network).
"""

from __future__ import annotations

import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from automl_bench.cost.window import WindowMeter, metered
from automl_bench.seeding import init_seed
from automl_bench.trial_job import (
    FINAL,
    INFERENCE,
    Reporter,
    TrialContext,
    TrialJob,
    context_metric,
    failure_reason,
)

if TYPE_CHECKING:
    from automl_bench.tasks.base import TaskInfo
    from automl_bench.tasks.splits import Splits

MODEL_FILE = "model.pkl"  # a final estimator, pickled
WARM_UP_ROWS = 64


@dataclass(frozen=True)
class _Fitted:
    """How an estimator's window ended: fitted (and saved, for a final training), or failed."""

    estimator: Any = None
    x_test: Any = None
    model_dir: Path | None = None
    error: Exception | None = None


def run_estimator_trial(
    job: TrialJob, ctx: TrialContext, report: Reporter, meter: WindowMeter
) -> None:
    """Fit and score ``job``'s estimator in its window, then report its closing result (and,
    if it failed, raise its exception)."""
    from threadpoolctl import threadpool_limits

    threads = max(1, int(ctx.cpus_per_trial))
    closing: dict[str, Any] = {"phase": job.phase, "trial_status": "ok", "epoch_history": []}
    with threadpool_limits(limits=threads), metered(meter, ctx.prices) as measurement:
        ended = _fit_window(job, ctx, closing)
    closing.update(measurement.record.to_result())
    if job.phase == FINAL and ended.error is None:
        _measure_inference(ended, ctx, meter, threads, closing)
    report(closing, ended.model_dir)
    if ended.error is not None:
        raise ended.error


def _fit_window(job: TrialJob, ctx: TrialContext, closing: dict[str, Any]) -> _Fitted:
    try:
        return _fit_and_score(job, ctx, closing)
    except Exception as exc:  # recorded with its reason; the study goes on
        closing.update(trial_status="failed", failure_reason=failure_reason(exc), epochs_run=0)
        return _Fitted(error=exc)


def _fit_and_score(job: TrialJob, ctx: TrialContext, closing: dict[str, Any]) -> _Fitted:
    """Fit on train (search) or train + validation (final); score validation or test."""
    info, splits = _data(job, ctx)
    estimator = _build(job, ctx, info)
    if job.phase == FINAL:
        x = np.concatenate([splits.x_train, splits.x_val])
        y = np.concatenate([splits.y_train, splits.y_val])
        estimator.fit(x, y)
        test_value = score(estimator, splits.x_test, splits.y_test, ctx, info)
        closing[f"test_{context_metric(ctx)}"] = test_value
        return _Fitted(estimator, splits.x_test, save_estimator(estimator, job))
    estimator.fit(splits.x_train, splits.y_train)
    closing[f"val_{context_metric(ctx)}"] = score(estimator, splits.x_val, splits.y_val, ctx, info)
    return _Fitted(estimator, splits.x_test)


def _data(job: TrialJob, ctx: TrialContext) -> tuple[TaskInfo, Splits]:
    from automl_bench.tasks import get_task, task_splits

    task = get_task(ctx.task, ctx.data_dir, ctx.table)
    return task.info, task_splits(task, job.seed, Path(ctx.cache_dir))


def _build(job: TrialJob, ctx: TrialContext, info: TaskInfo) -> Any:
    from automl_bench.space import load_search_space

    space = load_search_space(ctx.spaces[job.space])
    config = {**job.config, "random_state": init_seed(job.seed, job.phase)}
    return space.build(config, info)


def score(
    estimator: Any, x: npt.NDArray[Any], y: npt.NDArray[Any], ctx: TrialContext, info: TaskInfo
) -> float:
    """The metric's value of a fitted estimator on ``(x, y)``."""
    from automl_bench.metric_values import metric_value

    return metric_value(context_metric(ctx), y, predictions(estimator, x, info))


def predictions(estimator: Any, x: npt.NDArray[Any], info: TaskInfo) -> npt.NDArray[Any]:
    """Class probabilities over all ``info.num_classes`` classes (a class the training split
    lacked gets probability 0), or predicted values."""
    if info.problem == "regression":
        return np.asarray(estimator.predict(x), dtype=np.float64)
    proba = estimator.predict_proba(x)
    full = np.zeros((len(x), info.num_classes))
    full[:, np.asarray(estimator.classes_, dtype=np.int64)] = proba
    return full


def save_estimator(estimator: Any, job: TrialJob) -> Path:
    """A final estimator pickled (``model.pkl``) with its configuration, in a folder of its own."""
    import json

    out = Path(tempfile.mkdtemp(prefix="automl-bench-model-"))
    (out / MODEL_FILE).write_bytes(pickle.dumps(estimator))
    (out / "config.json").write_text(json.dumps({"space": job.space, "config": job.config}))
    return out


def predict_for(estimator: Any, x: npt.NDArray[Any], batch_size: int, seconds: float) -> int:
    """Predict batches of ``x`` until ``seconds`` have passed (at least one pass); returns the
    number of predictions made (as ``automl_bench.inference.predict_for`` does for a net)."""
    batches = [x[i : i + batch_size] for i in range(0, len(x), batch_size)]
    batches = [b for b in batches if len(b) == batch_size] or batches  # full batches only
    made = 0
    deadline = time.perf_counter() + seconds
    while True:
        for batch in batches:
            estimator.predict(batch)
            made += len(batch)
        if time.perf_counter() >= deadline:
            return made


def _measure_inference(
    ended: _Fitted, ctx: TrialContext, meter: WindowMeter, threads: int, closing: dict[str, Any]
) -> None:
    """The final estimator's predictions at the deployment batch size, in their own window."""
    from threadpoolctl import threadpool_limits

    batch = ctx.deploy_batch_size
    try:
        with threadpool_limits(limits=threads):
            ended.estimator.predict(ended.x_test[:batch])  # warm-up
            with metered(meter, ctx.prices) as inference:
                made = predict_for(ended.estimator, ended.x_test, batch, ctx.inference_seconds)
        closing.update(inference.record.to_result(f"{INFERENCE}_"))
        closing.update(inference.record.scaled(1000 / made).to_metrics(f"{INFERENCE}_per_1k_"))
        closing[f"{INFERENCE}_predictions"] = made
        closing[f"{INFERENCE}_batch_size"] = batch
    except Exception as exc:  # the fitted, tested model stands; inference is marked failed
        closing[f"{INFERENCE}_failure_reason"] = failure_reason(exc)


def warm_up_estimator(job: TrialJob, ctx: TrialContext) -> None:
    """A worker's one-time start-up for estimator trials, outside any window: the data's first
    load, the estimator's imports and first fit, predictions and a pickle, on a few rows."""
    info, splits = _data(job, ctx)
    estimator = _build(job, ctx, info)
    n = min(WARM_UP_ROWS, len(splits.x_train))
    estimator.fit(splits.x_train[:n], splits.y_train[:n])
    score(estimator, splits.x_val[:n], splits.y_val[:n], ctx, info)
    predict_for(estimator, splits.x_test[: 2 * ctx.deploy_batch_size], ctx.deploy_batch_size, 0.0)
    pickle.dumps(estimator)
