"""runs/<experiment>/summary.json and summary.csv, and the table printed at the end."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.console import Console
from rich.table import Table

from automl_bench.analysis.metrics import (
    delta_format,
    step_keys,
    summary_fields,
    summary_metric,
    summary_reference,
    the_reference,
    value_header,
    value_sd,
    value_text,
)
from automl_bench.cost.node_meter import NodeTotals
from automl_bench.cost.prices import Prices
from automl_bench.cost.record import CostRecord, total
from automl_bench.cost.uncertainty import describe
from automl_bench.looks import looks_words
from automl_bench.methods import get_method
from automl_bench.metric import ACCURACY, BASELINE, MSE, Metric
from automl_bench.outcome import TrialOutcome
from automl_bench.scoring import reference_method, task_metric
from automl_bench.stats import mean_ci
from automl_bench.tasks.constant import CONSTANT
from automl_bench.trial import FINAL, INFERENCE, SEARCH

if TYPE_CHECKING:
    from automl_bench.experiment import Prepared, StudyRecord


def _inference(final: TrialOutcome | None) -> tuple[CostRecord, int]:
    """The inference window's cost record and the predictions made in it."""
    if final is None or not final.result.get(f"{INFERENCE}_predictions"):
        return CostRecord(), 0
    return (
        CostRecord.from_result(final.result, f"{INFERENCE}_"),
        int(final.result[f"{INFERENCE}_predictions"]),
    )


def per_1k(record: CostRecord, predictions: int) -> CostRecord:
    return record.scaled(1000.0 / predictions) if predictions > 0 else CostRecord()


class StudyCosts(NamedTuple):
    """A study's cost per phase: search (every search trial plus its sampler's work), final
    training, inference (the measured window), and the predictions made in that window."""

    search: CostRecord
    final: CostRecord
    inference: CostRecord
    predictions: int


def study_costs(record: StudyRecord) -> StudyCosts:
    search = total(o.cost for o in record.outcomes if o.job.phase == SEARCH) + record.decide
    finals = [o for o in record.outcomes if o.job.phase == FINAL]
    inference, predictions = _inference(finals[0] if finals else None)
    return StudyCosts(search, total(o.cost for o in finals), inference, predictions)


def pareto_trials(
    outcomes: list[TrialOutcome], cost_objective: str, metric: Metric = ACCURACY
) -> list[dict[str, Any]]:
    """A multi-objective study's Pareto front over its finished search trials: the validation
    metric (by its direction) against ``cost_objective`` (lower is better), cheapest first."""
    from automl_bench.analysis.curves import pareto_front

    points: dict[str, tuple[float, float]] = {}
    for o in outcomes:
        value = o.val_metric(metric)
        if o.job.phase == SEARCH and value is not None and cost_objective in o.result:
            points[o.trial_id] = (value, float(o.result[cost_objective]))
    return [
        {
            "trial_id": t,
            "val_metric": points[t][0],
            cost_objective: points[t][1],
            "config": next(o.job.config for o in outcomes if o.trial_id == t),
        }
        for t in pareto_front(points, metric.sign > 0)
    ]


META = "meta_"


def meta_block(result: Mapping[str, Any], metric: Metric = ACCURACY) -> dict[str, Any] | None:
    """A meta-learning final trial's figures: its ``meta_*`` keys without the prefix
    (``seconds_per_iteration``, ``peak_memory_mb``, ``memory_measured``, ``tasks_served``,
    ``train_kwh_per_task``...) and ``steps``: adaptation steps -> {"mean", "ci95"} of the test
    metric over the meta-test tasks. None when the result has none of them."""
    steps = step_keys(metric, result)
    found = {k[len(META) :]: v for k, v in result.items() if k.startswith(META)}
    if not steps and not found:
        return None
    out: dict[str, Any] = dict(sorted(found.items()))
    out["steps"] = {}
    for step, key in steps.items():
        low, high = result.get(f"{key}_low"), result.get(f"{key}_high")
        out["steps"][str(step)] = {
            "mean": float(result[key]),
            "ci95": [float(low), float(high)] if low is not None and high is not None else None,
        }
        diverged = result.get(f"{key}_diverged")
        if diverged:  # tasks whose adaptation blew up: left out of the mean, counted here
            out["steps"][str(step)]["diverged"] = int(diverged)
    return out


def _mean_of(blocks: list[dict[str, Any]], key: str) -> float | None:
    values = [float(b[key]) for b in blocks if isinstance(b.get(key), int | float)]
    return math.fsum(values) / len(values) if values else None


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


def method_meta(studies: list[dict[str, Any]], metric: Metric = MSE) -> dict[str, Any] | None:
    """A method's meta-learning figures over its seeds: the means of ``META_MEANS``, and per
    adaptation step the mean metric with an interval: the seed interval from two seeds on,
    else the one seed's interval over its meta-test tasks (``ci`` says which)."""
    blocks = [s["meta"] for s in studies if s.get("meta")]
    if not blocks:
        return None
    out: dict[str, Any] = {"seeds": len(blocks)}
    out.update({key: _mean_of(blocks, key) for key in META_MEANS})
    # the yardstick's fine-tuning step size, chosen per seed on meta-validation tasks
    lrs = [b["finetune_lr"] for b in blocks if isinstance(b.get("finetune_lr"), int | float)]
    if lrs:
        out["finetune_lr"] = lrs  # per seed (meta_metrics logs numbers only)
    # how each figure was measured, and where ("memory_measured", "time_measured", "device")
    for key in sorted({k for b in blocks for k, v in b.items() if isinstance(v, str)}):
        found = sorted({str(b[key]) for b in blocks if b.get(key)})
        out[key] = ", ".join(found) or None
    steps: dict[str, Any] = {}
    for step in sorted({k for b in blocks for k in b.get("steps", {})}, key=int):
        per_seed = [b["steps"][step] for b in blocks if step in b.get("steps", {})]
        means = [float(p["mean"]) for p in per_seed]
        if len(means) >= 2:
            ci = mean_ci(means, metric.value_bounds)
            steps[step] = {
                "mean": ci["mean"],
                "ci95": ci["ci95"],
                "ci": f"{ci['interval']} over {len(means)} seeds",
                "seeds": len(means),
            }
        else:
            steps[step] = {
                "mean": means[0],
                "ci95": per_seed[0]["ci95"],
                "ci": "t over the meta-test tasks of 1 seed",
                "seeds": 1,
            }
        diverged = sum(int(p.get("diverged", 0)) for p in per_seed)
        if diverged:
            steps[step]["diverged"] = diverged  # tasks, over all its seeds
    out["steps"] = steps
    return out


def meta_metrics(meta: Mapping[str, Any] | None, metric: Metric = ACCURACY) -> dict[str, float]:
    """A meta block (a study's or a method's) as MLflow metrics: ``meta_<figure>`` and
    ``test_<metric>_<k>step`` (with ``_low`` / ``_high``); numbers only."""
    if not meta:
        return {}
    out = {
        f"{META}{k}": float(v)
        for k, v in meta.items()
        if k != "steps" and isinstance(v, int | float) and not isinstance(v, bool)
    }
    for step, figures in meta.get("steps", {}).items():
        key = f"{metric.test_key}_{step}step"
        out[key] = float(figures["mean"])
        ci = figures.get("ci95")
        if ci and ci[0] is not None and ci[1] is not None:
            out[f"{key}_low"], out[f"{key}_high"] = float(ci[0]), float(ci[1])
    return out


SECOND_ORDER, FIRST_ORDER = "maml", "fomaml"


def meta_ratios(methods: Mapping[str, Any]) -> dict[str, Any] | None:
    """MAML over first-order MAML: time per meta-iteration and peak memory (means over seeds);
    None unless both ran."""
    second = (methods.get(SECOND_ORDER) or {}).get("meta")
    first = (methods.get(FIRST_ORDER) or {}).get("meta")
    if not second or not first:
        return None

    def ratio(key: str) -> float | None:
        a, b = second.get(key), first.get(key)
        return a / b if a is not None and b else None

    return {
        "second_over_first_order": {
            "time_per_iteration": ratio("seconds_per_iteration"),
            "peak_memory": ratio("peak_memory_mb"),
            "memory_measured": second.get("memory_measured"),
        }
    }


def study_summary(
    record: StudyRecord, cost_objective: str = "params", metric: Metric = ACCURACY
) -> dict[str, Any]:
    """One study's figures; the best search trial is chosen by ``metric``'s direction."""
    search = [o for o in record.outcomes if o.job.phase == SEARCH]
    finals = [o for o in record.outcomes if o.job.phase == FINAL]
    final = finals[0] if finals else None
    scored = [(o, o.val_metric(metric)) for o in search if o.ok]
    ok = [(o, value) for o, value in scored if value is not None]
    best = (max(ok, key=lambda p: metric.sign * (p[1] or 0.0))[0]) if ok else None
    meta = meta_block(final.result, metric) if final is not None and final.ok else None
    # what the study chose is what its final training trained (a one-shot search derives it)
    best_config = final.job.config if final else (best.job.config if best else None)
    search_cost, final_cost, inference, predictions = study_costs(record)
    inference_per_1k = per_1k(inference, predictions)
    return {
        "seed": record.spec.seed,
        "look": record.look,
        "method": record.spec.method,
        "space": record.spec.space,
        "best_config": best_config,
        "trials": len(search),
        "failed": sum(o.failed for o in search),
        "stopped": sum(o.status == "stopped" for o in search),  # early, by the scheduler
        "failures": [
            {"trial_id": o.trial_id, "phase": o.job.phase, "reason": o.reason}
            for o in record.outcomes
            if o.failed
        ],
        # every search trial (failed ones at what they ran) plus the sampler's own work
        "search": search_cost.to_dict(),
        "decide": record.decide.to_dict(),
        "final": final_cost.to_dict(),
        "inference": inference.to_dict(),
        "inference_predictions": predictions,
        "inference_per_1k": inference_per_1k.to_dict(),
        "val_metric": best.val_metric(metric) if best else None,
        "test_metric": final.test_metric(metric) if final else None,
        "model_path": final.model_path if final else None,
        "deploy": _deploy(record, inference_per_1k),
        **(
            {"pareto_front": pareto_trials(record.outcomes, cost_objective, metric)}
            if get_method(record.spec.method).multi_objective
            else {}
        ),
        **({"meta": meta} if meta is not None else {}),
    }


def _deploy(record: StudyRecord, inference_per_1k: CostRecord) -> dict[str, Any] | None:
    """The DEPLOY shape: the final model's deploy record, with its inference energy per 1,000
    predictions from the cost meter; a model that could not be measured is not feasible."""
    if record.deploy is None:
        return None
    if isinstance(record.deploy, str):
        return {
            "error": record.deploy,
            "feasible": False,
            "broken": [f"not measured: {record.deploy}"],
        }
    out = record.deploy.to_dict()
    out["inference_per_1k_energy_kwh"] = inference_per_1k.energy_kwh
    out["inference_per_1k_wall_s"] = inference_per_1k.wall_s
    return out


def deploy_summary(studies: list[dict[str, Any]]) -> dict[str, Any]:
    """Per method: how many of its final models are feasible, and what the others break."""
    records = [s["deploy"] for s in studies if s.get("deploy") is not None]
    return {
        "models": len(records),
        "feasible": sum(bool(r["feasible"]) for r in records),
        "broken": sorted({b for r in records for b in r["broken"]}),
    }


def experiment_cost(
    records: list[StudyRecord],
    node_totals: Mapping[str, NodeTotals],
    prices: Prices,
    metering: Mapping[str, float],
    deploy: CostRecord | None = None,
) -> dict[str, Any]:
    """Totals per phase, the deploy measurement, the idle / overhead line, and what the nodes
    measured, which all the other lines must add up to."""
    deploy = deploy or CostRecord()
    costs = [study_costs(record) for record in records]
    per_node = {
        node_id: (
            prices.record(t.node, t.measured),
            prices.record(t.idle, t.measured),
            prices.record(t.open_windows, t.measured),
            t.open_count,
        )
        for node_id, t in node_totals.items()
    }
    node = total(n[0] for n in per_node.values())
    idle = total(n[1] for n in per_node.values())
    unclosed = total(n[2] for n in per_node.values())
    phases = {
        "search": total(c.search for c in costs),
        "final": total(c.final for c in costs),
        "inference": total(c.inference for c in costs),
    }
    cards = {
        str(o.result["gpu_name"]) for r in records for o in r.outcomes if "gpu_name" in o.result
    }
    mismatch = prices.gpu_mismatch(cards)
    attributed = sum(p.energy_kwh for p in phases.values())
    accounted = attributed + deploy.energy_kwh + idle.energy_kwh + unclosed.energy_kwh
    return {
        **{phase: record.to_dict() for phase, record in phases.items()},
        "deploy": deploy.to_dict(),  # measuring the final models' deployability: no method's
        "idle": idle.to_dict(),  # start-up, gaps between trials, capacity nobody held
        "unclosed": unclosed.to_dict(),  # windows never closed (trials lost mid-run)
        "node": node.to_dict(),  # what the node meters measured
        "attribution": {
            "node_kwh": node.energy_kwh,
            "phases_kwh": attributed,
            "deploy_kwh": deploy.energy_kwh,
            "idle_kwh": idle.energy_kwh,
            "unclosed_kwh": unclosed.energy_kwh,
            "ratio": accounted / node.energy_kwh if node.energy_kwh > 0 else None,
        },
        "nodes": {
            node_id: {"node": n.to_dict(), "idle": i.to_dict(), "unclosed_windows": count}
            for node_id, (n, i, _, count) in per_node.items()
        },
        "prices": prices.to_dict(),
        "gpus_used": sorted(cards),
        "warnings": [mismatch] if mismatch else [],
        "metering": dict(metering),
    }


def build_summary(
    prepared: Prepared,
    records: list[StudyRecord],
    *,
    created: str,
    code_revision: str,
    hardware: dict[str, Any],
    versions: dict[str, str],
    wall_s: float,
    trials_wall_s: float,
    tracking_uri: str,
    cluster: dict[str, Any],
    node_totals: Mapping[str, NodeTotals],
    metering: Mapping[str, float],
    deploy_cost: CostRecord | None = None,
) -> dict[str, Any]:
    """``wall_s``: the whole run; ``trials_wall_s``: the first trial's start to the last's end.

    The metric and the reference method are the task's (``task_metric``, ``reference_method``).
    Per method, ``delta_vs_reference`` is the mean paired difference method - reference in the
    metric's own values (a fraction for accuracy; negative is better for MSE), also under its
    old name ``delta_vs_baseline`` when the reference is ``baseline``."""
    metric = task_metric(prepared.config.task)
    reference = reference_method(prepared.config.task)
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    costs: dict[str, list[StudyCosts]] = defaultdict(list)
    for record in records:
        cost_objective = prepared.config.search.cost_objective
        by_label[record.spec.label].append(study_summary(record, cost_objective, metric))
        costs[record.spec.label].append(study_costs(record))
    reference_tests = {s["seed"]: s["test_metric"] for s in by_label.get(reference, [])}
    methods: dict[str, Any] = {}
    for label, studies in by_label.items():
        studies.sort(key=lambda s: s["seed"])
        tests = [s["test_metric"] for s in studies if s["test_metric"] is not None]
        pairs = [
            s["test_metric"] - reference_tests[s["seed"]]
            for s in studies
            if s["test_metric"] is not None and reference_tests.get(s["seed"]) is not None
        ]
        mine = costs[label]
        delta = mean_ci(pairs, metric.difference_bounds)
        meta = method_meta(studies, metric)
        methods[label] = {
            "studies": studies,
            "test_metric": mean_ci(tests, metric.value_bounds),
            "delta_vs_reference": delta,
            **({"delta_vs_baseline": delta} if reference == BASELINE else {}),
            **({"meta": meta} if meta is not None else {}),
            "deploy": deploy_summary(studies),
            "cost": {
                "search": total(c.search for c in mine).to_dict(),
                "final": total(c.final for c in mine).to_dict(),
                "inference_per_1k": per_1k(
                    total(c.inference for c in mine), sum(c.predictions for c in mine)
                ).to_dict(),
            },
        }
    config = prepared.config
    ratios = meta_ratios(methods)
    return {
        "experiment": config.experiment,
        "task": config.task,
        "space": prepared.primary_space,
        **summary_fields(metric, reference),
        "created": created,
        "code_revision": code_revision,
        "hardware": hardware,
        "versions": versions,
        "seeds": sorted({r.spec.seed for r in records}),
        "budget": {"trials": config.trials, "epochs": config.epochs},
        "deploy": config.deploy.model_dump(),
        "wall_s": wall_s,
        "trials_wall_s": trials_wall_s,
        "tracking_uri": tracking_uri,
        "cluster": cluster,  # address None: a local Ray started for this run
        "cost": experiment_cost(records, node_totals, prepared.prices, metering, deploy_cost),
        "methods": methods,
        **({"meta_ratios": ratios} if ratios is not None else {}),
    }


def fold_analysis(summary: dict[str, Any], analysis: Mapping[str, Any]) -> None:
    """Put the analysis of results.csv into the summary: each method's verdict and normalised
    score, the constant predictor's reference row, anytime curves and Pareto fronts."""
    for label, method in summary["methods"].items():
        if label in analysis["verdicts"]:
            method["verdict"] = analysis["verdicts"][label]
        if label in analysis["normalised_score"]:
            method["normalised_score"] = analysis["normalised_score"][label]
    summary["reference"] = {"constant": analysis["constant"]}
    summary["analysis"] = {"anytime": analysis["anytime"], "pareto": analysis["pareto"]}


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; these are results to share
    os.replace(tmp, path)


def row_keys(summary: Mapping[str, Any]) -> tuple[str, str, str]:
    """table_rows' (and summary.csv's) keys of the test metric's mean and std and of the
    difference to the reference: ``test_accuracy_mean``, ``test_accuracy_std``,
    ``delta_vs_baseline`` for an accuracy experiment; ``test_mse_mean``, ``test_mse_std``,
    ``delta_vs_pretrain_finetune`` for sinusoid."""
    name = summary_metric(summary).name
    return f"test_{name}_mean", f"test_{name}_std", f"delta_vs_{summary_reference(summary)}"


def table_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per method. The delta and its interval: method - reference in the metric's own
    values (fractions for accuracy), the reference's row 0."""
    mean_key, std_key, delta_key = row_keys(summary)
    reference = summary_reference(summary)
    rows = []
    for label, m in summary["methods"].items():
        search, final = m["cost"]["search"], m["cost"]["final"]
        delta = m.get("delta_vs_reference") or m["delta_vs_baseline"]
        other = label != reference
        rows.append(
            {
                "method": label,
                "seeds": m["test_metric"]["n"],
                mean_key: m["test_metric"]["mean"],
                std_key: m["test_metric"]["std"],
                delta_key: delta["mean"] if other else 0.0,
                "delta_ci95_low": delta["ci95"][0] if delta["ci95"] and other else None,
                "delta_ci95_high": delta["ci95"][1] if delta["ci95"] and other else None,
                "normalised_score": (m.get("normalised_score") or {}).get("estimate"),
                "trials": sum(s["trials"] for s in m["studies"]),
                "failed": sum(s["failed"] for s in m["studies"]),
                "wall_s": search["wall_s"] + final["wall_s"],
                "energy_kwh": search["energy_kwh"]["total"] + final["energy_kwh"]["total"],
                "energy_kwh_low": search["energy_kwh"]["band"][0] + final["energy_kwh"]["band"][0],
                "energy_kwh_high": search["energy_kwh"]["band"][1] + final["energy_kwh"]["band"][1],
                "co2_g": 1000 * (search["co2_kg"] + final["co2_kg"]),
                "usd": search["usd"] + final["usd"],
                "inference_per_1k_j": 3.6e6 * m["cost"]["inference_per_1k"]["energy_kwh"]["total"],
                "feasible": f"{m['deploy']['feasible']}/{m['deploy']['models']}"
                if "deploy" in m
                else "-",
                "energy_measured": describe(
                    (CostRecord.from_dict(search) + CostRecord.from_dict(final)).measured
                ),
            }
        )
    return rows


def write_summary(summary: dict[str, Any], exp_dir: Path, archive: bool = True) -> None:
    """summary.json and summary.csv; an earlier run's files move to history/ (``archive``, or
    ``archive_previous`` before), never overwritten."""
    exp_dir.mkdir(parents=True, exist_ok=True)
    if archive:
        archive_previous(exp_dir)
    atomic_write(exp_dir / "summary.json", json.dumps(summary, indent=2, default=str))
    rows = table_rows(summary)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(exp_dir / "summary.csv", buffer.getvalue())


def archive_previous(exp_dir: Path) -> None:
    """Move an earlier run's summary, results, trial log and report to history/, stamped with
    its time."""
    exp_dir.mkdir(parents=True, exist_ok=True)
    previous = exp_dir / "summary.json"
    if not previous.exists():
        return
    try:
        stamp = str(json.loads(previous.read_text())["created"])
    except (ValueError, KeyError, TypeError):
        stamp = str(previous.stat().st_mtime_ns)
    stamp = "".join(c if c.isalnum() else "-" for c in stamp)
    history = exp_dir / "history"
    history.mkdir(exist_ok=True)
    for name in (
        "summary.json",
        "summary.csv",
        "results.csv",
        "trials.jsonl",
        "report.html",
        "report.md",
        "plots",
    ):
        if (exp_dir / name).exists():
            os.replace(exp_dir / name, history / f"{stamp}-{name}")


def _with_band(value: float, low: float, high: float) -> str:
    """``1.3e-05 +-40%``: the band as a relative half-width (symmetric for one method)."""
    if value <= 0:
        return f"{value:.2g}"
    return f"{value:.2g} +-{100 * (high - low) / (2 * value):.0f}%"


def _unit_words(unit: str) -> tuple[str, str]:
    """How the ROPE and the value of one unit read: ("points", "one point") for accuracy."""
    return (unit, "one point") if unit == "points" else (unit, f"an improvement of 1 {unit}")


def print_verdicts(summary: dict[str, Any], console: Console) -> None:
    """One line per method: the call, and the reason in numbers."""
    reference = summary_reference(summary)
    table = Table(title=f"Is it worth it? (each method against {the_reference(reference)})")
    table.add_column("method")
    table.add_column("verdict")
    table.add_column("why, in numbers")
    for label, method in summary["methods"].items():
        verdict = method.get("verdict")
        if verdict:
            table.add_row(label, verdict["call"], verdict["reason"])
    console.print(table)
    s = summary.get("verdict_settings", {})
    if s:
        unit, one = _unit_words(summary_metric(summary).unit)
        console.print(
            f"ROPE +-{s['rope_points']:g} {unit}; {one} is worth "
            f"USD {s['value_usd_per_point_per_million']:g} per million predictions; "
            f"{s['deployment_predictions']:.3g} predictions expected (config: verdict)."
        )


def print_looks(summary: dict[str, Any], console: Console) -> None:
    words = looks_words(summary)
    if words:
        console.print(words)


def print_table(summary: dict[str, Any], console: Console, exp_dir: Path | None = None) -> None:
    metric, reference = summary_metric(summary), summary_reference(summary)
    mean_key, std_key, delta_key = row_keys(summary)
    table = Table(
        title=f"{summary['experiment']}: {summary['task']}, space {summary['space']}, "
        f"{len(summary['seeds'])} seeds"
    )
    for name in (
        "method",
        value_header(metric),
        f"Δ {metric.unit} [95% CI]",
        "score",
        "trials (failed)",
        "wall s",
        "energy kWh",
        "CO2 g",
        "USD",
        "J / 1k pred.",
        "feasible",
    ):
        table.add_column(name, justify="left" if name == "method" else "right")
    rows = table_rows(summary)
    for row in rows:
        if row["method"] == reference:
            delta = "(reference)"
        elif row[delta_key] is None:
            delta = "-"
        else:
            ci = (
                f" [{value_text(metric, row['delta_ci95_low'])}, "
                f"{value_text(metric, row['delta_ci95_high'])}]"
                if row["delta_ci95_low"] is not None
                else ""
            )
            shown = row[delta_key] * (metric.scale if metric.name == ACCURACY.name else 1.0)
            delta = f"{shown:{delta_format(metric)}}{ci}"
        table.add_row(
            row["method"],
            value_sd(metric, row[mean_key], row[std_key]),
            delta,
            "-" if row["normalised_score"] is None else f"{row['normalised_score']:.2f}",
            f"{row['trials']} ({row['failed']})",
            f"{row['wall_s']:.1f}",
            _with_band(row["energy_kwh"], row["energy_kwh_low"], row["energy_kwh_high"]),
            f"{row['co2_g']:.3g}",
            f"{row['usd']:.3g}",
            f"{row['inference_per_1k_j']:.2f}",
            row["feasible"],
        )
    constant = summary.get("reference", {}).get("constant", {})
    if constant.get("test_metric") is not None:
        table.add_row(CONSTANT, value_text(metric, constant["test_metric"]), "-", "0", *["-"] * 7)
    console.print(table)
    if constant.get("test_metric") is not None:
        console.print(
            f"score: (method - constant) / ({reference} - constant) per seed, mean over seeds: "
            f"the constant predictor (the most frequent class) is 0, the hand-designed "
            f"{reference} 1."
        )
    else:
        console.print(
            f"Δ: method - {reference}, paired over seeds; no constant predictor, no score."
        )
    print_meta(summary, console)
    cost = summary["cost"]
    node, idle = cost["node"], cost["idle"]
    node_kwh, idle_kwh = node["energy_kwh"]["total"], idle["energy_kwh"]["total"]
    share = idle_kwh / node_kwh if node_kwh else 0.0
    deploy_kwh = cost.get("deploy", {}).get("energy_kwh", {}).get("total", 0.0)
    console.print(
        f"energy measured: {node['estimate']}. The nodes used {node_kwh:.2e} kWh "
        f"(USD {node['usd']:.4f}); idle / overhead {idle_kwh:.2e} kWh ({100 * share:.0f}%) and "
        f"measuring deployability {deploy_kwh:.2e} kWh, in no method's figures."
    )
    for label, m in summary["methods"].items():
        broken = m.get("deploy", {}).get("broken", [])
        if broken:
            console.print(f"{label}: not deployable as configured: {'; '.join(broken)}")
    for warning in cost.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}")
    failed = sum(r["failed"] for r in rows)
    where = exp_dir if exp_dir is not None else Path(summary["experiment"])
    console.print(
        f"{failed} search trials failed; {summary['wall_s']:.0f} s in all; "
        f"summary in {where / 'summary.json'}; MLflow: {summary['tracking_uri']}"
    )


def meta_table(summary: Mapping[str, Any]) -> tuple[tuple[str, ...], list[tuple[str, ...]], str]:
    """The meta-learning figures per method (header, rows, note); no rows without them."""
    metric = summary_metric(summary)
    methods = {k: m["meta"] for k, m in summary["methods"].items() if m.get("meta")}
    steps = sorted({s for meta in methods.values() for s in meta.get("steps", {})}, key=int)
    unit = "acc %" if metric.name == ACCURACY.name else metric.unit
    header = (
        "method",
        "seeds",
        *(f"{unit} after {s} step{'s' if s != '1' else ''} [95% CI]" for s in steps),
        "ms / iteration",
        "peak memory MB",
        "kWh / task (amortised)",
    )
    rows = []
    cis = set()
    timings: set[str] = set()
    any_diverged = False
    for label, meta in methods.items():
        cells = []
        for s in steps:
            step = meta.get("steps", {}).get(s)
            if step is None:
                cells.append("-")
                continue
            cis.add(step.get("ci", ""))
            ci = step.get("ci95")
            text = value_text(metric, step["mean"])
            if ci and ci[0] is not None and ci[1] is not None:
                text += f" [{value_text(metric, ci[0])}, {value_text(metric, ci[1])}]"
            if step.get("diverged"):
                text += f" ({step['diverged']} diverged*)"
                any_diverged = True
            cells.append(text)
        spi, mem, kwh = (
            meta.get(k) for k in ("seconds_per_iteration", "peak_memory_mb", "train_kwh_per_task")
        )
        measured, device = meta.get("memory_measured"), meta.get("device")
        if meta.get("time_measured"):
            timings.add(f"{label}: {meta['time_measured']}")
        rows.append(
            (
                label,
                str(meta.get("seeds", "-")),
                *cells,
                "-" if spi is None else f"{1000 * spi:.3g}" + (f" ({device})" if device else ""),
                "-" if mem is None else f"{mem:.4g}" + (f" ({measured})" if measured else ""),
                "-" if kwh is None else f"{kwh:.3g}",
            )
        )
    note = (
        "After k steps: the test metric after k adaptation steps on each meta-test task's "
        f"support set; intervals: {'; '.join(sorted(c for c in cis if c)) or '-'} (from two "
        "seeds on the seed interval over the seeds' means, else over one seed's meta-test tasks). "
        f"ms / iteration, mean over seeds of each seed's {'; '.join(sorted(timings)) or '-'}. "
        "Peak memory: the tensors one meta-iteration's autograd graph holds when backward "
        "starts (the CPU has no peak-allocation counter). kWh / task: the final phase's "
        "meta-training energy divided by the tasks it served (amortised)."
    )
    if any_diverged:
        note += (
            " *Diverged: meta-test tasks (over all seeds) whose adaptation blew up (a non-finite "
            "query MSE); they are left out of the mean and its interval."
        )
    ratios = (summary.get("meta_ratios") or {}).get("second_over_first_order")
    if ratios:
        note += " " + meta_ratio_line(ratios)
    return header, rows, note


def meta_ratio_line(ratios: Mapping[str, Any]) -> str:
    def x(value: float | None) -> str:
        return "-" if value is None else f"{value:.3g}x"

    return (
        f"MAML over first-order MAML: {x(ratios.get('time_per_iteration'))} the time per "
        f"meta-iteration, {x(ratios.get('peak_memory'))} the peak memory"
        + (f" ({ratios['memory_measured']})" if ratios.get("memory_measured") else "")
        + "."
    )


def print_meta(summary: Mapping[str, Any], console: Console) -> None:
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
