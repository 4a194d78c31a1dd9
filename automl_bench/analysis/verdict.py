"""The verdict per method against the reference method, from results.csv rows.

The reference is the hand-designed ``baseline`` for model-design experiments and
``pretrain_finetune`` for meta-learning families; "baseline" below means that reference. For
each seed s where both finished, d_s = the improvement of the method over the baseline, in the
metric's unit (``Metric.improvement``, positive is better): (accuracy(method, s) -
accuracy(baseline, s)) x 100 points, or MSE(baseline, s) - MSE(method, s). delta = mean d_s
with the seed interval (``intervals.seed_interval``: anytime-valid, so it holds however many
seeds were added before the call was made), clipped to what a difference can take. Extra cost
per seed = the method's search + final training - the baseline's final training (USD, kWh,
kg CO2, GPU-hours). The energy, wall-clock and p95 CPU latency against the baseline's are
geometric-mean ratios with the seed interval of the log ratios. Extra inference cost per
prediction = the difference of their inference cost per 1,000 / 1,000. With v = the value of
one unit (an accuracy point, or one MSE) per prediction, the method pays off after
N* = extra USD / (delta x v - extra inference USD per prediction) predictions, "never" when the
denominator is not positive. N*'s interval puts the ends of delta's interval into the same
formula: the optimistic N* uses the upper end.

The call, against the region of practical equivalence (ROPE, +-rope_points, in the metric's
unit: accuracy points, or MSE), tried in this order (docs/verdict.md, "The call", holds the
same table; tests/analysis/test_verdict_rules.py checks the two against each other):
1. "not deployable": a final model of the method breaks a deployment constraint;
2. "inconclusive": fewer than two seeds paired (no interval);
3. "not worth it": no improvement beyond the ROPE (the whole interval at or below +rope);
4. "not worth it": even the optimistic break-even comes after the expected deployment
   volume (or never);
5. "inconclusive": the interval reaches both sides of +rope;
6. "worth it": the whole interval above +rope, and even the pessimistic break-even within the
   volume;
7. "inconclusive": above +rope, but the pessimistic break-even comes after the volume.
An inconclusive call carries a forecast: how many more seeds would likely decide it (the seed
interval's half-width at n + k, from the spread seen so far, against the mean's distance to
+rope), and what they would cost, from the cost per seed measured so far.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl_bench.analysis.intervals import (
    Interval,
    clopper_pearson,
    probability_of_improvement,
    ratio_interval,
    seed_interval,
    seeds_to_decide,
)
from automl_bench.analysis.metrics import rows_metric, rows_reference, the_reference
from automl_bench.failures import total_failures
from automl_bench.metric import ACCURACY, BASELINE, Metric
from automl_bench.tasks.constant import CONSTANT

__all__ = ["BASELINE", "VerdictSettings", "method_verdict", "verdicts"]
WORTH_IT, NOT_WORTH_IT, INCONCLUSIVE, NOT_DEPLOYABLE = (
    "worth it",
    "not worth it",
    "inconclusive",
    "not deployable",
)


@dataclass(frozen=True)
class VerdictSettings:
    """``rope_points`` and the value of a point are in the metric's unit (accuracy points, or
    MSE); the names keep the accuracy word for the config's sake."""

    rope_points: float = 1.0
    value_usd_per_point_per_million: float = 10.0
    deployment_predictions: float = 1e8
    constraints: str = ""  # the deployment constraints in words ("p95 <= 5 ms"), "" for none
    max_seeds: int = 100  # the seed plan's max (a forecast past it says so), else 100

    @property
    def value_per_prediction(self) -> float:
        """USD one unit of the metric (an accuracy point, one MSE) is worth on one prediction."""
        return self.value_usd_per_point_per_million / 1e6


def break_even(
    extra_usd: float, delta_points: float, extra_inference_usd: float, v: float
) -> float:
    """Predictions after which the method has paid for itself; inf: never."""
    gain = delta_points * v - extra_inference_usd
    if gain <= 0:
        return math.inf
    return max(0.0, extra_usd) / gain


def _human(n: float) -> str:
    if math.isinf(n):
        return "never"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2g} {unit}"
    return f"{n:.0f}"


def _interval_dict(i: Interval) -> dict[str, Any]:
    return {
        "estimate": i.estimate,
        "ci95": [i.low, i.high] if i.has_interval else None,
        "method": i.method,
        "n": i.n,
    }


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


Pair = tuple[Mapping[str, Any], Mapping[str, Any]]  # (the method's row, the baseline's) of a seed


def _pairs(rows: Sequence[Mapping[str, Any]], base: Sequence[Mapping[str, Any]]) -> list[Pair]:
    """The seeds where both the method and the baseline finished, in the method's row order."""
    by_seed = {r["seed"]: r for r in base}
    return [
        (r, by_seed[r["seed"]])
        for r in rows
        if r["seed"] in by_seed
        and r["test_metric"] is not None
        and by_seed[r["seed"]]["test_metric"] is not None
    ]


def _spent(row: Mapping[str, Any], figure: str) -> float:
    """What a study spent on training: its search and its final training."""
    return float(row[f"search_{figure}"]) + float(row[f"final_{figure}"])


def _extra_costs(pairs: Sequence[Pair]) -> dict[str, list[float]]:
    """Per seed: the method's search + final training - the baseline's final training."""
    return {
        "usd": [_spent(m, "usd") - b["final_usd"] for m, b in pairs],
        "energy_kwh": [_spent(m, "energy_kwh") - b["final_energy_kwh"] for m, b in pairs],
        "co2_kg": [_spent(m, "co2_kg") - b["final_co2_kg"] for m, b in pairs],
        "gpu_hours": [(_spent(m, "device_s") - b["final_device_s"]) / 3600 for m, b in pairs],
    }


def _ratios(pairs: Sequence[Pair]) -> dict[str, Interval]:
    """Energy, wall-clock and p95 CPU latency of the method against the baseline's."""
    latency = [
        (m["deploy_latency_ms_p95_cpu"], b["deploy_latency_ms_p95_cpu"])
        for m, b in pairs
        if m.get("deploy_latency_ms_p95_cpu") is not None
        and b.get("deploy_latency_ms_p95_cpu") is not None
    ]
    return {
        "energy_ratio": ratio_interval(
            [_spent(m, "energy_kwh") for m, _ in pairs], [b["final_energy_kwh"] for _, b in pairs]
        ),
        "wall_ratio": ratio_interval(
            [_spent(m, "wall_s") for m, _ in pairs], [b["final_wall_s"] for _, b in pairs]
        ),
        "latency_ratio": ratio_interval([m for m, _ in latency], [b for _, b in latency]),
    }


def _failures(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    count = total_failures(rows)  # search trials and final trainings
    failed_studies = sum(r["status"] != "ok" for r in rows)
    return {
        "studies": len(rows),
        "failed_studies": _interval_dict(clopper_pearson(failed_studies, len(rows))),
        "failed_trials": _interval_dict(clopper_pearson(count.failed, count.run)),
    }


@dataclass(frozen=True)
class BreakEven:
    """N* at delta's estimate, and at its optimistic (upper) and pessimistic (lower) ends."""

    estimate: float
    optimistic: float | None
    pessimistic: float | None

    @property
    def interval(self) -> list[float] | None:
        if self.optimistic is None or self.pessimistic is None:
            return None
        return [self.optimistic, self.pessimistic]


def _break_even(delta: Interval, extra_usd: float, inference: float, v: float) -> BreakEven:
    def at(points: float | None) -> float | None:
        return None if points is None else break_even(extra_usd, points, inference, v)

    return BreakEven(
        break_even(extra_usd, delta.estimate, inference, v), at(delta.high), at(delta.low)
    )


def method_verdict(
    rows: Sequence[Mapping[str, Any]],
    base: Sequence[Mapping[str, Any]],
    settings: VerdictSettings,
    metric: Metric = ACCURACY,
    reference: str = BASELINE,
) -> dict[str, Any]:
    """The verdict of one method's rows against the reference's (both from results.csv):
    ``delta_points`` is the improvement in ``metric``'s unit (``unit``), positive is better."""
    pairs = _pairs(rows, base)
    broken = sorted({r["deploy_broken"] for r in rows if r.get("deploy_broken")})
    feasible = all(r.get("deploy_feasible") is not False for r in rows)
    out: dict[str, Any] = {
        "reference": reference,
        "unit": metric.unit,
        "seeds_paired": len(pairs),
        **_failures(rows),
        "feasible": feasible,
        "broken": broken,
    }
    if not pairs:
        out.update(
            call=INCONCLUSIVE,
            reason=f"no seed where both the method and {the_reference(reference)} finished",
        )
        return out
    figures = _figures(pairs, settings, metric)
    out.update(figures.fields)
    call, why = _call(figures.delta, figures.n_star, feasible, broken, settings, metric.unit)
    if call == INCONCLUSIVE:
        out["forecast"] = forecast(figures.diffs, pairs, settings)
    words = _verdict_words(figures, metric, reference, feasible, settings)
    words.append(why)
    if "forecast" in out:
        words.append(out["forecast"]["words"])
    failed_studies = sum(r["status"] != "ok" for r in rows)
    if failed_studies:
        words.append(f"{failed_studies} of {len(rows)} studies failed")
    out.update(call=call, reason=", ".join(w for w in words if w))
    return out


@dataclass(frozen=True)
class _Figures:
    """What the paired seeds say: the improvement per seed and its interval, the cost and
    latency ratios, the break-even, and all of them as the verdict's fields."""

    diffs: list[float]
    delta: Interval
    ratios: dict[str, Interval]
    n_star: BreakEven
    fields: dict[str, Any]


def _figures(pairs: Sequence[Pair], settings: VerdictSettings, metric: Metric) -> _Figures:
    diffs = [metric.improvement(m["test_metric"], b["test_metric"]) for m, b in pairs]
    delta = seed_interval(diffs, metric.improvement_bounds)
    extra = _extra_costs(pairs)
    inference = [(m["inference_per_1k_usd"] - b["inference_per_1k_usd"]) / 1000 for m, b in pairs]
    v = settings.value_per_prediction
    n_star = _break_even(delta, _mean(extra["usd"]), _mean(inference), v)
    ratios = _ratios(pairs)
    fields = {
        "delta_points": _interval_dict(delta),
        "probability_of_improvement": probability_of_improvement(diffs),
        "extra_cost": {k: _interval_dict(seed_interval(vals)) for k, vals in extra.items()},
        **{name: _interval_dict(ratio) for name, ratio in ratios.items()},
        "extra_inference_usd_per_prediction": _mean(inference),
        "break_even_predictions": {
            "estimate": n_star.estimate,
            "ci95": n_star.interval,
            "per_seed": [
                break_even(e, d, i, v)
                for e, d, i in zip(extra["usd"], diffs, inference, strict=True)
            ],
        },
    }
    return _Figures(diffs, delta, ratios, n_star, fields)


def _verdict_words(
    figures: _Figures,
    metric: Metric,
    reference: str,
    feasible: bool,
    settings: VerdictSettings,
) -> list[str]:
    """The reason's first words: the improvement, the ratios, the break-even, the constraints."""
    words = [_delta_words(figures.delta, metric)]
    theirs = the_reference(reference)
    for name, what in (("energy_ratio", "energy"), ("latency_ratio", "p95 CPU latency")):
        if figures.ratios[name].n:
            words.append(f"{_ratio_words(figures.ratios[name])} {theirs}'s {what}")
    words.append(_break_even_words(figures.n_star))
    if feasible and settings.constraints:
        words.append(f"meets {settings.constraints}")
    return words


def seed_cost(pairs: Sequence[Pair]) -> dict[str, float]:
    """What one more seed of a method costs, from the seeds so far: the method's search and
    final training plus the baseline's final training at that seed (its pair)."""
    out = {}
    for figure in ("wall_s", "energy_kwh", "usd"):
        out[figure] = _mean([_spent(m, figure) + float(b[f"final_{figure}"]) for m, b in pairs])
    return out


FORECAST_SEEDS = 100  # how far a forecast looks: as many seeds as a config may list


def forecast(
    diffs: Sequence[float], pairs: Sequence[Pair], settings: VerdictSettings
) -> dict[str, Any]:
    """For an inconclusive call: the seeds that would likely decide it, if the mean and spread
    stay as seen so far (the interval's half-width at n + k against the mean's distance to
    +rope), up to ``FORECAST_SEEDS`` in all, and what they would cost, at the cost per seed
    measured so far; and whether they fit in the seed plan's ``max`` (``settings.max_seeds``)."""
    n = len(diffs)
    more = seeds_to_decide(diffs, settings.rope_points, max(0, FORECAST_SEEDS - n))
    per_seed = seed_cost(pairs)
    if more is None:
        return {
            "more_seeds": None,
            "per_seed": per_seed,
            "words": f"not decided within {FORECAST_SEEDS} seeds at this spread"
            " (its mean sits near the ROPE's edge)",
        }
    cost = {k: more * v for k, v in per_seed.items()}
    past_max = n + more > settings.max_seeds
    words = (
        f"about {more} more seed{'s' if more != 1 else ''} would likely decide it "
        f"({_human_seconds(cost['wall_s'])} of training, {cost['energy_kwh']:.2g} kWh, "
        f"USD {cost['usd']:.2g})"
    )
    if past_max:
        words += f", past the {settings.max_seeds} seeds the plan allows (raise seeds.max)"
    return {
        "more_seeds": more,
        "past_max": past_max,
        "per_seed": per_seed,
        "cost": cost,
        "words": words,
    }


def _human_seconds(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _ratio_words(ratio: Interval) -> str:
    """``5.1x [3.9, 6.6]``: a geometric-mean ratio with its approximate interval."""
    if ratio.low is None or ratio.high is None:
        return f"{ratio.estimate:.3g}x"
    return f"{ratio.estimate:.3g}x [{ratio.low:.3g}, {ratio.high:.3g}]"


def _delta_words(delta: Interval, metric: Metric = ACCURACY) -> str:
    """``+3.0 points [2.1, 3.9] (t, 5 seeds)`` for a metric where higher is better; ``MSE 1.12
    lower [0.9, 1.3] (t, 5 seeds)`` for one where lower is better (the interval of the same
    change: how much lower, or how much higher)."""
    if metric.sign > 0:
        if not delta.has_interval:
            return f"{delta.estimate:+.1f} {metric.unit} (1 seed, no interval)"
        return (
            f"{delta.estimate:+.1f} {metric.unit} [{delta.low:.1f}, {delta.high:.1f}] "
            f"({delta.method}, {delta.n} seeds)"
        )
    lower = delta.estimate >= 0
    size = abs(delta.estimate)
    way = "lower" if lower else "higher"
    if not delta.has_interval or delta.low is None or delta.high is None:
        return f"{metric.unit} {size:.3g} {way} (1 seed, no interval)"
    low, high = (delta.low, delta.high) if lower else (-delta.high, -delta.low)
    return (
        f"{metric.unit} {size:.3g} {way} [{low:.3g}, {high:.3g}] ({delta.method}, {delta.n} seeds)"
    )


def _break_even_words(n_star: BreakEven) -> str:
    low, high = n_star.optimistic, n_star.pessimistic
    if math.isinf(n_star.estimate):
        if low is not None and not math.isinf(low):
            best = "from the first prediction" if low < 1 else f"after {_human(low)} predictions"
            return f"never pays off at the mean difference (at best {best})"
        return "never pays off"
    ci = f" [{_human(low)}, {_human(high)}]" if low is not None and high is not None else ""
    if n_star.estimate < 1:  # cheaper than the reference and better: no predictions to wait for
        return "pays off from the first prediction" + _at_worst(high)
    return f"pays off after {_human(n_star.estimate)}{ci} predictions"


def _at_worst(pessimistic: float | None) -> str:
    """The interval's worst break-even, after a mean that pays off from the first prediction."""
    if pessimistic is None:
        return ""
    if math.isinf(pessimistic):
        return " (at worst never)"
    return "" if pessimistic < 1 else f" (at worst after {_human(pessimistic)} predictions)"


def _call(
    delta: Interval,
    n_star: BreakEven,
    feasible: bool,
    broken: Sequence[str],
    settings: VerdictSettings,
    unit: str = ACCURACY.unit,
) -> tuple[str, str]:
    """The call and why, by the rules in the module's docstring, in their order."""
    rope, volume = settings.rope_points, settings.deployment_predictions
    better = f"{rope:g} {unit} better"  # the ROPE's upper edge, in words
    expected = f"the {_human(volume)} predictions expected"
    if not feasible:
        return NOT_DEPLOYABLE, f"breaks {'; '.join(broken)}"
    if delta.low is None or delta.high is None:
        return INCONCLUSIVE, "needs two or more seeds for an interval"
    if delta.high <= rope:
        return (
            NOT_WORTH_IT,
            f"no improvement beyond the ROPE of +-{rope:g} {unit}: even the interval's best "
            f"case is at most {better}",
        )
    if n_star.optimistic is not None and n_star.optimistic > volume:
        return NOT_WORTH_IT, f"even the best case pays off after {expected}"
    if delta.low <= rope:
        return INCONCLUSIVE, f"the interval reaches both sides of the ROPE's edge ({better})"
    if n_star.pessimistic is not None and n_star.pessimistic <= volume:
        return WORTH_IT, f"more than {better} across the interval, and pays off within {expected}"
    return INCONCLUSIVE, f"more than {better}, but may not pay off within {expected}"


def verdicts(
    rows: Sequence[Mapping[str, Any]],
    settings: VerdictSettings,
    metric: Metric | None = None,
    reference: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Every row label but the reference's and the constant predictor's (the anchors) -> its
    verdict against the reference. ``metric`` and ``reference``: the rows' own (their
    ``metric`` column, else their task's) unless given."""
    metric = metric or rows_metric(rows)
    reference = reference or rows_reference(rows)
    by_method: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_method.setdefault(str(row["method"]), []).append(row)
    base = by_method.get(reference, [])
    return {
        label: method_verdict(method_rows, base, settings, metric, reference)
        for label, method_rows in by_method.items()
        if label not in (reference, CONSTANT)
    }
