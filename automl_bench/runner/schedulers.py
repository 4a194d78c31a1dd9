"""Multi-fidelity scheduling, study by study, with Ray Tune's own schedulers; and when Tune saves
its experiment state (``StudyScheduler.choose_trial_to_run``).

One Tuner runs every study of an experiment, but a scheduler must compare a study's trials only
with each other: ``StudyScheduler`` gives each multi-fidelity study its own Ray
``AsyncHyperBandScheduler`` and routes that study's search trials to it; every other trial
(other methods' searches, every final training) runs to the end, first come first served.

- ``asha``: asynchronous successive halving (Li et al. 2020), one bracket.
- ``hyperband``: asynchronous Hyperband, the same rule looped over several brackets with
  different minimum budgets (Li et al. 2020, section 3.3, as Ray's ``brackets``); ``bohb`` is
  TPE proposing the configurations (Optuna's TPE in place of BOHB's own density model).

The fidelity is the epoch: rungs at ``grace_period x eta^k`` epochs, eta 3, up to the budget's
epochs. A trial that reaches the full budget is never stopped by the scheduler
(``stop_last_trials=False``, and a decision at the last epoch's report, where Ray keeps a rung,
is recorded but not obeyed), so it ends with its own closing report; a stopped trial is charged
for the epochs it ran (see ``runner.tuner``).
"""

from __future__ import annotations

import math
from typing import Any

from ray.tune.experiment import Trial
from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler, TrialScheduler

from automl_bench.methods import get_method
from automl_bench.runner.searcher import study_metric
from automl_bench.study import StudySpec
from automl_bench.trial_job import SEARCH

REDUCTION_FACTOR = 3
GRACE_PERIOD = 1  # epochs: the lowest rung
FIDELITY = "epoch"  # the result key that counts a trial's budget


def hyperband_brackets(
    max_epochs: int, grace: int = GRACE_PERIOD, eta: int = REDUCTION_FACTOR
) -> int:
    """Hyperband's s_max + 1: as many brackets as there are rungs between grace and the budget."""
    return max(1, math.floor(math.log(max_epochs / grace, eta) + 1e-9) + 1)


def fidelity_scheduler(kind: str, method: str, max_epochs: int) -> AsyncHyperBandScheduler:
    brackets = 1 if kind == "asha" else hyperband_brackets(max_epochs)
    metric, mode = study_metric(method)  # multi-fidelity runs on classification tasks only
    return AsyncHyperBandScheduler(
        time_attr=FIDELITY,
        metric=metric,
        mode=mode,
        max_t=max_epochs,
        grace_period=min(GRACE_PERIOD, max_epochs),
        reduction_factor=REDUCTION_FACTOR,
        brackets=brackets,
        stop_last_trials=False,
    )


class StudyScheduler(FIFOScheduler):  # type: ignore[misc]
    """Routes each multi-fidelity study's search trials to that study's own scheduler."""

    def __init__(self, studies: list[StudySpec], max_epochs: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._max_epochs = max_epochs
        self._unsaved = False  # trials were added since Tune last saved its state
        self._by_study: dict[str, TrialScheduler] = {}
        for study in studies:
            kind = get_method(study.method).fidelity
            if kind is not None and study.n_trials > 0:
                self._by_study[study.key] = fidelity_scheduler(kind, study.method, max_epochs)

    @property
    def routes(self) -> dict[str, TrialScheduler]:
        return dict(self._by_study)

    def _for(self, trial: Trial) -> TrialScheduler | None:
        config = trial.config or {}
        if config.get("phase") != SEARCH:
            return None
        return self._by_study.get(str(config.get("study")))

    def set_search_properties(self, metric: str | None, mode: str | None, **spec: Any) -> bool:
        return True  # each study's scheduler has its own metric and mode

    def on_trial_add(self, tune_controller: Any, trial: Trial) -> None:
        self._unsaved = True
        if (scheduler := self._for(trial)) is not None:
            scheduler.on_trial_add(tune_controller, trial)

    def choose_trial_to_run(self, tune_controller: Any, **kwargs: Any) -> Trial | None:
        # Tune saves its experiment state (trials and searcher) every ten seconds or so; a
        # driver killed in between would leave trials that ran, even finished, unknown to
        # --resume. So the state is saved, and written through to the storage path, whenever
        # trials were added, before any of them can start (Tune calls this before it starts
        # trials, after it adds them): every trial that ever ran is in the saved state, and one
        # that ended after the save reports its ledger entry when resumed (runner/ledger.py).
        if self._unsaved:
            self._unsaved = False
            tune_controller.checkpoint(force=True, wait=True)
        return super().choose_trial_to_run(tune_controller, **kwargs)  # type: ignore[no-any-return]

    def on_trial_error(self, tune_controller: Any, trial: Trial) -> None:
        if (scheduler := self._for(trial)) is not None:
            scheduler.on_trial_error(tune_controller, trial)

    def on_trial_result(self, tune_controller: Any, trial: Trial, result: dict[str, Any]) -> str:
        if (scheduler := self._for(trial)) is not None:
            decision = str(scheduler.on_trial_result(tune_controller, trial, result))
            # Ray's top rung sits at the full budget: a trial that has run every epoch is
            # recorded there (for later cutoffs) but ends with its own closing report
            if result.get(FIDELITY, 0) < self._max_epochs:
                return decision
        return str(TrialScheduler.CONTINUE)

    def on_trial_complete(self, tune_controller: Any, trial: Trial, result: dict[str, Any]) -> None:
        if (scheduler := self._for(trial)) is not None:
            scheduler.on_trial_complete(tune_controller, trial, result)

    def on_trial_remove(self, tune_controller: Any, trial: Trial) -> None:
        if (scheduler := self._for(trial)) is not None:
            scheduler.on_trial_remove(tune_controller, trial)

    def debug_string(self) -> str:
        return f"automl-bench: {len(self._by_study)} multi-fidelity studies, each on its own"
