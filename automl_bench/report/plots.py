"""The report's plots, as PNG files (matplotlib, no screen needed).

Each plot's caption (``CAPTIONS``) says what its points and error bars are; the HTML and Markdown
reports print it under the plot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from automl_bench.analysis.curves import FRONTS
from automl_bench.analysis.metrics import (
    is_accuracy,
    is_percent,
    summary_metric,
    summary_reference,
)
from automl_bench.metric import Metric
from automl_bench.schema import AnytimeCurve, ParetoFront, Summary

DPI = 110
PARETO_AXES = {
    "energy_kwh": "energy of search + final training, kWh (mean over seeds)",
    "latency_ms_p95_cpu": "p95 latency at batch size 1 on the CPU, ms (mean over seeds)",
    "search_usd": "search cost, USD (mean over seeds)",
}
CAPTIONS = {
    "differences": (
        "Paired difference to the baseline in accuracy points, one dot per seed. The bar is the "
        "95% seed interval of the mean difference (anytime-valid: it holds however many seeds "
        "were added before the call); the shaded "
        "band is the region of practical equivalence (ROPE)."
    ),
    "looks": (
        "Seeds added until decided: each method's improvement over the baseline with its 95% "
        "seed interval at every look, narrowing as seeds are added; a method stops once its "
        "interval clears the ROPE's edge (shaded: the ROPE). The interval is anytime-valid, so "
        "reading it at every look keeps its coverage."
    ),
    "anytime": (
        "Best validation accuracy so far against the cumulative energy of the search, read on a "
        "common grid, each method up to the most its studies spent. Line: the mean over seeds; "
        "shaded: one standard error of that mean (where two or more seeds have a value)."
    ),
    "cost": (
        "Energy per method, summed over its seeds, split into search (every trial, failed ones "
        "included, and the sampler's own work) and final training. Whiskers: the measurement "
        "band of the total (the energy source's stated uncertainty)."
    ),
    **{
        f"pareto_{name}": (
            f"Test accuracy (mean over seeds) against {axis.split(',')[0]}. Filled points are on "
            "the Pareto front (no other method is both at least as accurate and at most as "
            "costly); the line joins them."
        )
        for name, axis in PARETO_AXES.items()
    },
}


def captions(summary: Summary) -> dict[str, str]:
    """``CAPTIONS`` in the words of the summary's metric and reference method."""
    metric, reference = summary_metric(summary), summary_reference(summary)
    if is_accuracy(metric) and reference == "baseline":
        return dict(CAPTIONS)
    better = "higher" if metric.sign > 0 else "lower"
    name = metric.words
    out = {}
    for key, text in CAPTIONS.items():
        text = text.replace(
            "difference to the baseline in accuracy points",
            (
                f"improvement over {reference} in {metric.unit} (positive: the method's "
                f"{name} is better)"
            ),
        )
        text = text.replace("validation accuracy", f"validation {name} ({better} is better)")
        text = text.replace("Test accuracy", f"Test {name} ({better} is better)")
        text = text.replace("at least as accurate", "at least as good")
        out[key] = text.replace("baseline", reference)
    return out


def _shown(metric: Metric, value: float) -> float:
    """A value as plotted: accuracy in %, others as they are."""
    return 100 * value if is_percent(metric) else value


def _axis(metric: Metric) -> str:
    if is_percent(metric):
        return f"{metric.words} so far, %"
    return f"{metric.words} so far"


def _figure(width: float = 7.0, height: float = 4.0) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=DPI)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _save(fig: Any, path: Path) -> Path:
    from matplotlib import pyplot as plt

    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _rope(summary: Summary) -> float:
    return summary.verdict_settings.rope_points if summary.verdict_settings else 1.0


def differences_plot(summary: Summary, path: Path) -> Path:
    deltas = {
        label: m.verdict.delta_points
        for label, m in summary.methods.items()
        if m.verdict is not None and m.verdict.delta_points is not None
    }
    labels = list(deltas)
    fig, ax = _figure(7.0, 1.2 + 0.6 * max(1, len(labels)))
    rope = _rope(summary)
    ax.axvspan(-rope, rope, color="0.85")
    metric, reference = summary_metric(summary), summary_reference(summary)
    ax.set_title(f"shaded: the ROPE, +-{rope:g} {metric.unit}", fontsize=9)
    ax.axvline(0.0, color="0.4", lw=0.8)
    base = summary.methods[reference].studies if reference in summary.methods else []
    base_by_seed = {s.seed: s.test_metric for s in base}
    for y, (label, delta) in enumerate(deltas.items()):
        diffs = [
            metric.improvement(s.test_metric, ref)
            for s in summary.methods[label].studies
            if s.test_metric is not None and (ref := base_by_seed.get(s.seed)) is not None
        ]
        ax.scatter(diffs, [y] * len(diffs), color="tab:blue", alpha=0.6, s=18, zorder=3)
        if delta.ci95:
            low, high = delta.ci95
            ax.plot([low, high], [y, y], color="black", lw=2, zorder=4)
        ax.scatter([delta.estimate], [y], color="black", marker="D", s=30, zorder=5)
    if labels:
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)
    else:  # no seed where a method and the reference both finished: nothing to draw
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no paired difference to show", ha="center", transform=ax.transAxes)
    ax.set_xlabel(
        "method - baseline, accuracy points"
        if is_accuracy(metric) and reference == "baseline"
        else f"improvement over {reference}, {metric.unit} (positive: better)"
    )
    return _save(fig, path)


def looks_plot(summary: Summary, path: Path) -> Path | None:
    """A run that added seeds until decided: each method's interval, look by look, narrowing
    against the ROPE; None for a fixed list of seeds (one look)."""
    looks = summary.looks.looks if summary.looks else []
    if not looks:
        return None
    labels = sorted({label for look in looks for label in look.delta})
    fig, ax = _figure()
    rope = _rope(summary)
    ax.axhspan(-rope, rope, color="0.85")
    ax.axhline(0.0, color="0.4", lw=0.8)
    span = [0.0]
    for i, label in enumerate(labels):
        shift = 0.8 * (i - (len(labels) - 1) / 2) / max(1, len(labels))
        seen = [  # the looks it ran at: a decided method stops (no point past its last look)
            (look.look, look.delta[label])
            for look in looks
            if label in look.delta and (look.look == 0 or label in look.labels)
        ]
        xs = [look + shift for look, _ in seen]
        ys = [d.estimate for _, d in seen]
        lows = [d.ci95[0] if d.ci95 and d.ci95[0] is not None else d.estimate for _, d in seen]
        highs = [d.ci95[1] if d.ci95 and d.ci95[1] is not None else d.estimate for _, d in seen]
        finite = [v for v in (*lows, *highs) if math.isfinite(v)]
        span += finite
        errors = [[y - lo for y, lo in zip(ys, lows, strict=True)]]
        errors.append([hi - y for y, hi in zip(ys, highs, strict=True)])
        ax.errorbar(xs, ys, yerr=errors, fmt="o", capsize=3, label=label)
    ax.set_xticks(range(len(looks)), [f"{look.seeds_so_far}" for look in looks])
    ax.set_xlabel("seeds so far (one look each)")
    metric = summary_metric(summary)
    ax.set_ylabel(f"improvement, {metric.unit}")
    ax.set_ylim(min(span) - 1.0, max(span) + 1.0)
    ax.set_title(f"shaded: the ROPE, +-{rope:g} {metric.unit}", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def anytime_plot(summary: Summary, path: Path) -> Path:
    fig, ax = _figure()
    curves: Mapping[str, AnytimeCurve] = summary.analysis.anytime if summary.analysis else {}
    metric = summary_metric(summary)
    scale = 100.0 if is_percent(metric) else 1.0
    for method, curve in curves.items():
        xs = curve.grid_kwh or curve.grid
        spent = curve.spent  # not drawn past what the method spent
        points = [
            (x, scale * m, None if s is None else scale * s)
            for x, m, s in zip(xs, curve.mean, curve.stderr, strict=True)
            if m is not None and x <= spent
        ]
        if not points:
            continue
        x, mean, se = zip(*points, strict=True)
        (line,) = ax.plot(x, mean, label=method, drawstyle="steps-post")
        low = [m - (e or 0.0) for m, e in zip(mean, se, strict=True)]
        high = [m + (e or 0.0) for m, e in zip(mean, se, strict=True)]
        ax.fill_between(x, low, high, step="post", alpha=0.2, color=line.get_color())
    ax.set_xlabel("cumulative search energy, kWh")
    ax.set_ylabel(f"best validation {_axis(metric)}")
    if ax.get_legend_handles_labels()[0]:  # a method whose every trial failed draws no line
        ax.legend(fontsize=8)
    return _save(fig, path)


def pareto_plot(summary: Summary, name: str, path: Path) -> Path:
    fig, ax = _figure()
    fronts = summary.analysis.pareto if summary.analysis else {}
    front_data = fronts.get(name, ParetoFront(points={}, front=[]))
    points, front = front_data.points, front_data.front
    metric = summary_metric(summary)
    for method, (acc, cost) in points.items():
        on = method in front
        ax.scatter(
            [cost],
            [_shown(metric, acc)],
            s=40,
            facecolors="tab:blue" if on else "none",
            edgecolors="tab:blue",
            zorder=3,
        )
        ax.annotate(
            method, (cost, _shown(metric, acc)), textcoords="offset points", xytext=(5, 4), size=8
        )
    if len(front) > 1:
        ax.plot(
            [points[m][1] for m in front],
            [_shown(metric, points[m][0]) for m in front],
            color="tab:blue",
            lw=1,
            drawstyle="steps-post",
        )
    costs = [c for _, c in points.values() if c > 0]
    if costs and max(costs) / min(costs) > 20 and len(costs) == len(points):
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.margins(x=0.2, y=0.1)
    ax.set_xlabel(PARETO_AXES[name])
    ax.set_ylabel(f"test {metric.words}, %" if is_percent(metric) else f"test {metric.words}")
    return _save(fig, path)


def cost_plot(summary: Summary, path: Path) -> Path:
    labels = list(summary.methods)
    fig, ax = _figure(7.0, 1.2 + 0.5 * max(1, len(labels)))
    search = [summary.methods[m].cost.search.energy_kwh for m in labels]
    final = [summary.methods[m].cost.final.energy_kwh for m in labels]
    s_total = [e.total for e in search]
    f_total = [e.total for e in final]
    ys = range(len(labels))
    ax.barh(ys, s_total, color="tab:orange", label="search")
    ax.barh(ys, f_total, left=s_total, color="tab:green", label="final training")
    totals = [a + b for a, b in zip(s_total, f_total, strict=True)]
    low = [s.band[0] + f.band[0] for s, f in zip(search, final, strict=True)]
    high = [s.band[1] + f.band[1] for s, f in zip(search, final, strict=True)]
    ax.errorbar(
        totals,
        list(ys),
        xerr=[
            [max(0.0, t - lo) for t, lo in zip(totals, low, strict=True)],
            [max(0.0, hi - t) for t, hi in zip(totals, high, strict=True)],
        ],
        fmt="none",
        ecolor="black",
        capsize=3,
    )
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.set_xlabel("energy, kWh (all seeds)")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def write_plots(summary: Summary, folder: Path) -> dict[str, Path]:
    """Every plot of the report as PNG under ``folder``: name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    plots = {
        "differences": differences_plot(summary, folder / "differences.png"),
        "anytime": anytime_plot(summary, folder / "anytime.png"),
        "cost": cost_plot(summary, folder / "cost.png"),
    }
    looks = looks_plot(summary, folder / "looks.png")
    if looks is not None:
        plots["looks"] = looks
    for name in FRONTS:
        plots[f"pareto_{name}"] = pareto_plot(summary, name, folder / f"pareto_{name}.png")
    return plots
