"""Meta-learning figures for the summary: a study's (from its final trial's ``meta_*`` keys
and its test metric after k adaptation steps), a method's over its seeds, MAML over
first-order MAML, and any of them as MLflow metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from automl_bench.analysis.intervals import mean_ci
from automl_bench.analysis.metrics import step_keys
from automl_bench.metric import ACCURACY, MSE, Metric
from automl_bench.schema import MetaFigures, MetaRatios, MetaStep, OrderRatios, Study

META = "meta_"
SECOND_ORDER, FIRST_ORDER = "maml", "fomaml"
# the per-seed figures a method's meta block averages
META_MEANS = (
    "iterations",
    "seconds_per_iteration",
    "peak_memory_mb",
    "tasks_served",
    "train_kwh_per_task",
    "train_usd_per_task",
    "train_wall_s_per_task",
    "adapt_kwh_per_task",
    "test_tasks",
)


def _ends(low: Any, high: Any) -> tuple[float, float] | None:
    return (float(low), float(high)) if low is not None and high is not None else None


def meta_block(result: Mapping[str, Any], metric: Metric = ACCURACY) -> MetaFigures | None:
    """A meta-learning final trial's figures: its ``meta_*`` keys without the prefix, and per
    adaptation step the test metric over the meta-test tasks; None when it has none."""
    steps = step_keys(metric, result)
    found = {k[len(META) :]: v for k, v in result.items() if k.startswith(META)}
    if not steps and not found:
        return None
    out: dict[str, MetaStep] = {}
    for step, key in steps.items():
        diverged = result.get(f"{key}_diverged")  # tasks that blew up: left out of the mean
        out[str(step)] = MetaStep(
            mean=float(result[key]),
            ci95=_ends(result.get(f"{key}_low"), result.get(f"{key}_high")),
            diverged=int(diverged) if diverged else None,
        )
    return MetaFigures(figures=dict(sorted(found.items())), steps=out)


def _mean_of(blocks: Sequence[MetaFigures], key: str) -> float | None:
    values = [v for v in (b.number(key) for b in blocks) if v is not None]
    return math.fsum(values) / len(values) if values else None


def _method_figures(blocks: Sequence[MetaFigures]) -> dict[str, Any]:
    """The means of ``META_MEANS``, each seed's fine-tuning step size, and how (and where)
    each figure was measured, every seed's words joined."""
    out: dict[str, Any] = {"seeds": len(blocks)}
    out.update({key: _mean_of(blocks, key) for key in META_MEANS})
    lrs = [lr for lr in (b.number("finetune_lr") for b in blocks) if lr is not None]
    if lrs:
        out["finetune_lr"] = lrs  # per seed (meta_metrics logs numbers only)
    words = sorted({k for b in blocks for k, v in b.figures.items() if isinstance(v, str)})
    for key in words:
        out[key] = ", ".join(sorted({t for b in blocks if (t := b.text(key))})) or None
    return out


def _method_step(per_seed: Sequence[MetaStep], metric: Metric) -> MetaStep:
    """From two seeds on the seed interval over the seeds' means, else the one seed's own."""
    means = [p.mean for p in per_seed]
    diverged = sum(p.diverged or 0 for p in per_seed) or None  # tasks, over all its seeds
    if len(means) >= 2:
        ci = mean_ci(means, metric.value_bounds)
        return MetaStep(
            mean=ci["mean"],
            ci95=ci["ci95"],
            ci=f"{ci['interval']} over {len(means)} seeds",
            seeds=len(means),
            diverged=diverged,
        )
    return MetaStep(
        mean=means[0],
        ci95=per_seed[0].ci95,
        ci="t over the meta-test tasks of 1 seed",
        seeds=1,
        diverged=diverged,
    )


def method_meta(studies: Sequence[Study], metric: Metric = MSE) -> MetaFigures | None:
    """A method's meta-learning figures over its seeds (None: no study has any)."""
    blocks = [s.meta for s in studies if s.meta is not None]
    if not blocks:
        return None
    names = sorted({k for b in blocks for k in b.steps}, key=int)
    steps = {
        name: _method_step([b.steps[name] for b in blocks if name in b.steps], metric)
        for name in names
    }
    return MetaFigures(figures=_method_figures(blocks), steps=steps)


def meta_ratios(blocks: Mapping[str, MetaFigures | None]) -> MetaRatios | None:
    """MAML over first-order MAML (``blocks``: each method's meta block): time per
    meta-iteration and peak memory (means over seeds); None unless both ran."""
    second, first = blocks.get(SECOND_ORDER), blocks.get(FIRST_ORDER)
    if second is None or first is None:
        return None

    def ratio(key: str) -> float | None:
        a, b = second.number(key), first.number(key)
        return a / b if a is not None and b else None

    return MetaRatios(
        second_over_first_order=OrderRatios(
            time_per_iteration=ratio("seconds_per_iteration"),
            peak_memory=ratio("peak_memory_mb"),
            memory_measured=second.figures.get("memory_measured"),
        )
    )


def meta_metrics(meta: MetaFigures | None, metric: Metric = ACCURACY) -> dict[str, float]:
    """A meta block (a study's or a method's) as MLflow metrics: ``meta_<figure>`` and
    ``test_<metric>_<k>step`` (with ``_low`` / ``_high``); numbers only."""
    if meta is None:
        return {}
    out = {f"{META}{k}": v for k in meta.figures if (v := meta.number(k)) is not None}
    for step, figures in meta.steps.items():
        key = f"{metric.test_key}_{step}step"
        out[key] = figures.mean
        ci = figures.ci95
        if ci and ci[0] is not None and ci[1] is not None:
            out[f"{key}_low"], out[f"{key}_high"] = float(ci[0]), float(ci[1])
    return out
