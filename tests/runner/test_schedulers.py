"""Multi-fidelity routing: each study's search trials go to that study's own Ray scheduler; no
other trial is ever stopped, and no trial is stopped once it has run its whole budget."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ray.tune.schedulers import TrialScheduler

from automl_bench.runner.schedulers import StudyScheduler, hyperband_brackets
from automl_bench.study import StudySpec

EPOCHS = 9
STUDIES = [
    StudySpec("asha", 0, "mlp", 8, "asha"),
    StudySpec("asha", 1, "mlp", 8, "asha"),
    StudySpec("random", 0, "mlp", 8, "random"),
]


def _trial(trial_id: str, study: str, phase: str = "search") -> Any:
    return SimpleNamespace(trial_id=trial_id, config={"study": study, "phase": phase})


def _feed(scheduler: StudyScheduler, trial: Any, epoch: int, value: float) -> str:
    return scheduler.on_trial_result(None, trial, {"epoch": epoch, "val_accuracy": value})


def test_each_multi_fidelity_study_has_its_own_scheduler() -> None:
    scheduler = StudyScheduler(STUDIES, EPOCHS)
    assert set(scheduler.routes) == {"asha/seed=0", "asha/seed=1"}  # random runs to the end
    good = [_trial(f"g{i}", "asha/seed=0") for i in range(3)]
    for trial in good:
        scheduler.on_trial_add(None, trial)
        assert _feed(scheduler, trial, 1, 0.9) == TrialScheduler.CONTINUE
    poor = _trial("p", "asha/seed=0")
    scheduler.on_trial_add(None, poor)
    assert _feed(scheduler, poor, 1, 0.1) == TrialScheduler.STOP  # below its study's cutoff
    # the same value in another study is that study's first: nothing to compare it with
    other = _trial("o", "asha/seed=1")
    scheduler.on_trial_add(None, other)
    assert _feed(scheduler, other, 1, 0.1) == TrialScheduler.CONTINUE


def test_no_trial_is_stopped_outside_a_multi_fidelity_search() -> None:
    scheduler = StudyScheduler(STUDIES, EPOCHS)
    for trial in (_trial("r", "random/seed=0"), _trial("f", "asha/seed=0", phase="final")):
        scheduler.on_trial_add(None, trial)
        for epoch in range(1, EPOCHS + 1):
            assert _feed(scheduler, trial, epoch, 0.0) == TrialScheduler.CONTINUE


def test_a_trial_that_ran_its_whole_budget_is_not_stopped() -> None:
    scheduler = StudyScheduler(STUDIES, EPOCHS)
    strong = [_trial(f"s{i}", "asha/seed=0") for i in range(3)]
    for trial in strong:
        scheduler.on_trial_add(None, trial)
        for epoch in (1, 3, EPOCHS):
            _feed(scheduler, trial, epoch, 0.9)
    late = _trial("late", "asha/seed=0")
    scheduler.on_trial_add(None, late)
    assert _feed(scheduler, late, 1, 0.95) == TrialScheduler.CONTINUE
    assert _feed(scheduler, late, 3, 0.95) == TrialScheduler.CONTINUE
    # worse than the others at the top rung, which Ray keeps at the full budget: it has run
    # every epoch, so it ends with its own closing report, not a stop
    assert _feed(scheduler, late, EPOCHS, 0.2) == TrialScheduler.CONTINUE
    weak = _trial("weak", "asha/seed=0")
    scheduler.on_trial_add(None, weak)
    assert _feed(scheduler, weak, 3, 0.2) == TrialScheduler.STOP  # below the cutoff mid-way


def test_hyperband_brackets_follow_the_budget() -> None:
    assert hyperband_brackets(9) == 3  # rungs at 1, 3, 9
    assert hyperband_brackets(8) == 2
    assert hyperband_brackets(1) == 1
