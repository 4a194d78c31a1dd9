"""What the runner hands back about trials, as plain data (no Ray objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from automl_bench.cost.record import CostRecord
from automl_bench.metric import ACCURACY, Metric
from automl_bench.trial_job import TrialJob


@dataclass(frozen=True)
class TrialOutcome:
    trial_id: str
    job: TrialJob
    status: str  # "ok", "failed", or "stopped" (early, by a multi-fidelity scheduler)
    result: dict[str, Any] = field(default_factory=dict)  # the closing result
    reason: str | None = None
    model_path: str | None = None  # final phase: the checkpoint holding model.pt

    @property
    def ok(self) -> bool:
        """It ran its whole budget and finished."""
        return self.status == "ok"

    @property
    def failed(self) -> bool:
        """It broke (a stopped trial did not: it ran what its scheduler allowed)."""
        return self.status == "failed"

    @property
    def cost(self) -> CostRecord:
        return CostRecord.from_result(self.result)

    def val_metric(self, metric: Metric = ACCURACY) -> float | None:
        """The validation value of ``metric`` (None unless the trial finished)."""
        value = self.result.get(metric.val_key)
        return None if value is None or not self.ok else float(value)

    def test_metric(self, metric: Metric = ACCURACY) -> float | None:
        """The test value of ``metric`` (None unless the trial finished)."""
        value = self.result.get(metric.test_key)
        return None if value is None or not self.ok else float(value)

    @property
    def val_accuracy(self) -> float | None:
        return self.val_metric(ACCURACY)

    @property
    def test_accuracy(self) -> float | None:
        return self.test_metric(ACCURACY)


class TrialListener(Protocol):
    """Told about trials as they run, in the driver (tracking, progress display)."""

    def trial_started(self, trial_id: str, job: TrialJob) -> None: ...

    def trial_result(self, trial_id: str, job: TrialJob, result: dict[str, Any]) -> None: ...

    def trial_finished(self, outcome: TrialOutcome) -> None: ...
