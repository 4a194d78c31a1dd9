"""The report's words: the heading lines, the energy balance, and how each figure was computed.
Shared by the HTML and the Markdown report."""

from __future__ import annotations

from automl_bench.analysis.metrics import is_accuracy, summary_metric, summary_reference
from automl_bench.looks import looks_words
from automl_bench.schema import Summary

METHODS_NOTE = (
    "Pairing: every method sees the same seeds and, at each seed, the same train / validation / "
    "test splits, so each seed gives one paired difference (method - baseline).",
    "Every interval over seeds is the seed interval, one method everywhere: an anytime-valid "
    "95% confidence sequence for a mean (Wang & Ramdas 2023), built at 97.5% under a Gaussian "
    "model so that it still holds 95% on skewed differences, at any number of seeds and when "
    "seeds are added until a call is decided; clipped to what the quantity can take (an "
    "accuracy to [0, 100] %, a difference to [-100, 100] points). With two seeds it is that "
    "whole range; with one there is none.",
    "Cost ratios (energy, wall-clock, p95 latency): the geometric mean of method / baseline "
    "over seed pairs, with the seed interval of the log ratios, back-transformed.",
    "Failure rates: failed / run, search trials and final trainings together, with the exact "
    "Clopper-Pearson 95% interval.",
    "Probability of improvement: the share of seed pairs where the method beat the baseline, "
    "ties counting one half.",
    "Normalised score: per seed (method - constant) / (baseline - constant): the constant "
    "predictor (the training split's most frequent class, or its mean target) is 0 and the "
    "hand-designed baseline "
    "is 1, anchors that do not move when a method is added.",
    "Break-even: the method pays off after N* = extra cost / (Δ x value of a point per "
    "prediction - extra inference cost per prediction) predictions, 'never' when the "
    "denominator is not positive; its interval puts the ends of Δ's interval into the formula.",
    "The call: 'worth it' when Δ's whole interval lies above the ROPE and even its pessimistic "
    "end pays off within the expected predictions; 'not worth it' when the interval lies at or "
    "below the ROPE, or even the best case pays off too late; 'inconclusive' when it straddles "
    "the ROPE; 'not deployable' when a final model breaks a deployment constraint. No p-value "
    "gate.",
    "Energy bands are the measurement's stated uncertainty (NVML 5%, RAPL 10%, a TDP estimate "
    "40%), not confidence intervals. The energy, CO2 and USD of a method are its search (failed "
    "trials included) plus its final training; idle time and measuring deployability belong to "
    "no method.",
)


def heading(summary: Summary) -> list[str]:
    budget, hardware, versions = summary.budget, summary.hardware, summary.versions
    metric, reference = summary_metric(summary), summary_reference(summary)
    scored = []
    if not is_accuracy(metric) or reference != "baseline":
        better = "higher" if metric.sign > 0 else "lower"
        scored = [
            f"Scored by test {metric.name} ({better} is better; differences in {metric.unit}), "
            f"every method against {reference}, the reference method; wherever the notes "
            f"below say baseline, read {reference}."
        ]
    return [
        *scored,
        f"Task {summary.task}, search space {summary.space}, seeds {summary.seeds}, "
        f"{budget.trials} search trials of {budget.epochs} epochs per study.",
        f"Run {summary.created} at code revision {summary.code_revision}; "
        f"{summary.wall_s:.0f} s in all.",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in hardware.items() if v not in (None, "", [])),
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        *([looks] if (looks := looks_words(summary)) else []),
    ]


def energy_balance(summary: Summary) -> str:
    cost = summary.cost
    node = cost.node
    node_kwh = node.energy_kwh.total
    idle_kwh = cost.idle.energy_kwh.total
    deploy_kwh = cost.deploy.energy_kwh.total
    share = idle_kwh / node_kwh if node_kwh else 0.0
    return (
        f"Energy measured: {node.estimate}. The nodes used {node_kwh:.3g} kWh "
        f"(USD {node.usd:.3g}, {1000 * node.co2_kg:.3g} g CO2); idle / overhead "
        f"{idle_kwh:.3g} kWh ({100 * share:.0f}%) and measuring deployability {deploy_kwh:.3g} "
        "kWh, in no method's figures."
    )


def prices_line(summary: Summary) -> str:
    sources = summary.cost.prices.sources
    if not sources:
        return ""
    return "Prices and factors: " + "; ".join(f"{k}: {v}" for k, v in sources.items())
