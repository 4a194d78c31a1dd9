"""One Tune searcher for all the studies of an experiment.

Each searching study keeps its own OptunaSearch (its own sampler, seed and trial history); this
searcher only decides which study suggests next, so that one Tuner runs the whole experiment:
Ray workers, their metering and ``reuse_actors`` are set up once, and the cluster stays busy
across study boundaries. When a study's search trials have all ended, its final job (the best
configuration by validation accuracy, retrained) is suggested; a study that does not search
(``baseline``, ``defaults``) has only that.

What a method spends deciding is part of its search cost: each sampler call (``suggest``, and
telling it a result) is metered as a window on this node's meter, added up per study in
``decide``.

A ``warmstart`` study searches its space narrowed to the bounding box of earlier studies' best
configurations, and those configurations are its first trials (``methods/warmstart.py``; Ray's
OptunaSearch enqueues ``points_to_evaluate`` in the Optuna study, define-by-run spaces included).
"""

from __future__ import annotations

import logging
import pickle
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from automl_bench.cost.prices import Prices
from automl_bench.cost.record import CostRecord
from automl_bench.cost.window import WindowMeter, metered
from automl_bench.meta.configs import algorithm_config
from automl_bench.methods import get_method
from automl_bench.methods.warmstart import WarmStart
from automl_bench.metric import ACCURACY, Metric
from automl_bench.runner.snapshot import write_snapshot
from automl_bench.space import SearchSpace
from automl_bench.study import StudySpec
from automl_bench.trial_job import FINAL, SEARCH, TrialJob

COST_OBJECTIVES = ("params", "flops")  # reported by every search trial, minimised
# Optuna's words when a step's value is reported twice (optuna/trial/_trial.py, Trial.report)
REPORTED_AGAIN = r"The reported value is ignored because this `step=\d+` is already reported"


def study_metric(method: str, metric: Metric = ACCURACY) -> tuple[str, str]:
    """What a study's search trials are ranked by, and Ray's mode: the task's validation
    metric, or a proxy's score (higher is better)."""
    proxy = get_method(method).proxy
    return (f"{proxy}_score", "max") if proxy else (metric.val_key, metric.mode)


logger = logging.getLogger(__name__)


def _optuna_search(
    study: StudySpec,
    spaces: dict[str, SearchSpace],
    metric: Metric,
    cost_objective: str,
    warmstart: WarmStart | None,
) -> OptunaSearch | None:
    """The Optuna search of a study whose method samples configurations (none for a one-shot
    method, a method that does not search, or a study with no search trials)."""
    method = get_method(study.method)
    if method.one_shot is not None or method.make_sampler is None or study.n_trials <= 0:
        return None
    # a define-by-run space ignores TuneConfig's metric/mode: given here
    ranked, mode = study_metric(study.method, metric)
    objectives: str | list[str] = ranked
    modes: str | list[str] = mode
    if method.multi_objective:
        objectives, modes = [metric.val_key, cost_objective], [metric.mode, "min"]
    space = spaces[study.space].space
    points: list[dict[str, Any]] | None = None
    if method.warmstart:
        if warmstart is None:
            raise ValueError(
                f"study {study.key}: method {study.method} needs a warm start "
                "(load_warmstart from search.warmstart_from)"
            )
        space, points = warmstart.space(space), warmstart.configs
    return OptunaSearch(
        space=space,
        metric=objectives,
        mode=modes,
        points_to_evaluate=points,  # enqueued: the study's first trials
        sampler=method.make_sampler(study.seed, study.n_trials),
    )


class StudySearcher(Searcher):  # type: ignore[misc]
    def __init__(
        self,
        studies: list[StudySpec],
        spaces: dict[str, SearchSpace],
        meter: WindowMeter,
        prices: Prices,
        cost_objective: str = "params",
        metric: Metric = ACCURACY,
        warmstart: WarmStart | None = None,
        max_concurrent: int = 0,
    ) -> None:
        super().__init__(metric=metric.val_key, mode=metric.mode)
        # Trials at once: enforced here, not by Tune's ConcurrencyLimiter, whose record of live
        # trials is saved apart from this searcher's and, restored from another save, drops
        # completions (a resumed run then waits for ever). 0: no limit.
        self.max_concurrent = max_concurrent
        self._live: set[str] = set()  # suggested, not yet complete
        self._task_metric = metric
        self._meter, self._prices = meter, prices
        self.decide: dict[str, CostRecord] = {}  # study key -> what its sampler's work cost
        self._studies = {s.key: s for s in studies}
        self._spaces = spaces
        self._optuna: dict[str, OptunaSearch] = {}
        for study in studies:
            found = _optuna_search(study, spaces, metric, cost_objective, warmstart)
            if found is not None:
                self._optuna[study.key] = found
        self._suggested = {k: 0 for k in self._studies}
        self._ended = {k: 0 for k in self._studies}
        self._best: dict[str, tuple[float, dict[str, Any]]] = {}
        self._final_emitted: set[str] = set()
        self._jobs: dict[str, TrialJob] = {}  # trial id -> what it was given
        # where each save also goes, with Tune's trial list, as one file (runner/snapshot.py)
        self.snapshot: Path | None = None

    @property
    def total_trials(self) -> int:
        """An upper bound for Tune's ``num_samples``: every search trial plus one final each."""
        return sum(s.n_trials + 1 for s in self._studies.values())

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:  # type: ignore[override]
        if self.max_concurrent and len(self._live) >= self.max_concurrent:
            return None
        for key, study in self._studies.items():
            if key in self._final_emitted or self._ended[key] < study.n_trials:
                continue
            self._final_emitted.add(key)
            if study.n_trials > 0 and key not in self._best:
                logger.warning("study %s: every search trial failed; no final training", key)
                continue
            config = self._best[key][1] if study.n_trials > 0 else self._fixed(study)
            return self._job(trial_id, study, FINAL, config)
        open_studies = [k for k, s in self._studies.items() if self._suggested[k] < s.n_trials]
        for key in open_studies:  # a one-shot study's one search trial: its supernet
            study = self._studies[key]
            if get_method(study.method).one_shot:
                self._suggested[key] += 1
                return self._job(trial_id, study, SEARCH, self._spaces[study.space].baseline)
        if open_studies:
            # The study with the fewest trials in flight: each stays close to sequential.
            key = min(open_studies, key=lambda k: self._suggested[k] - self._ended[k])
            with metered(self._meter, self._prices) as spent:
                sampled = self._optuna[key].suggest(trial_id)
            self._charge(key, spent.record)
            if sampled is None:
                return None
            self._suggested[key] += 1
            return self._job(trial_id, self._studies[key], SEARCH, sampled)
        if len(self._final_emitted) == len(self._studies):
            return Searcher.FINISHED  # type: ignore[no-any-return]
        return None  # wait for running trials to end

    def _fixed(self, study: StudySpec) -> dict[str, Any]:
        """A study without search trains one fixed point: the space's baseline or defaults, with
        a meta-learning method's own settings over it."""
        method = get_method(study.method)
        config = self._spaces[study.space].fixed_point(method.fixed)
        return algorithm_config(method.meta, config) if method.meta else config

    def _job(
        self, trial_id: str, study: StudySpec, phase: str, config: dict[str, Any]
    ) -> dict[str, Any]:
        job = TrialJob(
            study=study.key,
            method=study.method,
            seed=study.seed,
            phase=phase,
            space=study.space,
            config=dict(config),
        )
        self._jobs[trial_id] = job
        self._live.add(trial_id)
        return asdict(job)

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if trial_id not in self._live:  # ended already (a resumed trial's ledger replay)
            return
        job = self._jobs[trial_id]
        method = get_method(job.method)
        # Optuna takes no intermediate values on several objectives
        single = not method.multi_objective and method.proxy is None and job.study in self._optuna
        if (
            single
            and job.phase == SEARCH
            and "epoch" in result
            and self._task_metric.val_key in result
        ):
            with warnings.catch_warnings():
                # a trial run again (cut short, then --resume; a lost worker) reports its first
                # epochs again: Optuna keeps the values it has and warns, which is expected here
                warnings.filterwarnings("ignore", REPORTED_AGAIN, UserWarning)
                self._optuna[job.study].on_trial_result(trial_id, result)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        if trial_id not in self._live:  # told once: a resumed run may end a trial again
            return
        self._live.discard(trial_id)
        job = self._jobs[trial_id]
        key = job.study
        if job.phase != SEARCH:
            return
        # a trial that failed on its own ends normally for Tune, its closing result saying so
        error = error or (result or {}).get("trial_status") == "failed"
        if key in self._optuna:
            with metered(self._meter, self._prices) as spent:
                self._optuna[key].on_trial_complete(
                    trial_id, None if error else result, error=error
                )
            self._charge(key, spent.record)
        self._ended[key] += 1
        # a trial the scheduler stopped reaches Optuna as COMPLETE with its last value (Ray's
        # OptunaSearch does that); only trials that ran their full budget can be the best
        if error or not result or result.get("trial_status") != "ok":
            return
        ranked, mode = study_metric(job.method, self._task_metric)
        value = float(result[ranked])
        # a one-shot search hands back the configuration it derived (Tune flattens nested
        # results on their way to a searcher: derived_config/edge_1_0, ...)
        prefix = "derived_config/"
        derived = {k[len(prefix) :]: v for k, v in result.items() if k.startswith(prefix)}
        config = result.get("derived_config") or derived or job.config
        if key not in self._best or (value > self._best[key][0]) == (mode == "max"):
            self._best[key] = (value, config)

    def _charge(self, key: str, record: CostRecord) -> None:
        self.decide[key] = self.decide.get(key, CostRecord()) + record

    # What Tune saves with its experiment state and gives back on ``--resume``: every study's
    # sampler (an OptunaSearch with its in-memory Optuna study: a persistent Optuna storage
    # does not survive Tuner.restore), the counts, the best so far, and what deciding cost. The
    # meter and prices belong to the driver that runs, not to the one that saved.
    _STATE = (
        "decide",
        "_optuna",
        "_suggested",
        "_ended",
        "_best",
        "_final_emitted",
        "_jobs",
        "_live",
    )

    def save(self, checkpoint_path: str) -> None:
        state = pickle.dumps({k: getattr(self, k) for k in self._STATE})
        with open(checkpoint_path, "wb") as f:
            f.write(state)
        if self.snapshot is not None:
            write_snapshot(self.snapshot, Path(checkpoint_path).parent, state)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            state = pickle.load(f)  # Tune's own experiment folder, written by save() above
        if set(state) != set(self._STATE) or set(state["_suggested"]) != set(self._studies):
            raise ValueError(f"{checkpoint_path}: not the saved state of this experiment's plan")
        for key in self._STATE:
            setattr(self, key, state[key])
