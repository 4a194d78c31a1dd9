"""One count of trials run and failed (automl_bench/failures.py): counted over a study's
outcomes, carried by its record and its results row, read back the same from each."""

from __future__ import annotations

from summary_samples import sample_summary

from automl_bench.failures import (
    FailureCount,
    count_failures,
    recorded_failures,
    run_failures,
    total_failures,
)
from automl_bench.outcome import TrialOutcome
from automl_bench.results import result_rows
from automl_bench.study import StudySpec
from automl_bench.study_record import StudyRecord
from automl_bench.summary import study_summary
from automl_bench.trial import TrialJob


def _outcome(i: int, phase: str, status: str) -> TrialOutcome:
    job = TrialJob("baseline/seed=0", "baseline", 0, phase, "mlp", {"width": i})
    return TrialOutcome(f"t{i}", job, status, {"trial_status": status})


def test_search_trials_and_final_trainings_are_counted_apart() -> None:
    outcomes = [
        _outcome(1, "search", "ok"),
        _outcome(2, "search", "failed"),
        _outcome(3, "search", "stopped"),  # stopped early by its scheduler: not a failure
        _outcome(4, "final", "failed"),
    ]
    count = count_failures(outcomes)
    assert count == FailureCount(search=3, search_failed=1, final=1, final_failed=1)
    assert (count.run, count.failed, count.cell()) == (4, 2, "2 of 4")
    assert count.words() == (
        "2 of 4 trials failed (1 of 3 search trials, 1 of 1 final training)"
    )
    assert count + count == FailureCount(6, 2, 2, 2)


def test_a_baseline_whose_final_training_failed_is_counted_failed() -> None:
    """The baseline runs no search: its failed final training is its one failed trial."""
    record = StudyRecord(
        StudySpec("baseline", 0, "mlp", 0, "baseline"), "run", [_outcome(1, "final", "failed")]
    )
    study = study_summary(record)
    assert (study.trials, study.failed) == (0, 0)  # search trials
    assert recorded_failures(study) == FailureCount(0, 0, 1, 1)
    # written to summary.json and read back as a dict, the count is the same
    assert recorded_failures(study.model_dump()) == count_failures(record.outcomes)
    assert recorded_failures(study).words().startswith("1 of 1 trial failed")


def test_the_record_and_the_results_rows_carry_the_same_count() -> None:
    summary = sample_summary(seeds=3)
    rows = result_rows(summary)
    assert total_failures(rows) == run_failures(summary)
    assert run_failures(summary) == run_failures(summary.model_dump())
    assert run_failures(summary).search_failed == sum(
        s.failed for m in summary.methods.values() for s in m.studies
    )


def test_a_record_from_before_final_trainings_were_counted() -> None:
    """An older summary.json study has no final_trainings: its failures and test metric say."""
    failed_final = {
        "trials": 4,
        "failed": 1,
        "test_metric": None,
        "failures": [{"phase": "search"}, {"phase": "final"}],
    }
    search_failures = [{"phase": "search"}] * 2
    no_final = {"trials": 2, "failed": 2, "test_metric": None, "failures": search_failures}
    finished = {"trials": 2, "failed": 0, "test_metric": 0.9, "failures": []}
    assert recorded_failures(failed_final) == FailureCount(4, 1, 1, 1)
    assert recorded_failures(no_final) == FailureCount(2, 2, 0, 0)
    assert recorded_failures(finished) == FailureCount(2, 0, 1, 0)
