"""A method's record in summary.json: its studies, the test metric over seeds, the difference to
the reference, meta-learning figures, deployability, cost, and (after the analysis) its verdict
and normalised score."""

from __future__ import annotations

from automl_bench.cost.record import CostRecord
from automl_bench.schema.base import Record
from automl_bench.schema.cost import Cost
from automl_bench.schema.study import MetaFigures, Study
from automl_bench.schema.verdict import Score, Verdict


class MeanCI(Record):
    """n, mean, sample std and the seed interval of the mean (``interval`` names its method)."""

    n: int
    mean: float | None
    std: float | None
    ci95: tuple[float, float] | None
    interval: str | None


class DeploySummary(Record):
    """How many of a method's final models are feasible, and what the others break."""

    models: int
    feasible: int
    broken: list[str]


class MethodCost(Record):
    """Totals over seeds: search, final training, and inference per 1,000 predictions."""

    search: Cost
    final: Cost
    inference_per_1k: Cost

    def training(self) -> CostRecord:
        """Search plus final training: what the method spent to get its model."""
        return self.search.record() + self.final.record()


class Method(Record):
    """``delta_vs_reference``: the mean paired difference method - reference in the metric's
    own values; written also as ``delta_vs_baseline`` when the reference is ``baseline``."""

    OMIT_NONE = frozenset({"delta_vs_baseline", "meta", "verdict", "normalised_score"})
    studies: list[Study]
    test_metric: MeanCI
    delta_vs_reference: MeanCI
    delta_vs_baseline: MeanCI | None = None
    meta: MetaFigures | None = None
    deploy: DeploySummary
    cost: MethodCost
    verdict: Verdict | None = None
    normalised_score: Score | None = None

    @property
    def failed_search_trials(self) -> int:
        return sum(s.failed for s in self.studies)

    @property
    def search_trials(self) -> int:
        return sum(s.trials for s in self.studies)
