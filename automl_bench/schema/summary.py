"""The experiment's record, the top of summary.json: what ran where, the cost block, every
method, and the analysis folded in from results.csv (verdicts, scores, curves, fronts)."""

from __future__ import annotations

from typing import Any

from automl_bench.metric import ACCURACY, BASELINE
from automl_bench.schema.base import Record
from automl_bench.schema.cost import Cost, ExperimentCost
from automl_bench.schema.method import Method
from automl_bench.schema.verdict import VerdictSettings

SCHEMA_VERSION = 1


class Budget(Record):
    trials: int
    epochs: int


class LookDelta(Record):
    estimate: float
    ci95: tuple[float | None, float | None] | None
    n: int


class LookRecord(Record):
    """One look: the seeds added, the labels that ran, each judged method's interval and call."""

    look: int
    seeds: list[int]
    labels: list[str]
    seeds_so_far: int
    calls: dict[str, str]
    delta: dict[str, LookDelta]
    energy_kwh: float
    wall_s: float


class Benchmark(Record):
    """What deciding cost: every study's training, and the seeds added after the first look."""

    seeds: dict[str, int]
    all_seeds: Cost
    added_seeds: Cost


class LooksBlock(Record):
    max_seeds: int
    max_energy_kwh: float | None
    max_wall_s: float | None
    stopped: str | None
    looks: list[LookRecord]
    benchmark: Benchmark


class ConstantReference(Record):
    """The constant predictor's test metric: the mean over seeds and per seed."""

    test_metric: float | None
    per_seed: dict[int, float]


class ReferenceBlock(Record):
    constant: ConstantReference


class AnytimeCurve(Record):
    """Best validation metric so far over cumulative search ``cost``, mean over seeds."""

    OMIT_NONE = frozenset({"grid_kwh"})
    cost: str
    grid: list[float]
    spent: float
    grid_kwh: list[float] | None = None
    mean: list[float | None]
    stderr: list[float | None]
    seeds: list[int]


class ParetoFront(Record):
    points: dict[str, tuple[float, float]]  # method -> (test metric, cost), means over seeds
    front: list[str]


class AnalysisBlock(Record):
    anytime: dict[str, AnytimeCurve]
    pareto: dict[str, ParetoFront]


class OrderRatios(Record):
    """MAML over first-order MAML: time per meta-iteration and peak memory."""

    time_per_iteration: float | None
    peak_memory: float | None
    memory_measured: Any = None


class MetaRatios(Record):
    second_over_first_order: OrderRatios


class Summary(Record):
    """runs/<experiment>/summary.json. ``metric`` and ``reference_method`` say what every
    method is scored by and against."""

    OMIT_NONE = frozenset(
        {"meta_ratios", "resumed", "looks", "reference", "analysis", "verdict_settings"}
        | {"summary_run_id"}
    )
    schema_version: int = SCHEMA_VERSION
    experiment: str
    task: str
    space: str
    metric: str = ACCURACY.name
    direction: str = ACCURACY.direction
    metric_unit: str = ACCURACY.unit
    metric_scale: float = ACCURACY.scale
    reference_method: str = BASELINE
    created: str
    code_revision: str | None
    hardware: dict[str, Any]
    versions: dict[str, Any]
    seeds: list[int]
    budget: Budget
    deploy: dict[str, Any]  # the config's deploy section
    wall_s: float
    trials_wall_s: float
    tracking_uri: str
    cluster: dict[str, Any]  # address None: a local Ray started for this run
    cost: ExperimentCost
    methods: dict[str, Method]
    meta_ratios: MetaRatios | None = None
    resumed: list[Any] | None = None
    looks: LooksBlock | None = None
    reference: ReferenceBlock | None = None
    analysis: AnalysisBlock | None = None
    verdict_settings: VerdictSettings | None = None
    summary_run_id: str | None = None

    @property
    def failed_search_trials(self) -> int:
        """Failed search trials over every method and seed (final trainings not counted: the
        count every output prints is ``failures.count_failures``)."""
        return sum(m.failed_search_trials for m in self.methods.values())

    @property
    def constant_metric(self) -> float | None:
        return self.reference.constant.test_metric if self.reference else None
