"""Intervals over seeds, and the others the verdict uses.

- A mean over seeds (a paired difference, a test metric, a normalised score, an extra cost):
  the **seed interval**, one method everywhere: an anytime-valid confidence sequence for a mean
  (Wang & Ramdas 2023, "Anytime-valid t-tests and confidence sequences for Gaussian means with
  unknown variance": the scale-invariant likelihood ratio of the standardised mean, mixed over a
  Gaussian prior, is a nonnegative martingale, and Ville's inequality bounds the chance that it
  ever crosses 1 / alpha). It holds at every number of seeds at once, so it stays valid when
  seeds are added until a call is decided (optional stopping), and it holds at a fixed number
  of seeds as well. It is built at ``ALPHA`` = 2.5 % under the Gaussian model, so that it still
  holds 95 % on skewed differences (lognormal, two-point mixtures; simulated in
  tests/analysis/test_seed_interval_coverage.py). It is bounded from 3 seeds on; with 2 it is
  the whole feasible range. Every interval is clipped to what its quantity can take (an accuracy to
  [0, 100] %, a difference of accuracies to [-100, 100] points): the true mean lies in that
  range, so clipping keeps the coverage.
- A cost ratio (method / baseline): the seed interval of the log ratios, back-transformed: a
  geometric-mean ratio with its interval.
- A rate of failures k / n: the exact Clopper-Pearson interval.
- A mean over many draws of one seed (meta-test tasks): the Student-t interval.
- The effect size: the probability of improvement, P(method > baseline) over seed pairs, ties
  counting one half.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ALPHA = 0.025  # the Gaussian-model error rate the seed interval is built at (see above)
PRIOR_PRECISION = 0.2  # c: the mixture's prior on the standardised mean is N(0, 1 / c**2)
SEED_METHOD = "anytime-valid"
UNBOUNDED = (-math.inf, math.inf)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float | None  # None: fewer than two values, no interval
    high: float | None
    method: str  # "anytime-valid", "t", "Clopper-Pearson", "none"
    n: int

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


def _mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """The mean and the sample standard deviation (None below two values)."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


def t_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Student-t, for a mean over many independent draws (meta-test tasks of one seed)."""
    from scipy import stats

    n = len(values)
    mean, std = _mean_std(values)
    if std is None:
        return Interval(mean, None, None, "none", n)
    half = float(stats.t.ppf(0.5 + level / 2, df=n - 1)) * std / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, "t", n)


def seed_half_width(n: int, std: float) -> float:
    """The seed interval's half-width at ``n`` seeds for a sample standard deviation ``std``
    (inf: not bounded yet). The set of means mu where the mixture martingale
    M_n(mu) = sqrt(c^2 / (n + c^2)) * (1 - T^2 / ((n + c^2) Q))^(-n/2), with
    T = sum(x - mu), Q = sum((x - mu)^2), stays below 1 / alpha: solved in closed form."""
    if n < 2:
        return math.inf
    c2 = PRIOR_PRECISION**2
    g = (ALPHA**2 * c2 / (n + c2)) ** (1.0 / n)
    room = n - (1.0 - g) * (n + c2)
    if room <= 0:
        return math.inf
    spread = (n - 1) * std**2  # the sum of squared deviations from the mean
    return math.sqrt((1.0 - g) * (n + c2) * spread / (n * room))


def seed_interval(values: Sequence[float], bounds: tuple[float, float] = UNBOUNDED) -> Interval:
    """The seed interval of the mean of ``values`` (see the module's docstring), clipped to
    ``bounds``, the range the quantity can take."""
    mean, std = _mean_std(values)
    if std is None:
        return Interval(mean, None, None, "none", len(values))
    half = seed_half_width(len(values), std)
    low, high = max(bounds[0], mean - half), min(bounds[1], mean + half)
    return Interval(mean, low, high, SEED_METHOD, len(values))


def mean_ci(values: Sequence[float], bounds: tuple[float, float] = UNBOUNDED) -> dict[str, Any]:
    """A mean over seeds as the summary keeps it: n, mean, sample std and the seed interval of
    the mean, clipped to ``bounds``; no interval below 2 values. The interval's method is named
    with it (``interval``)."""
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "std": None, "ci95": None, "interval": None}
    interval = seed_interval(values, bounds)
    std = _mean_std(values)[1]
    if not interval.has_interval:
        return {"n": n, "mean": interval.estimate, "std": None, "ci95": None, "interval": None}
    return {
        "n": n,
        "mean": interval.estimate,
        "std": std,
        "ci95": [interval.low, interval.high],
        "interval": interval.method,
    }


def seeds_to_decide(values: Sequence[float], edge: float, horizon: int) -> int | None:
    """How many more seeds would likely put the seed interval wholly on one side of ``edge``,
    if the mean and spread stay as observed so far; None: not within ``horizon`` more (the
    mean sits on the edge, or too close to it). 0: decided already."""
    if not values:
        return None
    mean, std = _mean_std(values)
    if std is None:
        return None
    for more in range(horizon + 1):
        if seed_half_width(len(values) + more, std) < abs(mean - edge):
            return more
    return None


def ratio_interval(method: Sequence[float], baseline: Sequence[float]) -> Interval:
    """Geometric-mean ratio method / baseline over paired values, with the seed interval of
    the log ratios, back-transformed. Pairs with a zero or negative side are left out."""
    logs = [math.log(m / b) for m, b in zip(method, baseline, strict=True) if m > 0 and b > 0]
    if not logs:
        return Interval(math.nan, None, None, "none", 0)
    on_logs = seed_interval(logs)
    low = math.exp(on_logs.low) if on_logs.low is not None else None
    high = math.exp(on_logs.high) if on_logs.high is not None else None
    return Interval(math.exp(on_logs.estimate), low, high, on_logs.method, on_logs.n)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> Interval:
    from scipy import stats

    if n == 0:
        return Interval(math.nan, None, None, "none", 0)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return Interval(k / n, float(ci.low), float(ci.high), "Clopper-Pearson", n)


def probability_of_improvement(differences: Sequence[float]) -> float:
    """P(method > baseline) over seed pairs, a tie counting one half."""
    if not differences:
        return math.nan
    wins = sum(1.0 if d > 0 else 0.5 if d == 0 else 0.0 for d in differences)
    return wins / len(differences)
