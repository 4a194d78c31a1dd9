"""One trial on a worker: load the task, build the model, train, meter, report.

A search trial trains on the train split and is scored on validation. A final training
retrains the chosen configuration on train + validation and is scored once on test, then its
inference is measured at the deployment batch size (the ``inference`` phase, its own window).
Every phase is a window on the node meter: its closing result carries the phase's cost record
(and, for a final training, the inference window's under ``inference_``).

No Ray here: the runner hands ``run_trial`` a ``report`` function (Tune's, in practice).
Every trial reports its epochs as it trains (each result carries the epochs since the last one
in ``epoch_history``, the newest also at the top level), then one closing result with its cost
and status.
A trial that fails reports its reason and its cost, then raises.

A trial a multi-fidelity scheduler stops can report nothing more (Ray ends its session: the
next report raises SystemExit). It ends at once, its window closed, and hands its closing result,
status ``stopped`` with the epochs it ran, to ``on_stopped`` (the runner leaves it with the node's
meter for the driver). A method with a zero-cost proxy (``naswot``) scores its search trials at
initialisation on one training batch instead of training them.

Costs that do not depend on run order: a worker process pays its one-time start-up (imports,
thread pools, first kernels, the first load of a task's data; on a GPU the CUDA context) in
``warm_up_worker``, before the first window it opens, so that energy lands in the node's idle /
overhead line. A trial's window then holds only its own work, the same whether it runs first or
last on its worker. While a report waits for the driver to take it, the trial steps out of its
window (``Measurement.paused``): that wait is the driver's bookkeeping, not the trial's work.
"""

from __future__ import annotations

import io
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_bench.cost.window import Measurement, WindowMeter, metered
from automl_bench.seeding import init_seed
from automl_bench.tasks.families import META_FAMILIES
from automl_bench.trial_job import (
    FINAL,
    INFERENCE,
    PHASES,
    SEARCH,
    Reporter,
    StoppedByScheduler,
    TrialContext,
    TrialJob,
    TrialTimeout,
    check_time,
    context_metric,
    failure_reason,
    save_model,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import torch

    from automl_bench.methods.base import Method
    from automl_bench.tasks.base import TaskData
    from automl_bench.train import EpochMetrics, Objective, TrainSettings

__all__ = [  # the trial's own names, and what callers take from here out of ``trial_job``
    "FINAL",
    "INFERENCE",
    "PHASES",
    "PROXY_BATCH",
    "SEARCH",
    "Reporter",
    "StoppedByScheduler",
    "TrialContext",
    "TrialJob",
    "TrialTimeout",
    "check_time",
    "failure_reason",
    "proxy_activations",
    "run_trial",
    "save_model",
    "warm_up_worker",
]

PROXY_BATCH = 64  # training examples a zero-cost proxy scores a configuration on


def proxy_activations() -> tuple[type[Any], ...]:
    """The units NASWOT codes: the ReLU family (the paper's), and GELU, SiLU and tanh by the
    sign of their input (the same code a ReLU would give), so spaces that choose their
    activation are scored on equal terms."""
    from torch import nn

    from automl_bench.naswot import default_activations

    return (*default_activations(), nn.GELU, nn.SiLU, nn.Tanh)


WARM_UP_BATCHES = 2  # training batches a worker's warm-up steps through (and validates on)
_warmed: set[tuple[str, ...]] = set()  # warmed up in this process: (task, space file, data folder)


def warm_up_worker(job: TrialJob, ctx: TrialContext) -> bool:
    """Pay this process's one-time start-up for ``job``'s kind of trial, outside any window.

    Once per process and (task, search space, data folder): the imports, the thread pools, the
    task's first data load (its cache file generated, read once into the OS's page cache; a folder
    task's decoded images held in memory), the model built on the device (on a GPU, the CUDA
    context) and the first kernels of a training step, a validation pass, a test pass, inference
    at the deployment batch size and a saved state; for a meta-learning family, two
    meta-iterations and a scoring of two tasks. Every trial then pays the same for its own data,
    build, training and evaluation, first on its worker or last. Returns whether it warmed up
    now. It never fails a trial: what goes wrong here goes wrong again, and is recorded, inside
    the trial's window.
    """
    key = (ctx.task, ctx.spaces.get(job.space, job.space), str(ctx.data_dir))
    if key in _warmed:
        return False
    _warmed.add(key)
    try:
        import torch
        from threadpoolctl import threadpool_limits

        threads = max(1, int(ctx.cpus_per_trial))
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads), torch.random.fork_rng(devices=[]):
            if ctx.task in META_FAMILIES:
                _warm_up_meta(job, ctx)
            elif job.space in ctx.estimators:
                from automl_bench.estimator_trial import warm_up_estimator

                warm_up_estimator(job, ctx)
            else:
                _warm_up_training(job, ctx)
    except Exception:  # the trial meets it again, in its window, with its reason
        pass
    return True


def _warm_up_training(job: TrialJob, ctx: TrialContext) -> None:
    import torch

    from automl_bench.methods import get_method
    from automl_bench.space import load_search_space
    from automl_bench.tasks import load_task

    use_gpu = ctx.gpus_per_trial > 0 and torch.cuda.is_available()
    device = torch.device("cuda" if use_gpu else "cpu")
    if use_gpu:
        torch.cuda.get_device_name(device)
    space = load_search_space(ctx.spaces[job.space])
    data = load_task(ctx.task, job.seed, Path(ctx.cache_dir), device, ctx.data_dir, ctx.table)
    method = get_method(job.method)
    for config in (dict(job.config), dict(space.baseline)):  # the trial's, else the baseline's
        try:
            _warm_up_steps(space, config, data, method, ctx, device)
            return
        except Exception:  # a configuration that cannot be built or trained: try the next
            continue


def _warm_up_steps(
    space: Any, config: dict[str, Any], data: Any, method: Any, ctx: TrialContext, device: Any
) -> None:
    """What a trial of ``config`` does, on a few batches: build, count FLOPs, train, validate,
    test, predict at the deployment batch size, save; and the method's proxy or one-shot step."""
    import torch

    from automl_bench.deploy.measure import flops_per_example
    from automl_bench.inference import predict_for, warm_up
    from automl_bench.train import Objective, TrainSettings, evaluate, train

    model = space.build(dict(config), data.info).to(device)
    settings = TrainSettings.from_config(config, 1)
    objective = Objective.for_targets(context_metric(ctx), data.info.problem, data.y_train)
    flops_per_example(model, data.x_train[:1])
    n = WARM_UP_BATCHES * settings.batch_size
    x, y, xv, yv = data.x_train[:n], data.y_train[:n], data.x_val[:n], data.y_val[:n]
    train(model, x, y, xv, yv, settings, 0, objective=objective)
    evaluate(model, data.x_test[:n], data.y_test[:n], objective=objective)
    batch = ctx.deploy_batch_size
    warm_up(model, data.x_test, batch)
    predict_for(model, data.x_test[: 2 * batch], batch, 0.0)
    torch.save(model.state_dict(), io.BytesIO())
    if method.proxy is not None:
        _naswot(model, data.x_train, 0)
    if method.one_shot is not None and space.supernet is not None:
        from automl_bench.methods.darts import DartsSettings, darts_search

        darts = DartsSettings(epochs=1, order=method.one_shot)
        supernet = space.supernet(dict(config), data.info).to(device)
        m = WARM_UP_BATCHES * darts.batch_size
        x, y = data.x_train[:m], data.y_train[:m]
        darts_search(supernet, x, y, data.x_val[:m], data.y_val[:m], darts, 0)


def _warm_up_meta(job: TrialJob, ctx: TrialContext) -> None:
    import dataclasses

    from automl_bench.meta.learners import META_VAL_SEED, MetaBudget, meta_learn

    budget = MetaBudget.from_config(ctx.meta_budget or {})
    small = dataclasses.replace(budget, iterations=2, log_every=1, test_tasks=2)
    learner = meta_learn(
        META_FAMILIES[ctx.task], job.config, small, 0, lambda i, loss: None, Path(ctx.cache_dir)
    )
    learner.score(META_VAL_SEED, 2, budget.eval_steps)
    learner.state()


def run_trial(
    job: TrialJob,
    ctx: TrialContext,
    report: Reporter,
    meter: WindowMeter,
    on_stopped: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Run ``job`` in its window: its epochs reported as it trains, then its closing result
    (cost, status, what it scored), then, if it failed, its exception raised."""
    warm_up_worker(job, ctx)  # the process's one-time start-up, in no window (idle / overhead)
    if ctx.task in META_FAMILIES:  # meta-training, not training: its own trial body
        from automl_bench.meta.trial import run_meta_trial

        run_meta_trial(job, ctx, report, meter)
        return
    if job.space in ctx.estimators:  # a table's reference model: fitted, not trained
        from automl_bench.estimator_trial import run_estimator_trial

        run_estimator_trial(job, ctx, report, meter)
        return

    import torch
    from threadpoolctl import threadpool_limits

    threads = max(1, int(ctx.cpus_per_trial))
    torch.set_num_threads(threads)
    device = _device(ctx)
    closing: dict[str, Any] = {"phase": job.phase, "trial_status": "ok"}
    if device.type == "cuda":  # which card the GPU time was spent on (prices are per card)
        closing["gpu_name"] = torch.cuda.get_device_name(device)
    with threadpool_limits(limits=threads), metered(meter, ctx.prices) as measurement:
        # the time limit counts from inside the metered window: a trial stopped at its limit
        # has a metered wall-clock of at least the limit
        epochs = _EpochReports(job.phase, report, measurement, ctx.report_interval_s, ctx.timeout_s)
        closing["torch_threads"] = torch.get_num_threads()  # capped at the CPUs it was given
        ended = _run_window(job, ctx, device, epochs, closing)
    if ended.error is not None:
        _let_go(ended.error, device)
    closing["epoch_history"] = epochs.pending
    closing.update(measurement.record.to_result())
    if ended.stopped:
        if on_stopped is not None:
            on_stopped(closing)
        return
    if job.phase == FINAL and ended.error is None:
        _measure_inference(ended, ctx, meter, threads, closing)
    report(closing, ended.model_dir)
    if ended.error is not None:
        raise ended.error


@dataclass
class _EpochReports:
    """A trial's epochs on their way to the driver: sent at most every ``interval_s`` (the rest
    wait in ``pending``), each send out of the trial's window and off its time limit."""

    phase: str
    report: Reporter
    measurement: Measurement
    interval_s: float
    timeout_s: float | None
    started: float = field(default_factory=time.monotonic)  # the time limit counts from here
    last_sent: float = field(default_factory=time.monotonic)
    pending: list[dict[str, float]] = field(default_factory=list)  # epochs not reported yet
    epochs_done: int = 0

    def __call__(self, m: EpochMetrics) -> None:
        self.epochs_done = m.epoch
        self.pending.append(m.to_dict())
        check_time(self.started, self.timeout_s)
        if time.monotonic() - self.last_sent >= self.interval_s:
            self._send(m.epoch)

    def _send(self, epoch: int) -> None:
        before = self.measurement.paused_s
        try:
            # waiting for the driver to take the report is not this trial's work: out of its
            # window (idle / overhead), and off its time limit
            with self.measurement.paused():
                self.report(
                    {"phase": self.phase, **self.pending[-1], "epoch_history": self.pending[:]},
                    None,
                )
        except SystemExit:  # Ray ends a stopped trial's session this way
            raise StoppedByScheduler(f"stopped after epoch {epoch}") from None
        finally:
            self.started += self.measurement.paused_s - before
        self.pending.clear()
        self.last_sent = time.monotonic()


@dataclass(frozen=True)
class _Ended:
    """How a trial's window ended: with its trained model (and, for a final training, the
    folder it was saved in), stopped by its scheduler, or failed."""

    model: Any = None
    x_test: Any = None  # the test split, for the inference window
    model_dir: Path | None = None
    error: Exception | None = None
    stopped: bool = False


@dataclass(frozen=True)
class _Built:
    """A trial's data, method and model, ready to train."""

    data: TaskData
    method: Method
    model: Any
    settings: TrainSettings
    seed: int
    objective: Objective


def _device(ctx: TrialContext) -> torch.device:
    import torch

    use_gpu = ctx.gpus_per_trial > 0 and torch.cuda.is_available()
    return torch.device("cuda" if use_gpu else "cpu")


def _run_window(
    job: TrialJob,
    ctx: TrialContext,
    device: torch.device,
    epochs: _EpochReports,
    closing: dict[str, Any],
) -> _Ended:
    """Train and test inside the window; a stop or a failure is recorded in ``closing``."""
    try:
        return _train_and_test(job, ctx, device, epochs, closing)
    except StoppedByScheduler as exc:
        closing.update(trial_status="stopped", stop_reason=str(exc), epochs_run=epochs.epochs_done)
        val_key = f"val_{context_metric(ctx)}"
        if epochs.pending and epochs.pending[-1].get(val_key) is not None:
            closing[val_key] = epochs.pending[-1][val_key]
        return _Ended(stopped=True)
    except Exception as exc:  # recorded with its reason; the study goes on
        closing["trial_status"] = "failed"
        closing["failure_reason"] = failure_reason(exc)
        closing["epochs_run"] = epochs.epochs_done  # what it ran before it failed
        return _Ended(error=exc)


def _train_and_test(
    job: TrialJob,
    ctx: TrialContext,
    device: torch.device,
    epochs: _EpochReports,
    closing: dict[str, Any],
) -> _Ended:
    from automl_bench.deploy.measure import flops_per_example
    from automl_bench.train import evaluate

    # which worker, and when its training began and ended (Unix seconds): on a reused worker,
    # one trial's end to the next one's start is the per-trial fixed overhead
    closing["worker_pid"] = os.getpid()
    built = _build(job, ctx, device)
    model, data = built.model, built.data
    closing["params"] = sum(p.numel() for p in model.parameters())
    closing["flops"] = flops_per_example(model, data.x_train[:1])  # for constrained search
    closing["train_start_unix"] = time.time()
    history = _fit(job, ctx, built, epochs, closing)
    closing["train_end_unix"] = time.time()
    closing["epochs_run"] = len(history)
    if history:
        closing["train_loss"] = history[-1].train_loss
    if job.phase != FINAL:
        return _Ended(model, data.x_test)
    test_loss, test_value = evaluate(model, data.x_test, data.y_test, objective=built.objective)
    closing["test_loss"], closing[f"test_{context_metric(ctx)}"] = test_loss, test_value
    return _Ended(model, data.x_test, save_model(model.state_dict(), job, built.objective))


def _build(job: TrialJob, ctx: TrialContext, device: torch.device) -> _Built:
    """Load the task, seed torch, build the model (a one-shot search's: the supernet)."""
    import torch

    from automl_bench.methods import get_method
    from automl_bench.space import load_search_space
    from automl_bench.tasks import load_task
    from automl_bench.train import Objective, TrainSettings

    space = load_search_space(ctx.spaces[job.space])
    data = load_task(ctx.task, job.seed, Path(ctx.cache_dir), device, ctx.data_dir, ctx.table)
    seed = init_seed(job.seed, job.phase)
    torch.manual_seed(seed)
    method = get_method(job.method)
    one_shot = method.one_shot if job.phase == SEARCH else None
    if one_shot is not None and space.supernet is not None:
        model = space.supernet(dict(job.config), data.info).to(device)
    else:
        model = space.build(dict(job.config), data.info).to(device)
    settings = TrainSettings.from_config(job.config, ctx.epochs)
    objective = Objective.for_targets(context_metric(ctx), data.info.problem, data.y_train)
    return _Built(data, method, model, settings, seed, objective)


def _fit(
    job: TrialJob, ctx: TrialContext, built: _Built, epochs: _EpochReports, closing: dict[str, Any]
) -> list[Any]:
    """Train as the method and phase say; returns the epochs' history (none for a proxy)."""
    import torch

    from automl_bench.train import train

    data, model, seed = built.data, built.model, built.seed
    one_shot = built.method.one_shot if job.phase == SEARCH else None
    proxy = built.method.proxy if job.phase == SEARCH else None
    if one_shot is not None:
        return _one_shot(model, data, one_shot, ctx.epochs, seed, epochs, closing)
    if proxy is not None:  # scored untrained
        closing[f"{proxy}_score"] = _naswot(model, data.x_train, seed)
        return []
    if job.phase == FINAL:  # retrained on train + validation, then tested once
        x = torch.cat([data.x_train, data.x_val])
        y = torch.cat([data.y_train, data.y_val])
        return train(model, x, y, None, None, built.settings, seed, epochs, built.objective)
    history = train(
        model,
        data.x_train,
        data.y_train,
        data.x_val,
        data.y_val,
        built.settings,
        seed,
        epochs,
        built.objective,
    )
    closing[f"val_{context_metric(ctx)}"] = history[-1].val_value
    return history


def _let_go(error: BaseException, device: torch.device) -> None:
    """What a failed trial held goes now, not when Tune lets go of the error: on a shared GPU
    (trials packed, no memory isolation) a trial that ran out of memory must not keep its
    neighbours, or the next trial of this reused worker, short of it."""
    traceback.clear_frames(error.__traceback__)
    if device.type == "cuda":
        import torch

        torch.cuda.empty_cache()


def _measure_inference(
    ended: _Ended, ctx: TrialContext, meter: WindowMeter, threads: int, closing: dict[str, Any]
) -> None:
    """The final model's inference at the deployment batch size, in its own window."""
    from threadpoolctl import threadpool_limits

    from automl_bench.inference import predict_for, warm_up

    batch = ctx.deploy_batch_size
    try:
        with threadpool_limits(limits=threads):
            warm_up(ended.model, ended.x_test, batch)
            with metered(meter, ctx.prices) as inference:
                made = predict_for(ended.model, ended.x_test, batch, ctx.inference_seconds)
        closing.update(inference.record.to_result(f"{INFERENCE}_"))
        closing.update(inference.record.scaled(1000 / made).to_metrics(f"{INFERENCE}_per_1k_"))
        closing[f"{INFERENCE}_predictions"] = made
        closing[f"{INFERENCE}_batch_size"] = batch
    except Exception as exc:  # the trained, tested model stands; inference is marked failed
        closing[f"{INFERENCE}_failure_reason"] = failure_reason(exc)


def _naswot(model: Any, x_train: Any, seed: int) -> float:
    """The NASWOT score of ``model`` at initialisation on PROXY_BATCH training examples drawn
    by ``seed``."""
    import torch

    from automl_bench.naswot import naswot_score

    order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed))
    batch = x_train[order[:PROXY_BATCH].to(x_train.device)]
    return naswot_score(model, batch, activations=proxy_activations())


def _one_shot(
    supernet: Any,
    data: Any,
    order: int,
    epochs: int,
    seed: int,
    on_epoch: Callable[[Any], None],
    closing: dict[str, Any],
) -> list[Any]:
    """DARTS on the space's supernet: weights on the train split, architecture weights on the
    validation split (DARTS's two halves); the derived configuration goes in ``closing``."""
    from automl_bench.methods.darts import DartsSettings, darts_search
    from automl_bench.train import EpochMetrics

    def each(epoch: Any) -> None:
        on_epoch(EpochMetrics(epoch.epoch, epoch.train_loss, epoch.val_loss, epoch.val_accuracy))

    result = darts_search(
        supernet,
        data.x_train,
        data.y_train,
        data.x_val,
        data.y_val,
        DartsSettings(epochs=epochs, order=order),
        seed,
        each,
    )
    last = result.history[-1]
    closing["val_accuracy"] = last.val_accuracy  # the supernet's, on the split alpha was fit on
    closing["derived_config"] = result.config
    closing["skip_connect_edges"] = last.skip_connect_edges
    closing["alpha_softmax"] = last.alpha_softmax
    return result.history
