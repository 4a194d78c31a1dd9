"""Normalised scores with anchors that do not move: per seed,

    score = (metric(method) - metric(constant)) / (metric(baseline) - metric(constant)),

so the constant predictor is 0 and the hand-designed baseline (the experiment's reference method)
is 1 at every seed (never "best observed", which shifts when a method is added). The mean over
seeds carries the seed interval (``intervals.seed_interval``). A seed where the reference does
no better than the constant predictor (by the metric's direction) has no score. Only
classification tasks have a constant predictor row: without one (meta-learning families) there
are no normalised scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from automl_bench.analysis.intervals import seed_interval
from automl_bench.metric import ACCURACY, BASELINE, Metric
from automl_bench.tasks.constant import CONSTANT


def normalised_scores(
    rows: Sequence[Mapping[str, Any]], metric: Metric = ACCURACY, reference: str = BASELINE
) -> dict[str, dict[str, Any]]:
    """Row label -> {"estimate", "ci95", "method", "n", "per_seed"} from results.csv rows; empty
    without the constant predictor's rows."""
    values: dict[str, dict[int, float]] = {}
    for row in rows:
        if row["test_metric"] is not None:
            values.setdefault(str(row["method"]), {})[int(row["seed"])] = float(row["test_metric"])
    zero, one = values.get(CONSTANT, {}), values.get(reference, {})
    if not zero or not one:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for label, by_seed in values.items():
        per_seed = {
            seed: (value - zero[seed]) / (one[seed] - zero[seed])
            for seed, value in sorted(by_seed.items())
            if seed in zero and seed in one and metric.better(one[seed], zero[seed])
        }
        if not per_seed:
            continue
        interval = seed_interval(list(per_seed.values()))
        out[label] = {
            "estimate": interval.estimate,
            "ci95": [interval.low, interval.high] if interval.has_interval else None,
            "method": interval.method,
            "n": interval.n,
            "per_seed": per_seed,
        }
    return out
