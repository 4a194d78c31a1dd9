"""The verdict per method against the reference method, from results.csv rows (see DESIGN.md).

The reference is the hand-designed ``baseline`` for model-design experiments and
``pretrain_finetune`` for meta-learning families; "baseline" below means that reference. For
each seed s where both finished, d_s = the improvement of the method over the baseline, in the
metric's unit (``Metric.improvement``, positive is better): (accuracy(method, s) -
accuracy(baseline, s)) x 100 points, or MSE(baseline, s) - MSE(method, s). delta = mean d_s
with a t interval (BCa from 10 seeds). Extra cost per seed = the method's search + final
training - the baseline's final training (USD, kWh, kg CO2, GPU-hours). The energy and p95 CPU
latency against the baseline's are geometric-mean ratios with a t interval on the log ratios
(approximate). Extra inference cost per prediction = the difference of their inference cost per
1,000 / 1,000. With v = the value of one unit (an accuracy point, or one MSE) per prediction,
the method pays off after N* = extra USD / (delta x v - extra inference USD per prediction)
predictions, "never" when the denominator is not positive. N*'s interval puts the ends of
delta's interval into the same formula.

The call, against the region of practical equivalence (ROPE, +-rope_points, in the metric's
unit: accuracy points, or MSE):
- "not deployable": a final model of the method breaks a deployment constraint;
- "worth it": the interval lies wholly above +rope and even its pessimistic end pays off within
  the expected deployment volume;
- "not worth it": the interval lies at or below +rope (inside or below the ROPE), or even the
  optimistic break-even comes after the deployment volume (or never);
- "inconclusive": the interval straddles +rope, the break-even is uncertain, or fewer than two
  seeds paired.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl_bench.analysis.intervals import (
    BCA_FROM,
    Interval,
    bca_interval,
    clopper_pearson,
    probability_of_improvement,
    ratio_interval,
    t_interval,
)
from automl_bench.analysis.metrics import rows_metric, rows_reference, the_reference
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


def method_verdict(
    rows: Sequence[Mapping[str, Any]],
    base: Sequence[Mapping[str, Any]],
    settings: VerdictSettings,
    metric: Metric = ACCURACY,
    reference: str = BASELINE,
) -> dict[str, Any]:
    """The verdict of one method's rows against the reference's (both from results.csv):
    ``delta_points`` is the improvement in ``metric``'s unit (``unit``), positive is better."""
    by_seed = {r["seed"]: r for r in base}
    pairs = [
        (r, by_seed[r["seed"]])
        for r in rows
        if r["seed"] in by_seed
        and r["test_metric"] is not None
        and by_seed[r["seed"]]["test_metric"] is not None
    ]
    diffs = [metric.improvement(m["test_metric"], b["test_metric"]) for m, b in pairs]
    extra_usd = [m["search_usd"] + m["final_usd"] - b["final_usd"] for m, b in pairs]
    extra = {
        "usd": extra_usd,
        "energy_kwh": [
            m["search_energy_kwh"] + m["final_energy_kwh"] - b["final_energy_kwh"] for m, b in pairs
        ],
        "co2_kg": [m["search_co2_kg"] + m["final_co2_kg"] - b["final_co2_kg"] for m, b in pairs],
        "gpu_hours": [
            (m["search_device_s"] + m["final_device_s"] - b["final_device_s"]) / 3600
            for m, b in pairs
        ],
    }
    inference = [(m["inference_per_1k_usd"] - b["inference_per_1k_usd"]) / 1000 for m, b in pairs]
    v = settings.value_per_prediction
    per_seed = [break_even(e, d, i, v) for e, d, i in zip(extra_usd, diffs, inference, strict=True)]
    energy_ratio = ratio_interval(
        [m["search_energy_kwh"] + m["final_energy_kwh"] for m, _ in pairs],
        [b["final_energy_kwh"] for _, b in pairs],
    )
    latency_pairs = [
        (m["deploy_latency_ms_p95_cpu"], b["deploy_latency_ms_p95_cpu"])
        for m, b in pairs
        if m.get("deploy_latency_ms_p95_cpu") is not None
        and b.get("deploy_latency_ms_p95_cpu") is not None
    ]
    latency_ratio = ratio_interval([m for m, _ in latency_pairs], [b for _, b in latency_pairs])
    trials = sum(int(r["trials"]) for r in rows)
    failed_trials = sum(int(r["failed"]) for r in rows)
    failed_studies = sum(r["status"] != "ok" for r in rows)
    broken = sorted({r["deploy_broken"] for r in rows if r.get("deploy_broken")})
    feasible = all(r.get("deploy_feasible") is not False for r in rows)
    out: dict[str, Any] = {
        "reference": reference,
        "unit": metric.unit,
        "seeds_paired": len(pairs),
        "studies": len(rows),
        "failed_studies": _interval_dict(clopper_pearson(failed_studies, len(rows))),
        "failed_trials": _interval_dict(clopper_pearson(failed_trials, trials)),
        "feasible": feasible,
        "broken": broken,
    }
    if not pairs:
        out.update(
            call=INCONCLUSIVE,
            reason=f"no seed where both the method and {the_reference(reference)} finished",
        )
        return out
    delta = bca_interval(diffs) if len(diffs) >= BCA_FROM else t_interval(diffs)
    mean_extra_usd, mean_inference = _mean(extra_usd), _mean(inference)
    n_star = break_even(mean_extra_usd, delta.estimate, mean_inference, v)
    n_low = (
        break_even(mean_extra_usd, delta.high, mean_inference, v)
        if delta.high is not None
        else None
    )
    n_high = (
        break_even(mean_extra_usd, delta.low, mean_inference, v) if delta.low is not None else None
    )
    out.update(
        delta_points=_interval_dict(delta),
        probability_of_improvement=probability_of_improvement(diffs),
        extra_cost={k: _interval_dict(t_interval(vals)) for k, vals in extra.items()},
        energy_ratio=_interval_dict(energy_ratio),
        latency_ratio=_interval_dict(latency_ratio),
        extra_inference_usd_per_prediction=mean_inference,
        break_even_predictions={
            "estimate": n_star,
            "ci95": [n_low, n_high] if n_low is not None else None,
            "per_seed": per_seed,
        },
    )
    call, why = _call(delta, n_star, n_low, n_high, feasible, broken, settings, metric.unit)
    words = [_delta_words(delta, metric)]
    if energy_ratio.n:
        words.append(f"{_ratio_words(energy_ratio)} {the_reference(reference)}'s energy")
    if latency_ratio.n:
        words.append(f"{_ratio_words(latency_ratio)} {the_reference(reference)}'s p95 CPU latency")
    words.append(_break_even_words(n_star, n_low, n_high))
    if feasible and settings.constraints:
        words.append(f"meets {settings.constraints}")
    words.append(why)
    if failed_studies:
        words.append(f"{failed_studies} of {len(rows)} studies failed")
    out.update(call=call, reason=", ".join(w for w in words if w))
    return out


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


def _break_even_words(n_star: float, low: float | None, high: float | None) -> str:
    if math.isinf(n_star):
        if low is not None and not math.isinf(low):
            return (
                f"never pays off at the mean difference (at best after {_human(low)} predictions)"
            )
        return "never pays off"
    ci = f" [{_human(low)}, {_human(high)}]" if low is not None and high is not None else ""
    return f"pays off after {_human(n_star)}{ci} predictions"


def _call(
    delta: Interval,
    n_star: float,
    n_low: float | None,
    n_high: float | None,
    feasible: bool,
    broken: Sequence[str],
    settings: VerdictSettings,
    unit: str = ACCURACY.unit,
) -> tuple[str, str]:
    rope, volume = settings.rope_points, settings.deployment_predictions
    if not feasible:
        return NOT_DEPLOYABLE, f"breaks {'; '.join(broken)}"
    if not delta.has_interval or delta.low is None or delta.high is None:
        return INCONCLUSIVE, "needs two or more seeds for an interval"
    if delta.high <= rope:
        return NOT_WORTH_IT, f"the interval lies at or below the ROPE of +-{rope:g} {unit}"
    if delta.low <= rope:
        return INCONCLUSIVE, f"the interval straddles the ROPE of +-{rope:g} {unit}"
    if n_low is not None and n_low > volume:
        return (
            NOT_WORTH_IT,
            f"even the best case pays off after the {_human(volume)} predictions expected",
        )
    if n_high is not None and n_high <= volume:
        return WORTH_IT, f"within the {_human(volume)} predictions expected"
    return INCONCLUSIVE, f"may not pay off within the {_human(volume)} predictions expected"


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
