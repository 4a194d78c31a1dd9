"""A method's verdict against the reference method, its normalised score, and the settings
the verdict was reached with, as summary.json keeps them."""

from __future__ import annotations

from automl_bench.schema.base import Record

Ends = tuple[float | None, float | None]


class Estimate(Record):
    """An estimate with its 95% interval (None: fewer than two values), how the interval was
    computed and over how many values."""

    estimate: float
    ci95: Ends | None
    method: str
    n: int

    @property
    def ends(self) -> tuple[float, float] | None:
        """Both ends, or None when there is no interval or one end is open."""
        if self.ci95 is None or self.ci95[0] is None or self.ci95[1] is None:
            return None
        return (self.ci95[0], self.ci95[1])


class Score(Estimate):
    """The normalised score: per seed (method - constant) / (reference - constant)."""

    per_seed: dict[int, float]


class BreakEven(Record):
    """N*: predictions until the method pays off, at delta's estimate and interval ends."""

    estimate: float
    ci95: tuple[float, float] | None
    per_seed: list[float]


class Forecast(Record):
    """For an inconclusive call: the seeds that would likely decide it and their cost."""

    OMIT_NONE = frozenset({"past_max", "cost"})
    more_seeds: int | None
    past_max: bool | None = None
    per_seed: dict[str, float]
    cost: dict[str, float] | None = None
    words: str


class Verdict(Record):
    """The call and why; the figures behind it where the method and the reference share a
    finished seed (``delta_points``: the improvement in ``unit``, positive is better)."""

    OMIT_NONE = frozenset(
        {
            "delta_points",
            "probability_of_improvement",
            "extra_cost",
            "energy_ratio",
            "wall_ratio",
            "latency_ratio",
            "extra_inference_usd_per_prediction",
            "break_even_predictions",
            "forecast",
        }
    )
    reference: str
    unit: str
    seeds_paired: int
    studies: int
    failed_studies: Estimate
    failed_trials: Estimate
    feasible: bool
    broken: list[str]
    delta_points: Estimate | None = None
    probability_of_improvement: float | None = None
    extra_cost: dict[str, Estimate] | None = None
    energy_ratio: Estimate | None = None
    wall_ratio: Estimate | None = None
    latency_ratio: Estimate | None = None
    extra_inference_usd_per_prediction: float | None = None
    break_even_predictions: BreakEven | None = None
    forecast: Forecast | None = None
    call: str
    reason: str


class VerdictSettings(Record):
    """The config's ``verdict:`` section as the run used it."""

    rope_points: float = 1.0
    value_usd_per_point_per_million: float = 10.0
    deployment_predictions: float = 1e8
    constraints: str = ""
    max_seeds: int = 100
