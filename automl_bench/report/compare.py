"""``automl-bench compare EXPERIMENT...``: experiments side by side, one row per (experiment,
method), each recomputed from its own results.csv; written as Markdown and self-contained HTML."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from automl_bench.analysis.metrics import (
    delta_header,
    summary_metric,
    summary_reference,
    value_header,
    value_sd,
)
from automl_bench.files import atomic_write
from automl_bench.report.html import STYLE
from automl_bench.report.markdown import markdown_table
from automl_bench.report.tables import TextTable, delta_text, interval_text, number_text
from automl_bench.schema import Method, Summary


def _compare_row(summary: Summary, label: str, m: Method) -> tuple[str, ...]:
    metric = summary_metric(summary)
    verdict, score = m.verdict, m.normalised_score
    delta = verdict.delta_points if verdict else None
    training = m.cost.training()
    reference = label == summary_reference(summary) and delta is None
    return (
        summary.experiment,
        summary.task,
        label,
        str(m.test_metric.n),
        value_sd(metric, m.test_metric.mean, m.test_metric.std),
        "(reference)" if reference else delta_text(metric, delta),
        interval_text(score.estimate, score.ci95, ".2f") if score else "-",
        number_text(training.energy_kwh),
        number_text(training.usd),
        verdict.call if verdict else "(reference)",
    )


def compare_table(summaries: Sequence[Summary]) -> TextTable:
    """Values and Δ in each experiment's own metric (accuracy %, or MSE); the headers name it
    where every experiment has the same one."""
    metrics = {summary_metric(s) for s in summaries}
    one = next(iter(metrics)) if len(metrics) == 1 else None
    rows = [_compare_row(s, label, m) for s in summaries for label, m in s.methods.items()]
    return TextTable(
        "compare",
        "Experiments side by side",
        (
            "experiment",
            "task",
            "method",
            "seeds",
            f"{value_header(one)} (mean ± sd)" if one else "test metric (mean ± sd)",
            delta_header(one) if one else "Δ [95% CI] (the task's unit)",
            "score [95% CI]",
            "energy kWh",
            "USD",
            "verdict",
        ),
        rows,
        "Each experiment against its own reference method (its baseline, or pretrain_finetune "
        "on a meta-learning family; paired over its own seeds): Δ and scores compare across "
        "experiments only where the task and reference are the same. Score: the constant "
        "predictor 0, the reference 1. Energy and USD: search plus final training, all "
        "seeds.",
    )


def write_comparison(summaries: Sequence[Summary], out_dir: Path) -> tuple[Path, Path, TextTable]:
    """compare-<a>-<b>....md and .html under ``out_dir``."""
    table = compare_table(summaries)
    stem = "compare-" + "-".join(s.experiment for s in summaries)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown, html = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
    created = ", ".join(f"{s.experiment} ({s.created})" for s in summaries)
    atomic_write(markdown, f"# {table.title}\n\n{created}\n\n{markdown_table(table, '##')}")
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    atomic_write(
        html,
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(table.title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(table.title)}</h1><p>{escape(created)}</p>"
        f'<table id="compare"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        f'<p class="note">{escape(table.note)}</p></body></html>\n',
    )
    return markdown, html, table
