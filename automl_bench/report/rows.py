"""One row of figures per method, flat: summary.csv's rows and the console table's."""

from __future__ import annotations

from typing import Any

from automl_bench.cost.uncertainty import describe
from automl_bench.failures import method_failures
from automl_bench.schema import Method, Summary


def row_keys(summary: Summary) -> tuple[str, str, str]:
    """The keys of the test metric's mean and std and of the difference to the reference:
    ``test_accuracy_mean``, ``test_accuracy_std``, ``delta_vs_baseline`` for an accuracy
    experiment; ``test_mse_mean``, ``test_mse_std``, ``delta_vs_pretrain_finetune`` for
    sinusoid."""
    name = summary.metric
    return f"test_{name}_mean", f"test_{name}_std", f"delta_vs_{summary.reference_method}"


def _delta(method: Method, is_reference: bool) -> tuple[float | None, float | None, float | None]:
    """The difference to the reference and its interval's ends (0 and none for the reference)."""
    if is_reference:
        return 0.0, None, None
    delta = method.delta_vs_reference
    low, high = delta.ci95 if delta.ci95 else (None, None)
    return delta.mean, low, high


def method_row(label: str, method: Method, summary: Summary) -> dict[str, Any]:
    mean_key, std_key, delta_key = row_keys(summary)
    training = method.cost.training()
    count = method_failures(method)  # search trials and final trainings
    delta, low, high = _delta(method, label == summary.reference_method)
    score = method.normalised_score
    return {
        "method": label,
        "seeds": method.test_metric.n,
        mean_key: method.test_metric.mean,
        std_key: method.test_metric.std,
        delta_key: delta,
        "delta_ci95_low": low,
        "delta_ci95_high": high,
        "normalised_score": score.estimate if score else None,
        "trials": count.run,
        "failed": count.failed,
        "wall_s": training.wall_s,
        "energy_kwh": training.energy_kwh,
        "energy_kwh_low": training.energy_kwh_low,
        "energy_kwh_high": training.energy_kwh_high,
        "co2_g": 1000 * training.co2_kg,
        "usd": training.usd,
        "inference_per_1k_j": 3.6e6 * method.cost.inference_per_1k.energy_kwh.total,
        "feasible": f"{method.deploy.feasible}/{method.deploy.models}",
        "energy_measured": describe(training.measured),
    }


def table_rows(summary: Summary) -> list[dict[str, Any]]:
    """One row per method. The delta and its interval: method - reference in the metric's own
    values (fractions for accuracy), the reference's row 0."""
    return [method_row(label, m, summary) for label, m in summary.methods.items()]
