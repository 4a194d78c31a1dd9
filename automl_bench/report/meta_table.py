"""The meta-learning table: per method, the test metric after k adaptation steps, time per
meta-iteration, peak memory and energy per task; shared by the console and the report."""

from __future__ import annotations

from automl_bench.analysis.metrics import summary_metric, value_text
from automl_bench.metric import ACCURACY, Metric
from automl_bench.schema import MetaFigures, MetaStep, OrderRatios, Summary

NOTE = (
    "After k steps: the test metric after k adaptation steps on each meta-test task's "
    "support set; intervals: {cis} (from two seeds on the seed interval over the seeds' means, "
    "else over one seed's meta-test tasks). ms / iteration, mean over seeds of each seed's "
    "{timings}. Peak memory: the tensors one meta-iteration's autograd graph holds when "
    "backward starts (the CPU has no peak-allocation counter). kWh / task: the final phase's "
    "meta-training energy divided by the tasks it served (amortised)."
)
DIVERGED = (
    " *Diverged: meta-test tasks (over all seeds) whose adaptation blew up (a non-finite "
    "query MSE); they are left out of the mean and its interval."
)


def _step_cell(metric: Metric, step: MetaStep | None) -> str:
    if step is None:
        return "-"
    text = value_text(metric, step.mean)
    ci = step.ci95
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{value_text(metric, ci[0])}, {value_text(metric, ci[1])}]"
    if step.diverged:
        text += f" ({step.diverged} diverged*)"
    return text


def _figure_cells(meta: MetaFigures) -> tuple[str, str, str]:
    """ms / iteration (where), peak memory MB (how measured), kWh per task."""
    spi, mem = meta.number("seconds_per_iteration"), meta.number("peak_memory_mb")
    kwh = meta.number("train_kwh_per_task")
    device, measured = meta.text("device"), meta.text("memory_measured")
    return (
        "-" if spi is None else f"{1000 * spi:.3g}" + (f" ({device})" if device else ""),
        "-" if mem is None else f"{mem:.4g}" + (f" ({measured})" if measured else ""),
        "-" if kwh is None else f"{kwh:.3g}",
    )


def _header(metric: Metric, steps: list[str]) -> tuple[str, ...]:
    unit = "acc %" if metric.name == ACCURACY.name else metric.unit
    return (
        "method",
        "seeds",
        *(f"{unit} after {s} step{'s' if s != '1' else ''} [95% CI]" for s in steps),
        "ms / iteration",
        "peak memory MB",
        "kWh / task (amortised)",
    )


def _note(blocks: dict[str, MetaFigures], ratios: OrderRatios | None) -> str:
    cis = sorted({s.ci for m in blocks.values() for s in m.steps.values() if s.ci})
    timings = sorted(f"{k}: {t}" for k, m in blocks.items() if (t := m.text("time_measured")))
    note = NOTE.format(cis="; ".join(cis) or "-", timings="; ".join(timings) or "-")
    if any(s.diverged for m in blocks.values() for s in m.steps.values()):
        note += DIVERGED
    return note + (" " + meta_ratio_line(ratios) if ratios else "")


def meta_table(summary: Summary) -> tuple[tuple[str, ...], list[tuple[str, ...]], str]:
    """The meta-learning figures per method (header, rows, note); no rows without them."""
    metric = summary_metric(summary)
    blocks = {k: m.meta for k, m in summary.methods.items() if m.meta is not None}
    steps = sorted({s for meta in blocks.values() for s in meta.steps}, key=int)
    rows = [
        (
            label,
            "-" if (seeds := meta.number("seeds")) is None else str(int(seeds)),
            *(_step_cell(metric, meta.steps.get(s)) for s in steps),
            *_figure_cells(meta),
        )
        for label, meta in blocks.items()
    ]
    ratios = summary.meta_ratios.second_over_first_order if summary.meta_ratios else None
    return _header(metric, steps), rows, _note(blocks, ratios)


def meta_ratio_line(ratios: OrderRatios) -> str:
    def x(value: float | None) -> str:
        return "-" if value is None else f"{value:.3g}x"

    return (
        f"MAML over first-order MAML: {x(ratios.time_per_iteration)} the time per "
        f"meta-iteration, {x(ratios.peak_memory)} the peak memory"
        + (f" ({ratios.memory_measured})" if ratios.memory_measured else "")
        + "."
    )
