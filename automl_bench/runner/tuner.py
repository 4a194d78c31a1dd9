"""Runs every trial of an experiment through one Ray Tune Tuner."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ray import tune
from ray.tune.experiment import Trial

from automl_bench.cost.record import CostRecord
from automl_bench.methods.warmstart import WarmStart
from automl_bench.metric import KNOWN
from automl_bench.outcome import TrialListener, TrialOutcome
from automl_bench.runner.ledger import Ledger
from automl_bench.runner.meters import RayWindowMeter
from automl_bench.runner.schedulers import StudyScheduler
from automl_bench.runner.searcher import StudySearcher
from automl_bench.runner.snapshot import put_back
from automl_bench.runner.watchdog import Watchdog, forget_killed, killed_result
from automl_bench.space import SearchSpace
from automl_bench.study import StudySpec
from automl_bench.trial import run_trial, warm_up_worker
from automl_bench.trial_job import SEARCH, TrialContext, TrialJob, context_metric

RETRIES_ON_LOST_WORKER = 2  # a trial's own exceptions are never retried (see _trainable)

# Tune's own bookkeeping keys, left out of what listeners and outcomes see.
_TUNE_KEYS = frozenset(
    {
        "config",
        "date",
        "done",
        "timestamp",
        "time_this_iter_s",
        "time_total_s",
        "pid",
        "time_since_restore",
        "iterations_since_restore",
        "training_iteration",
        "trial_id",
        "checkpoint_dir_name",
        "should_checkpoint",
        "experiment_tag",
    }
)


def _trainable(config: dict[str, Any], ctx: TrialContext) -> None:
    trial_id = str(tune.get_context().get_trial_id())
    ledger = Ledger(ctx.ledger_dir) if ctx.ledger_dir else None
    if ledger is not None and _replayed(ledger, trial_id):
        return
    meter = RayWindowMeter(ctx.cpus_per_trial, ctx.gpus_per_trial)
    reports = _TrialReports(trial_id, ledger, meter)
    job = TrialJob(**config)
    earlier = killed_result(trial_id) if ctx.timeout_s is not None else None
    if earlier is not None:  # an attempt ran past its time limit and was killed: say so, once
        reports.report(earlier, None)
        forget_killed(trial_id)
        return
    # The worker's one-time start-up, before the trial's window and its time limit: on the first
    # trial of this (reused) worker process it goes to idle / overhead, not to this trial.
    warm_up_worker(job, ctx)
    watchdog = Watchdog(trial_id, job.phase, ctx.timeout_s) if ctx.timeout_s else None
    try:
        run_trial(job, ctx, reports.report, meter, on_stopped=reports.on_stopped)
    except Exception:
        # The trial's own failure (an exception, a NaN loss), once its closing result has said
        # so, is an outcome, not an error for Tune: it ends normally, so that Tune's retries
        # (FailureConfig) are left for what kills a trial from outside (a lost node or worker).
        if not reports.closed:
            raise
    finally:
        if watchdog is not None:
            watchdog.done()
    if reports.stopped:
        # Leave the way Ray's own report would have: returning would make Ray report once more
        # on a session it has ended, and wait for ever.
        sys.exit(0)


def _replayed(ledger: Ledger, trial_id: str) -> bool:
    """A trial that ended before (the driver was killed before Tune saved that) reports what
    it left in the ledger, and is not run again."""
    found = ledger.replay(trial_id)
    if found is None:
        return False
    closing, kept = found
    checkpoint = tune.Checkpoint.from_directory(str(kept)) if kept is not None else None
    tune.report(closing, checkpoint=checkpoint)
    return True


@dataclass
class _TrialReports:
    """One trial's reports to Tune (a closing one also to the ledger), and how it ended: its
    closing result went out (``closed``), or its scheduler stopped it (``stopped``)."""

    trial_id: str
    ledger: Ledger | None
    meter: RayWindowMeter
    epochs: list[dict[str, Any]] = field(default_factory=list)  # every epoch, for the ledger
    closed: bool = False
    stopped: bool = False

    def report(self, metrics: dict[str, Any], model_dir: Path | None) -> None:
        self.epochs.extend(metrics.get("epoch_history", []))
        if self.ledger is not None and "trial_status" in metrics:
            self.ledger.record(self.trial_id, {**metrics, "epoch_history": self.epochs}, model_dir)
        if model_dir is None:
            tune.report(metrics)
        else:
            try:
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(str(model_dir)))
            finally:
                shutil.rmtree(model_dir, ignore_errors=True)
        if "trial_status" in metrics:
            self.closed = True

    def on_stopped(self, closing: dict[str, Any]) -> None:  # Tune takes no more reports from it
        closing["end_utc"] = datetime.now(UTC).isoformat()  # it is settled after the run
        self.meter.deposit(self.trial_id, closing)
        if self.ledger is not None:  # where a resumed driver finds it (this driver's meters went)
            self.ledger.record(self.trial_id, closing, None)
        self.stopped = True


class _NullListener:
    def trial_started(self, trial_id: str, job: TrialJob) -> None:
        pass

    def trial_result(self, trial_id: str, job: TrialJob, result: dict[str, Any]) -> None:
        pass

    def trial_finished(self, outcome: TrialOutcome) -> None:
        pass


def _job(trial: Trial) -> TrialJob:
    return TrialJob(**trial.config)


def _dirname(trial: Trial) -> str:
    job = _job(trial)
    study = job.study.replace("/", "-").replace(":", "-").replace("=", "")
    return f"{study}-{job.phase}-{trial.trial_id}"


def _clean(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in _TUNE_KEYS}


class _Events(tune.Callback):  # type: ignore[misc]
    """Turns Tune's trial events into plain outcomes for the listener."""

    def __init__(self, listener: TrialListener) -> None:
        self.listener = listener
        self.outcomes: list[TrialOutcome] = []
        # trials a scheduler stopped, waiting for the closing result they deposited
        self.stopped: dict[str, tuple[TrialJob, dict[str, Any]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks with the experiment state; the listener (an MLflow client,
        # a live display) belongs to this driver process only.
        return {"outcomes": []}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.outcomes = state["outcomes"]
        self.stopped = {}
        self.listener = _NullListener()

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        self.listener.trial_started(trial.trial_id, _job(trial))

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: Any
    ) -> None:
        self.listener.trial_result(trial.trial_id, _job(trial), _clean(result))

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        result = _clean(trial.last_result or {})
        if "trial_status" not in result and _job(trial).phase == SEARCH:
            self.stopped[trial.trial_id] = (_job(trial), result)  # its scheduler stopped it
            return
        checkpoint = trial.checkpoint
        self._finish(
            TrialOutcome(
                trial_id=trial.trial_id,
                job=_job(trial),
                status=str(result.get("trial_status", "failed")),
                result=result,
                reason=result.get("failure_reason"),
                model_path=checkpoint.path if checkpoint is not None else None,
            )
        )

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        result = _clean(trial.last_result or {})
        reason = result.get("failure_reason") if "trial_status" in result else None
        if reason is None:  # died before its closing report (worker lost, killed...)
            error = trial.get_error()
            reason = str(error).strip().splitlines()[-1][:500] if error else "unknown error"
            result = {"trial_status": "failed"}
        self._finish(
            TrialOutcome(trial.trial_id, _job(trial), "failed", result, reason=str(reason))
        )

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """A resumed run: the trials that had ended before the driver was killed (Tune restored
        them as ended and starts them no more) become outcomes too, as they ended."""
        seen = {o.trial_id for o in self.outcomes} | set(self.stopped)
        for trial in trials:
            if trial.trial_id in seen:
                continue
            if trial.status == Trial.TERMINATED:
                self.on_trial_complete(0, trials, trial)
            elif trial.status == Trial.ERROR:
                self.on_trial_error(0, trials, trial)

    def settle_stopped(self, deposits: dict[str, dict[str, Any]]) -> None:
        """Finish the trials the scheduler stopped, with the closing results they deposited:
        their cost and the epochs they ran. One that never deposited (its worker went first) is
        stopped at its last report, its energy left in the unclosed line."""
        for trial_id, (job, last) in sorted(self.stopped.items()):
            closing = deposits.get(trial_id)
            if closing is not None:
                result = _clean(closing)
                reason = str(closing.get("stop_reason", "stopped by the scheduler"))
            else:
                result = {**last, "trial_status": "stopped", "epochs_run": last.get("epoch")}
                reason = "stopped by the scheduler; its cost never reached the driver"
            self._finish(TrialOutcome(trial_id, job, "stopped", result, reason=reason))
        self.stopped.clear()

    def _finish(self, outcome: TrialOutcome) -> None:
        self.outcomes.append(outcome)
        self.listener.trial_finished(outcome)


def run_trials(
    studies: list[StudySpec],
    spaces: dict[str, SearchSpace],
    ctx: TrialContext,
    listener: TrialListener,
    *,
    storage_path: Path,
    name: str,
    max_concurrent_trials: int,
    collect: Callable[[set[str]], dict[str, dict[str, Any]]] | None = None,
    cost_objective: str = "params",
    warmstart: WarmStart | None = None,
    resume: bool = False,
) -> tuple[list[TrialOutcome], dict[str, CostRecord]]:
    """Every study's search trials and final training, concurrently.

    Returns every trial's outcome, and per study what its method spent deciding (the sampler's
    work in this driver, metered as windows holding one CPU of this node). ``collect`` fetches
    the closing results that trials stopped by a scheduler deposited, by trial id.

    ``resume``: carry on the Tune run ``name`` under ``storage_path`` where a killed driver left
    it (Tuner.restore): trials that had ended stay as they were, trials that were running start
    again (or report what they left in the ledger), and the searcher goes on from its saved
    state (runner/snapshot.py). With no saved state (no trial had started), the run starts from
    the beginning under that name.
    """
    # A failed trial is reported once, by the listener, with its reason; not as Tune's traceback.
    logging.getLogger("ray.tune.execution.tune_controller").setLevel(logging.CRITICAL)
    searcher = StudySearcher(
        studies,
        spaces,
        RayWindowMeter(1.0, 0.0),
        ctx.prices,
        cost_objective,
        KNOWN[context_metric(ctx)],
        warmstart=warmstart,
        max_concurrent=max_concurrent_trials,
    )
    scheduler = StudyScheduler(studies, ctx.epochs)
    events = _Events(listener)
    ledger = Ledger(storage_path / "ledger" / name)
    ctx = dataclasses.replace(ctx, ledger_dir=str(ledger.folder))
    resources = {"cpu": ctx.cpus_per_trial, "gpu": ctx.gpus_per_trial}
    trainable = tune.with_resources(tune.with_parameters(_trainable, ctx=ctx), resources)
    searcher.snapshot = ledger.folder / "snapshot.pkl"
    if resume and put_back(searcher.snapshot, storage_path / name):
        tuner = _restored_tuner(str(storage_path / name), trainable, searcher, scheduler, events)
    else:
        tuner = _new_tuner(trainable, searcher, scheduler, events, storage_path, name)
    tuner.fit()
    if events.stopped:
        _settle_stopped(events, ledger, collect)
    return events.outcomes, dict(searcher.decide)


def _settle_stopped(
    events: _Events,
    ledger: Ledger,
    collect: Callable[[set[str]], dict[str, dict[str, Any]]] | None,
) -> None:
    """Finish the trials a scheduler stopped with what they deposited on the node meters; a
    killed driver's meters went with it, and the ledger holds the closings of those it had
    stopped."""
    ids = set(events.stopped)
    deposits = {**ledger.stopped(ids), **(collect(ids) if collect is not None else {})}
    events.settle_stopped(deposits)


def _restored_tuner(
    path: str,
    trainable: Any,
    searcher: StudySearcher,
    scheduler: StudyScheduler,
    events: _Events,
) -> tune.Tuner:
    """The Tune run at ``path``, as a killed driver left it, driven by this driver's own
    searcher, scheduler and callbacks."""
    tuner = tune.Tuner.restore(
        path, trainable, resume_unfinished=True, resume_errored=False, restart_errored=False
    )
    # Tune unpickles the searcher, scheduler and callbacks the killed driver started with; this
    # driver's own take their place (its meter, its listener), and Tune then loads the
    # searcher's saved state into ours (StudySearcher.restore).
    internal = tuner._local_tuner
    if internal is None:  # only under Ray Client (ray://), which we do not use
        raise RuntimeError("--resume needs a driver on the cluster, not a ray:// client")
    internal._tune_config.search_alg = searcher
    internal._tune_config.scheduler = scheduler
    internal.get_run_config().callbacks = [events]
    return tuner


def _new_tuner(
    trainable: Any,
    searcher: StudySearcher,
    scheduler: StudyScheduler,
    events: _Events,
    storage_path: Path,
    name: str,
) -> tune.Tuner:
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=scheduler,  # FIFO for every trial no multi-fidelity study routes
            num_samples=searcher.total_trials,
            # no max_concurrent_trials: the searcher holds to it (StudySearcher.max_concurrent)
            reuse_actors=True,
            trial_dirname_creator=_dirname,
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(storage_path),
            callbacks=[events],
            verbose=0,
            # a trial whose worker or node was lost is run again from the start, elsewhere
            failure_config=tune.FailureConfig(max_failures=RETRIES_ON_LOST_WORKER, fail_fast=False),
        ),
    )
