"""Which metric and which reference method an experiment's files speak of, and how to print them.

A summary says it with its ``metric`` (the name), ``direction``, ``metric_unit``,
``metric_scale`` and ``reference_method``; results.csv with its ``metric`` and ``task``
columns. Files written before these existed are accuracy experiments against ``baseline``.
Every comparison works on the improvement (``Metric.improvement``: positive is better, in the
metric's unit); tables print a difference in the metric's own sense ("Δ points": method -
reference, x100; "Δ MSE": method - reference, negative is lower).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from automl_bench.metric import ACCURACY, BASELINE, KNOWN, Metric
from automl_bench.scoring import reference_method, task_metric

if TYPE_CHECKING:
    from automl_bench.schema import Summary


def metric_named(
    name: str,
    direction: str | None = None,
    scale: float | None = None,
    unit: str | None = None,
) -> Metric:
    """A metric by name, the fields given overriding a known metric's (an unknown name without
    them: higher is better, differences as they are)."""
    known = KNOWN.get(name, Metric(name, "maximize", 1.0, name, (-math.inf, math.inf), name))
    return Metric(
        name,
        direction or known.direction,
        float(scale) if scale is not None else known.scale,
        unit or known.unit,
        known.value_bounds,
        known.words,
    )


def summary_metric(summary: Summary) -> Metric:
    """The metric a summary is scored by, as it says it."""
    return metric_named(
        summary.metric, summary.direction, summary.metric_scale, summary.metric_unit
    )


def the_reference(reference: str) -> str:
    """The reference in a sentence: "the baseline", or a method's name as it is."""
    return f"the {reference}" if reference == BASELINE else reference


def summary_reference(summary: Summary) -> str:
    return summary.reference_method


def rows_metric(rows: Iterable[Mapping[str, Any]]) -> Metric:
    """results.csv rows' metric: their ``metric`` column, else their task's metric."""
    for row in rows:
        if row.get("metric"):
            return metric_named(str(row["metric"]))
        if row.get("task"):
            return task_metric(str(row["task"]))
    return ACCURACY


def rows_reference(rows: Iterable[Mapping[str, Any]]) -> str:
    """results.csv rows' reference method: their ``reference`` column, else their task's."""
    for row in rows:
        if row.get("reference"):
            return str(row["reference"])
        if row.get("task"):
            return reference_method(str(row["task"]))
    return BASELINE


# --- printing --------------------------------------------------------------------------------


def is_percent(metric: Metric) -> bool:
    """Values shown in % (accuracy, ROC AUC...), differences in points."""
    return metric.percent


def is_accuracy(metric: Metric) -> bool:
    """The metric the report's fixed wording is written for."""
    return metric.name == ACCURACY.name


def value_header(metric: Metric, prefix: str = "test") -> str:
    """``test acc %``, ``test ROC AUC %`` or ``test MSE``."""
    if is_accuracy(metric):
        return f"{prefix} acc %"
    return f"{prefix} {metric.words} %" if is_percent(metric) else f"{prefix} {metric.unit}"


def value_text(metric: Metric, value: float | None) -> str:
    """A value of the metric: accuracy in % with one decimal, others with 3 decimals."""
    if value is None:
        return "-"
    return f"{100 * value:.1f}" if is_percent(metric) else f"{value:.3f}"


def value_sd(metric: Metric, mean: float | None, sd: float | None) -> str:
    if mean is None:
        return "-"
    return value_text(metric, mean) + (f" ± {value_text(metric, sd)}" if sd is not None else "")


def delta_header(metric: Metric) -> str:
    """``Δ points [95% CI]`` or ``Δ MSE [95% CI]``."""
    return f"Δ {metric.unit} [95% CI]"


def delta_format(metric: Metric) -> str:
    return "+.1f" if is_percent(metric) else "+.3f"


def difference(metric: Metric, improvement: float) -> float:
    """An improvement back as a difference method - reference in the unit (points x100 for
    accuracy, MSE as is)."""
    return metric.sign * improvement


def difference_interval(
    metric: Metric, estimate: float, ci: Sequence[float | None] | None
) -> tuple[float, list[float | None] | None]:
    """An improvement's estimate and interval as the difference method - reference."""
    if ci is None or ci[0] is None or ci[1] is None:
        return difference(metric, estimate), None
    ends = sorted((difference(metric, float(ci[0])), difference(metric, float(ci[1]))))
    return difference(metric, estimate), [ends[0], ends[1]]


STEP_KEY = r"^test_{name}_(\d+)step$"


def step_keys(metric: Metric, result: Mapping[str, Any]) -> dict[int, str]:
    """Adaptation steps -> the result key of the metric after that many steps."""
    pattern = re.compile(STEP_KEY.format(name=re.escape(metric.name)))
    found = {}
    for key in result:
        match = pattern.match(key)
        if match:
            found[int(match.group(1))] = key
    return dict(sorted(found.items()))
