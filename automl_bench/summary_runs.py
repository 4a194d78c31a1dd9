"""The summary in MLflow: each study's totals on its parent run, and the experiment's summary
run (tag ``level=experiment``) with the totals per line, the verdicts and the looks."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from automl_bench.analysis.metrics import summary_metric
from automl_bench.analysis.verdict import INCONCLUSIVE
from automl_bench.deploy.record import DeployRecord
from automl_bench.failures import recorded_failures
from automl_bench.meta_summary import meta_metrics
from automl_bench.metric import Metric
from automl_bench.schema import Study, Summary, Verdict
from automl_bench.study_record import StudyRecord

PARENT_PHASES = ("search", "decide", "final", "inference", "inference_per_1k")
SUMMARY_LINES = ("search", "final", "inference", "deploy", "idle", "node")


def _study_metrics(study: Study, metric: Metric) -> dict[str, float]:
    # trials, failed (search), final_trainings, final_failed: the count everywhere else
    metrics: dict[str, float] = {**recorded_failures(study).to_record()}
    if study.test_metric is not None:
        metrics[metric.test_key] = study.test_metric
    if study.val_metric is not None:
        metrics[metric.val_key] = study.val_metric
    metrics.update(meta_metrics(study.meta, metric))
    for phase in PARENT_PHASES:
        metrics.update(study.cost(phase).record().to_metrics(f"{phase}_"))
    metrics.update((study.search.record() + study.final.record()).to_metrics())
    return metrics


def _deploy_tags(record: StudyRecord) -> tuple[dict[str, float], dict[str, str]]:
    if isinstance(record.deploy, DeployRecord):
        return record.deploy.to_metrics(), record.deploy.to_tags()
    if record.deploy is not None:
        return {}, {"deploy_error": record.deploy}
    return {}, {}


def close_parent_runs(tracking: Any, summary: Summary, studies: Mapping[str, StudyRecord]) -> None:
    """Each study's totals per phase on its parent run: ``search_energy_kwh``, ``final_usd``...,
    its ``test_<metric>`` / ``val_<metric>``, and a meta-learning study's ``meta_*`` figures
    (``meta_seconds_per_iteration``, ``test_mse_5step``...)."""
    metric = summary_metric(summary)
    for label, method in summary.methods.items():
        for study in method.studies:
            record = studies[f"{label}/seed={study.seed}"]
            metrics = _study_metrics(study, metric)
            tags = {"best_config": json.dumps(study.best_config)} if study.best_config else {}
            tags.update((study.search.record() + study.final.record()).to_tags())
            deploy_metrics, deploy_tags = _deploy_tags(record)
            metrics.update(deploy_metrics)
            tags.update(deploy_tags)
            status = "FINISHED" if study.test_metric is not None else "FAILED"
            tracking.end_run(record.run_id, status, metrics, None, tags)


def _finite_ends(ci: tuple[float | None, float | None] | None) -> dict[str, float]:
    """``_low`` / ``_high`` of an interval, each where it is finite (an open end is left out)."""
    ends = dict(zip(("_low", "_high"), ci or (None, None), strict=True))
    return {k: v for k, v in ends.items() if v is not None and math.isfinite(v)}


def delta_name(metric: Metric) -> str:
    """The improvement over the reference in the metric's unit: ``delta_points`` for accuracy."""
    return f"delta_{metric.unit.lower().replace(' ', '_')}"


def verdict_metrics(name: str, verdict: Verdict, delta: str) -> dict[str, float]:
    """A judged method's ``verdict/<name>/...`` metrics: the improvement with its interval's
    finite ends, the probability of improvement and a break-even that comes."""
    if verdict.delta_points is None:
        return {}
    prefix = f"verdict/{name}"
    out = {f"{prefix}/{delta}": verdict.delta_points.estimate}
    # the seed interval, as everywhere else (an unbounded end is left out)
    ends = _finite_ends(verdict.delta_points.ci95)
    out.update({f"{prefix}/{delta}{k}": v for k, v in ends.items()})
    if verdict.probability_of_improvement is not None:
        out[f"{prefix}/probability_of_improvement"] = verdict.probability_of_improvement
    n_star = verdict.break_even_predictions
    if n_star is not None and n_star.estimate != float("inf"):
        out[f"{prefix}/break_even_predictions"] = n_star.estimate
    return out


def _method_lines(summary: Summary, delta: str) -> tuple[dict[str, float], dict[str, str]]:
    """Per method: its meta figures, its verdict's metrics and its call as a tag."""
    metric = summary_metric(summary)
    metrics: dict[str, float] = {}
    tags: dict[str, str] = {}
    for label, method in summary.methods.items():
        name = label.replace(":", "-")
        meta = meta_metrics(method.meta, metric)
        metrics.update({f"meta/{name}/{k}": v for k, v in meta.items()})
        if method.verdict is None:
            continue
        tags[f"verdict/{name}"] = f"{method.verdict.call}: {method.verdict.reason}"[:5000]
        metrics.update(verdict_metrics(name, method.verdict, delta))
        if method.normalised_score is not None:
            metrics[f"verdict/{name}/normalised_score"] = method.normalised_score.estimate
    return metrics, tags


def _summary_metrics(summary: Summary) -> dict[str, float]:
    cost = summary.cost
    metrics: dict[str, float] = {}
    for line in SUMMARY_LINES:
        metrics.update(getattr(cost, line).record().to_metrics(f"{line}_"))
    if cost.attribution.ratio is not None:
        metrics["attributed_plus_idle_over_node"] = cost.attribution.ratio
    ratios = summary.meta_ratios.second_over_first_order if summary.meta_ratios else None
    for key in ("time_per_iteration", "peak_memory"):
        value = getattr(ratios, key) if ratios else None
        if isinstance(value, int | float):
            metrics[f"meta/maml_over_fomaml/{key}"] = value
    return metrics


def log_summary_run(tracking: Any, summary: Summary, tags: dict[str, str]) -> str:
    """The experiment's summary run (tag ``level=experiment``): totals per phase, idle /
    overhead, what the nodes used, and the verdict per method as ``verdict/<method>/...``
    metrics; the report is logged to it as artifacts. Returns its id."""
    delta = delta_name(summary_metric(summary))
    metrics = _summary_metrics(summary)
    method_metrics, verdict_tags = _method_lines(summary, delta)
    metrics.update(method_metrics)
    run_id = tracking.start_run(
        name=f"{summary.experiment} summary",
        tags={
            **tags,
            "level": "experiment",
            **verdict_tags,
            **{f"price_{k}": v for k, v in summary.cost.prices.sources.items()},
            **summary.cost.node.record().to_tags(),
        },
        params=summary.cost.prices.figures(),
    )
    tracking.end_run(run_id, "FINISHED", metrics, look_history(summary, delta), None)
    return str(run_id)


def look_history(summary: Summary, delta: str) -> list[tuple[int, Mapping[str, float]]] | None:
    """Per look (the step), each judged method's improvement with its interval's ends and
    whether its call was decided: ``look/<method>/delta_points`` (``_low``, ``_high``),
    ``look/<method>/decided`` and ``look/<method>/seeds``. None for a fixed list of seeds."""
    if summary.looks is None:
        return None
    history: list[tuple[int, Mapping[str, float]]] = []
    for look in summary.looks.looks:
        values: dict[str, float] = {}
        for label, d in look.delta.items():
            name = f"look/{label.replace(':', '-')}"
            values[f"{name}/{delta}"] = d.estimate
            ends = _finite_ends(d.ci95)
            values.update({f"{name}/{delta}{k}": v for k, v in ends.items()})
            values[f"{name}/seeds"] = d.n
            values[f"{name}/decided"] = float(look.calls[label] != INCONCLUSIVE)
        history.append((look.look, values))
    return history
