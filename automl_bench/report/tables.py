"""The report's tables as plain rows of text, shared by the HTML and the Markdown report.

Accuracy in % and differences in points (MSE and its differences as they are, 3 decimals; Δ is
method - reference, so a negative Δ MSE is better), energy in kWh, CO2 in g, money in USD,
latency in ms; every interval is named with how it was computed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from automl_bench.analysis.metrics import (
    delta_format,
    delta_header,
    difference_interval,
    is_accuracy,
    summary_metric,
    summary_reference,
    the_reference,
    value_header,
    value_sd,
)
from automl_bench.failures import FailureCount, method_failures, run_failures
from automl_bench.metric import Metric
from automl_bench.report.meta_table import meta_table
from automl_bench.schema import Estimate, Method, Summary, VerdictSettings
from automl_bench.tasks.constant import CONSTANT


@dataclass(frozen=True)
class TextTable:
    key: str  # its id in the HTML
    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    note: str = ""


def number_text(value: float | None, fmt: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "never"
    return format(value, fmt)


def interval_text(estimate: float | None, ci: Sequence[float | None] | None, fmt: str) -> str:
    text = number_text(estimate, fmt)
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{number_text(ci[0], fmt)}, {number_text(ci[1], fmt)}]"
    return text


def verdict_table(summary: Summary) -> TextTable:
    rows = [
        (label, m.verdict.call, m.verdict.reason)
        for label, m in summary.methods.items()
        if m.verdict is not None
    ]
    s = summary.verdict_settings or VerdictSettings()
    unit = summary_metric(summary).unit
    one = "one accuracy point" if unit == "points" else f"an improvement of 1 {unit}"
    note = (
        f"ROPE +-{s.rope_points:g} {unit}; {one} is worth USD "
        f"{s.value_usd_per_point_per_million:g} per million predictions; "
        f"{s.deployment_predictions:.3g} predictions expected"
        + (f"; constraints: {s.constraints}" if s.constraints else "")
        + " (config: verdict, deploy.constraints)."
    )
    return TextTable(
        "verdict", "Is it worth it?", ("method", "verdict", "why, in numbers"), rows, note
    )


def delta_text(metric: Metric, delta: Estimate | None) -> str:
    """A verdict's improvement as the difference method - reference with its interval: ``+3.0
    [2.1, 3.9]`` points for accuracy, ``-0.120 [-0.150, -0.090]`` MSE."""
    if not delta:
        return "-"
    estimate, ci = difference_interval(metric, delta.estimate, delta.ci95)
    return interval_text(estimate, ci, delta_format(metric))


def _accuracy_row(label: str, m: Method, metric: Metric, reference: str) -> tuple[str, ...]:
    verdict = m.verdict
    score = m.normalised_score
    return (
        label,
        str(m.test_metric.n),
        value_sd(metric, m.test_metric.mean, m.test_metric.std),
        "(reference)"
        if label == reference
        else delta_text(metric, verdict.delta_points if verdict else None),
        interval_text(score.estimate, score.ci95, ".2f") if score else "-",
        number_text(verdict.probability_of_improvement if verdict else None, ".2f"),
        _failures(method_failures(m), verdict.failed_trials if verdict else None),
    )


def _constant_row(summary: Summary, metric: Metric) -> list[tuple[str, ...]]:
    constant = summary.reference.constant if summary.reference else None
    if constant is None or constant.test_metric is None:
        return []
    row = (CONSTANT, str(len(constant.per_seed)), value_sd(metric, constant.test_metric, None))
    return [(*row, "-", "0 (by definition)", "-", "-")]


def accuracy_table(summary: Summary) -> TextTable:
    metric, reference = summary_metric(summary), summary_reference(summary)
    rows = [_accuracy_row(label, m, metric, reference) for label, m in summary.methods.items()]
    rows += _constant_row(summary, metric)
    if is_accuracy(metric) and reference == "baseline":
        note = (
            "Δ: paired difference to the baseline, same seeds and splits. Score: (method - "
            "constant) / (baseline - constant) per seed, so the constant predictor is 0 and the "
            "baseline 1. P(improvement): the share of seed pairs where the method beat the "
            "baseline (ties count one half). Failed trials: failed of run, search trials and "
            "final trainings together, with the exact Clopper-Pearson interval of the rate."
        )
    else:
        better = "higher" if metric.sign > 0 else "lower"
        note = (
            f"Δ: paired difference method - {reference} ({better} is better), same seeds and "
            "meta-test tasks. Score: "
            + (
                f"(method - constant) / ({reference} - constant) per seed."
                if summary.constant_metric is not None
                else "none (no constant predictor for this task)."
            )
            + " P(improvement): the share of seed pairs where the method beat "
            f"{the_reference(reference)} "
            "(ties count one half). Failed trials: failed of run, search trials and final "
            "trainings together, with the exact Clopper-Pearson interval of the rate."
        )
    return TextTable(
        "accuracy",
        "Accuracy" if is_accuracy(metric) else f"Test {metric.words}",
        (
            "method",
            "seeds",
            f"{value_header(metric)} (mean ± sd)",
            delta_header(metric),
            "score [95% CI]",
            "P(improvement)",
            "failed trials [95% CI]",
        ),
        rows,
        note,
    )


def _cost_row(label: str, m: Method) -> tuple[str, ...]:
    search, final = m.cost.search, m.cost.final
    training = m.cost.training()
    low, high = training.energy_kwh_low, training.energy_kwh_high
    ratio = m.verdict.energy_ratio if m.verdict else None
    latency = m.verdict.latency_ratio if m.verdict else None
    return (
        label,
        number_text(search.energy_kwh.total),
        number_text(final.energy_kwh.total),
        f"{number_text(training.energy_kwh)} [{number_text(low)}, {number_text(high)}]",
        interval_text(ratio.estimate, ratio.ci95, ".3g") if ratio else "-",
        number_text(1000 * training.co2_kg),
        number_text(training.usd),
        number_text(training.device_s / 3600),
        number_text(training.wall_s, ".1f"),
        number_text(3.6e6 * m.cost.inference_per_1k.energy_kwh.total, ".3g"),
        _latency(m),
        interval_text(latency.estimate, latency.ci95, ".3g") if latency else "-",
        f"{m.deploy.feasible}/{m.deploy.models}",
    )


def cost_table(summary: Summary) -> TextTable:
    reference = summary_reference(summary)
    rows = [_cost_row(label, m) for label, m in summary.methods.items()]
    return TextTable(
        "cost",
        "Cost and deployability",
        (
            "method",
            "search kWh",
            "final kWh",
            "total kWh [band]",
            f"x {reference} energy [95% CI]",
            "CO2 g",
            "USD",
            "GPU-h",
            "wall s",
            "J / 1k pred.",
            "p95 ms (CPU)",
            f"x {reference} p95 [95% CI]",
            "feasible",
        ),
        rows,
        "Totals over seeds. The band is the energy source's stated uncertainty, not a "
        f"confidence interval. x {reference}: the geometric mean over seed pairs of method / "
        f"{reference} with the seed interval of the log ratios. p95 ms: batch size 1, "
        "mean over the method's final models.",
    )


def failures_table(summary: Summary) -> TextTable:
    rows = [
        (label, str(s.seed), f.phase, f.trial_id, f.reason or "")
        for label, m in summary.methods.items()
        for s in m.studies
        for f in s.failures
    ]
    return TextTable(
        "failures",
        "Failed trials",
        ("method", "seed", "phase", "trial", "reason"),
        rows,
        f"{run_failures(summary).words().capitalize()}. Every failed trial counts: its energy "
        "is in its method's search or final training cost.",
    )


def meta_text_table(summary: Summary) -> TextTable | None:
    """The meta-learning figures per method, when any method has them."""
    header, rows, note = meta_table(summary)
    if not rows:
        return None
    return TextTable("meta", "Meta-learning: adaptation, time and memory", header, rows, note)


def percent_sd(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return "-"
    return f"{100 * mean:.1f}" + (f" ± {100 * sd:.1f}" if sd is not None else "")


def _failures(count: FailureCount, rate: Estimate | None) -> str:
    """``2 of 10, 20% [3, 56]``: failed of run (search trials and final trainings), with the
    verdict's interval of the rate when the method has one."""
    ci = rate.ends if rate is not None and rate.n else None
    if rate is None or ci is None:
        return count.cell()
    return f"{count.cell()}, {100 * rate.estimate:.0f}% [{100 * ci[0]:.0f}, {100 * ci[1]:.0f}]"


def _latency(method: Method) -> str:
    values = [
        s.deploy.cpu.latency_ms_p95
        for s in method.studies
        if s.deploy is not None and s.deploy.cpu is not None
    ]
    return number_text(math.fsum(values) / len(values)) if values else "-"


def tables(summary: Summary) -> list[TextTable]:
    meta = meta_text_table(summary)
    return [
        verdict_table(summary),
        accuracy_table(summary),
        *([meta] if meta is not None else []),
        cost_table(summary),
        failures_table(summary),
    ]
