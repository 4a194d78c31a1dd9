"""The tables printed at the end of a run: each method's figures, the meta-learning table,
the verdicts and the looks, on a rich console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from automl_bench.analysis.metrics import (
    delta_format,
    summary_metric,
    the_reference,
    value_header,
    value_sd,
    value_text,
)
from automl_bench.failures import run_failures
from automl_bench.looks import looks_words
from automl_bench.metric import BASELINE, Metric
from automl_bench.report.meta_table import meta_table
from automl_bench.report.rows import row_keys, table_rows
from automl_bench.schema import Summary
from automl_bench.tasks.constant import CONSTANT

COLUMNS = ("Δ", "score", "trials (failed)", "wall s", "energy kWh", "CO2 g", "USD", "J / 1k pred.")


def _with_band(value: float, low: float, high: float) -> str:
    """``1.3e-05 +-40%``: the band as a relative half-width (symmetric for one method)."""
    if value <= 0:
        return f"{value:.2g}"
    return f"{value:.2g} +-{100 * (high - low) / (2 * value):.0f}%"


def _unit_words(unit: str) -> tuple[str, str]:
    """How the ROPE and the value of one unit read: ("points", "one point") for accuracy."""
    return (unit, "one point") if unit == "points" else (unit, f"an improvement of 1 {unit}")


def print_verdicts(summary: Summary, console: Console) -> None:
    """One line per method: the call, and the reason in numbers."""
    reference = summary.reference_method
    table = Table(title=f"Is it worth it? (each method against {the_reference(reference)})")
    for name in ("method", "verdict", "why, in numbers"):
        table.add_column(name)
    for label, method in summary.methods.items():
        if method.verdict is not None:
            table.add_row(label, method.verdict.call, method.verdict.reason)
    console.print(table)
    s = summary.verdict_settings
    if s is not None:
        unit, one = _unit_words(summary_metric(summary).unit)
        console.print(
            f"ROPE +-{s.rope_points:g} {unit}; {one} is worth "
            f"USD {s.value_usd_per_point_per_million:g} per million predictions; "
            f"{s.deployment_predictions:.3g} predictions expected (config: verdict)."
        )


def print_looks(summary: Summary, console: Console) -> None:
    words = looks_words(summary)
    if words:
        console.print(words)


def _delta_cell(metric: Metric, row: dict[str, Any], delta_key: str, reference: bool) -> str:
    if reference:
        return "(reference)"
    if row[delta_key] is None:
        return "-"
    ci = ""
    if row["delta_ci95_low"] is not None:
        low, high = row["delta_ci95_low"], row["delta_ci95_high"]
        ci = f" [{value_text(metric, low)}, {value_text(metric, high)}]"
    shown = row[delta_key] * (metric.scale if metric.percent else 1.0)
    return f"{shown:{delta_format(metric)}}{ci}"


def _method_table(summary: Summary) -> Table:
    metric = summary_metric(summary)
    mean_key, std_key, delta_key = row_keys(summary)
    table = Table(
        title=f"{summary.experiment}: {summary.task}, space {summary.space}, "
        f"{len(summary.seeds)} seeds"
    )
    header = ("method", value_header(metric), f"Δ {metric.unit} [95% CI]", *COLUMNS[1:])
    for name in (*header, "feasible"):
        table.add_column(name, justify="left" if name == "method" else "right")
    for row in table_rows(summary):
        label = row["method"]
        table.add_row(
            label,
            value_sd(metric, row[mean_key], row[std_key]),
            _delta_cell(metric, row, delta_key, label == summary.reference_method),
            "-" if row["normalised_score"] is None else f"{row['normalised_score']:.2f}",
            f"{row['trials']} ({row['failed']})",
            f"{row['wall_s']:.1f}",
            _with_band(row["energy_kwh"], row["energy_kwh_low"], row["energy_kwh_high"]),
            f"{row['co2_g']:.3g}",
            f"{row['usd']:.3g}",
            f"{row['inference_per_1k_j']:.2f}",
            row["feasible"],
        )
    constant = summary.constant_metric
    if constant is not None:
        table.add_row(CONSTANT, value_text(metric, constant), "-", "0", *["-"] * 7)
    return table


def _score_line(summary: Summary) -> str:
    reference = summary.reference_method
    if summary.constant_metric is None:
        return f"Δ: method - {reference}, paired over seeds; no constant predictor, no score."
    return (
        f"score: (method - constant) / ({reference} - constant) per seed, mean over seeds: "
        f"the constant predictor (the most frequent class, or the mean) is 0, "
        f"{'the hand-designed ' if reference == BASELINE else ''}{reference} 1."
    )


def _energy_line(summary: Summary) -> str:
    cost = summary.cost
    node_kwh, idle_kwh = cost.node.energy_kwh.total, cost.idle.energy_kwh.total
    share = idle_kwh / node_kwh if node_kwh else 0.0
    return (
        f"energy measured: {cost.node.estimate}. The nodes used {node_kwh:.2e} kWh "
        f"(USD {cost.node.usd:.4f}); idle / overhead {idle_kwh:.2e} kWh ({100 * share:.0f}%) "
        f"and measuring deployability {cost.deploy.energy_kwh.total:.2e} kWh, in no method's "
        "figures."
    )


def print_table(summary: Summary, console: Console, exp_dir: Path | None = None) -> None:
    """The methods' table, the meta-learning table, the energy balance, what is not
    deployable, warnings, and where the files are."""
    console.print(_method_table(summary))
    console.print(_score_line(summary))
    print_meta(summary, console)
    console.print(_energy_line(summary))
    for label, m in summary.methods.items():
        if m.deploy.broken:
            console.print(f"{label}: not deployable as configured: {'; '.join(m.deploy.broken)}")
    for warning in summary.cost.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    where = exp_dir if exp_dir is not None else Path(summary.experiment)
    console.print(
        f"{run_failures(summary).words()}; {summary.wall_s:.0f} s in all; "
        f"summary in {where / 'summary.json'}; MLflow: {summary.tracking_uri}"
    )


def print_meta(summary: Summary, console: Console) -> None:
    """The meta-learning table, after the main one, when any method has meta-learning figures."""
    header, rows, note = meta_table(summary)
    if not rows:
        return
    table = Table(title="Meta-learning: adaptation, time and memory per meta-iteration")
    for name in header:
        table.add_column(name, justify="left" if name == "method" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(note, markup=False, highlight=False)
