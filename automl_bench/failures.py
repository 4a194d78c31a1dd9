"""How many trials ran and how many failed: one count, in one set of words, wherever it is shown.

Two kinds of trial are counted, per study and summed per method and per run:

- search trials: every configuration a method tried (a trial stopped early by its scheduler ran
  what it was allowed, and did not fail);
- final trainings: the chosen configuration retrained and tested once, one per study that had a
  configuration to retrain (the baseline's only trial).

``count_failures`` counts a study's recorded trial outcomes; the study's record in summary.json,
its row in results.csv and its MLflow parent run carry that count as ``trials``, ``failed``
(search) and ``final_trainings``, ``final_failed``; ``recorded_failures`` reads it back, and the
console table, the closing lines on stdout and stderr, the verdict's failure rate and the report
all show what it reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automl_bench.outcome import TrialOutcome

# the keys a study's record and its results.csv row carry the count under
SEARCH_TRIALS, SEARCH_FAILED = "trials", "failed"
FINAL_TRAININGS, FINAL_FAILED = "final_trainings", "final_failed"


@dataclass(frozen=True)
class FailureCount:
    """Search trials and final trainings run, and how many of each failed."""

    search: int = 0
    search_failed: int = 0
    final: int = 0
    final_failed: int = 0

    @property
    def run(self) -> int:
        return self.search + self.final

    @property
    def failed(self) -> int:
        return self.search_failed + self.final_failed

    def __add__(self, other: FailureCount) -> FailureCount:
        return FailureCount(
            self.search + other.search,
            self.search_failed + other.search_failed,
            self.final + other.final,
            self.final_failed + other.final_failed,
        )

    def to_record(self) -> dict[str, int]:
        """The keys a study's record and results row carry."""
        return {
            SEARCH_TRIALS: self.search,
            SEARCH_FAILED: self.search_failed,
            FINAL_TRAININGS: self.final,
            FINAL_FAILED: self.final_failed,
        }

    def cell(self) -> str:
        """``3 of 10``: failed of run, search trials and final trainings together."""
        return f"{self.failed} of {self.run}"

    def words(self) -> str:
        """``3 of 10 trials failed (1 of 8 search trials, 2 of 2 final trainings)``."""
        return (
            f"{self.failed} of {self.run} {_plural(self.run, 'trial')} failed "
            f"({self.search_failed} of {self.search} search {_plural(self.search, 'trial')}, "
            f"{self.final_failed} of {self.final} final {_plural(self.final, 'training')})"
        )


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def count_failures(outcomes: Iterable[TrialOutcome]) -> FailureCount:
    """The count over one study's recorded trial outcomes (or several studies')."""
    from automl_bench.trial_job import FINAL, SEARCH

    search = final = search_failed = final_failed = 0
    for outcome in outcomes:
        if outcome.job.phase == SEARCH:
            search += 1
            search_failed += outcome.failed
        elif outcome.job.phase == FINAL:
            final += 1
            final_failed += outcome.failed
    return FailureCount(search, search_failed, final, final_failed)


def recorded_failures(record: Any) -> FailureCount:
    """The count a study's record (summary.json's, as a dict or a typed record) or its
    results.csv row carries. A record written before final trainings were counted has them from
    its failures and its test metric."""
    final = _field(record, FINAL_TRAININGS)
    final_failed = _field(record, FINAL_FAILED)
    if final is None or final_failed is None:
        phases = [_field(f, "phase") for f in _field(record, "failures") or []]
        final_failed = sum(phase == "final" for phase in phases)
        final = final_failed + (_field(record, "test_metric") is not None)
    return FailureCount(
        int(_field(record, SEARCH_TRIALS) or 0),
        int(_field(record, SEARCH_FAILED) or 0),
        int(final),
        int(final_failed),
    )


def _field(record: Any, name: str) -> Any:
    """A dict's key or a record's attribute; None when it has neither."""
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def total_failures(records: Iterable[Any]) -> FailureCount:
    """The count summed over studies' records or results rows."""
    found = FailureCount()
    for record in records:
        found += recorded_failures(record)
    return found


def method_failures(method: Any) -> FailureCount:
    """A method's count in summary.json (a dict or a typed record): over its studies."""
    return total_failures(_field(method, "studies"))


def run_failures(summary: Any) -> FailureCount:
    """A run's count in summary.json (a dict or a typed record): over every method's studies."""
    methods = _field(summary, "methods").values()
    return total_failures(s for m in methods for s in _field(m, "studies"))
