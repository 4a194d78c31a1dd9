"""Normalised scores with anchors that do not move: per seed,

    score = (metric(method) - metric(constant)) / (metric(baseline) - metric(constant)),

so the constant predictor is 0 and the hand-designed baseline is 1 at every seed (never "best
observed", which shifts when a method is added). The mean over seeds carries a t interval. A seed
where the baseline does no better than the constant predictor has no score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from automl_bench.analysis.intervals import t_interval
from automl_bench.methods import BASELINE
from automl_bench.tasks.constant import CONSTANT


def normalised_scores(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Row label -> {"estimate", "ci95", "method", "n", "per_seed"} from results.csv rows."""
    metric: dict[str, dict[int, float]] = {}
    for row in rows:
        if row["test_metric"] is not None:
            metric.setdefault(str(row["method"]), {})[int(row["seed"])] = float(row["test_metric"])
    zero, one = metric.get(CONSTANT, {}), metric.get(BASELINE, {})
    out: dict[str, dict[str, Any]] = {}
    for label, by_seed in metric.items():
        per_seed = {
            seed: (value - zero[seed]) / (one[seed] - zero[seed])
            for seed, value in sorted(by_seed.items())
            if seed in zero and seed in one and one[seed] > zero[seed]
        }
        if not per_seed:
            continue
        interval = t_interval(list(per_seed.values()))
        out[label] = {
            "estimate": interval.estimate,
            "ci95": [interval.low, interval.high] if interval.has_interval else None,
            "method": interval.method,
            "n": interval.n,
            "per_seed": per_seed,
        }
    return out
