"""What the driver knows about one study while it runs: its trials' outcomes, its sampler's
work, its final model's deploy record, and the look that ran it."""

from __future__ import annotations

from dataclasses import dataclass, field

from automl_bench.cost.record import CostRecord
from automl_bench.deploy.record import DeployRecord
from automl_bench.outcome import TrialOutcome
from automl_bench.study import StudySpec


@dataclass
class StudyRecord:
    """What the driver knows about one study while it runs."""

    spec: StudySpec
    run_id: str
    outcomes: list[TrialOutcome] = field(default_factory=list)
    decide: CostRecord = field(default_factory=CostRecord)  # its sampler's work, in the driver
    deploy: DeployRecord | str | None = None  # its final model's record, or why there is none
    look: int = 0  # the look that ran it (``looks``): 0, the first seeds
