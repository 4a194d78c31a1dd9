"""A mean over seeds as the summary keeps it: n, mean, spread and the seed interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from automl_bench.analysis.intervals import UNBOUNDED, seed_interval


def mean_ci(values: Sequence[float], bounds: tuple[float, float] = UNBOUNDED) -> dict[str, Any]:
    """Mean, sample std and the seed interval of the mean (``analysis.intervals``), clipped to
    ``bounds``; no interval below 2 values. The interval's method is named with it."""
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "std": None, "ci95": None, "interval": None}
    interval = seed_interval(values, bounds)
    if not interval.has_interval:
        return {"n": 1, "mean": interval.estimate, "std": None, "ci95": None, "interval": None}
    mean = interval.estimate
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "ci95": [interval.low, interval.high],
        "interval": interval.method,
    }
