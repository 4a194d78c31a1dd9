"""Results in long format: runs/<experiment>/results.csv (one row per method and seed) and
trials.jsonl (one line per trial). The verdict reads only these, so anyone can recompute it.

``test_metric`` and ``val_metric`` hold the experiment's metric, named in the ``metric`` column
(``accuracy`` as a fraction, ``mse``); a results.csv without that column is an accuracy one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from automl_bench.failures import FailureCount, recorded_failures
from automl_bench.files import atomic_write
from automl_bench.metric import ACCURACY, Metric, infer_metric
from automl_bench.outcome import TrialOutcome
from automl_bench.schema import Study, Summary
from automl_bench.study_record import StudyRecord
from automl_bench.tasks.constant import CONSTANT, ConstantScore

# Per phase, the cost columns of a results row: <phase>_<figure>.
COST_FIGURES = (
    "wall_s",
    "device_s",
    "energy_kwh",
    "energy_kwh_low",
    "energy_kwh_high",
    "co2_kg",
    "usd",
)
PHASES = ("search", "final", "inference_per_1k")
COLUMNS = (
    "experiment",
    "task",
    "space",
    "method",
    "seed",
    "look",
    "status",
    "metric",
    "reference",  # the row every other is compared with
    "test_metric",
    "val_metric",
    "trials",
    "failed",
    "final_trainings",
    "final_failed",
    "stopped",
    *(f"{phase}_{figure}" for phase in PHASES for figure in COST_FIGURES),
    "measured",
    "deploy_feasible",
    "deploy_broken",
    "deploy_params",
    "deploy_flops",
    "deploy_latency_ms_p95_cpu",
    "deploy_latency_ms_p95_cuda",
    "best_config",
    "code_revision",
    "versions",
    "created",
)


def _provenance(summary: Summary) -> dict[str, Any]:
    return {
        "code_revision": summary.code_revision,
        "versions": json.dumps(summary.versions, sort_keys=True),
        "created": summary.created,
    }


def _deploy_columns(study: Study) -> dict[str, Any]:
    deploy = study.deploy
    if deploy is None:
        return {"deploy_feasible": None, "deploy_broken": ""}
    return {
        "deploy_feasible": deploy.feasible,
        "deploy_broken": "; ".join(deploy.broken),
        "deploy_params": deploy.params,
        "deploy_flops": deploy.flops,
        "deploy_latency_ms_p95_cpu": deploy.cpu.latency_ms_p95 if deploy.cpu else None,
        "deploy_latency_ms_p95_cuda": deploy.cuda.latency_ms_p95 if deploy.cuda else None,
    }


def study_row(summary: Summary, label: str, study: Study) -> dict[str, Any]:
    """One (method, seed) row: what the study scored, ran, spent and deploys."""
    row: dict[str, Any] = {
        "experiment": summary.experiment,
        "task": summary.task,
        "space": study.space,
        "method": label,
        "seed": study.seed,
        "look": study.look,
        "status": "ok" if study.test_metric is not None else "failed",
        "metric": summary.metric,
        "reference": summary.reference_method,
        "test_metric": study.test_metric,
        "val_metric": study.val_metric,
        **recorded_failures(study).to_record(),  # trials, failed, final_trainings, ...
        "stopped": study.stopped,
        "measured": json.dumps(study.final.measured, sort_keys=True),
        **_deploy_columns(study),
        "best_config": json.dumps(study.best_config, sort_keys=True),
        **_provenance(summary),
    }
    for phase in PHASES:
        cost = study.cost(phase).record()
        for figure in COST_FIGURES:
            row[f"{phase}_{figure}"] = float(getattr(cost, figure))
    return row


def result_rows(summary: Summary) -> list[dict[str, Any]]:
    """One row per (method, seed) of an experiment's summary."""
    return [
        study_row(summary, label, study)
        for label, method in summary.methods.items()
        for study in method.studies
    ]


def constant_rows(summary: Summary, scores: Iterable[ConstantScore]) -> list[dict[str, Any]]:
    """The constant predictor's row per seed: its accuracy, no trials, nothing spent; its look
    is the one that first ran that seed."""
    first_look: dict[int, int] = {}
    for method in summary.methods.values():
        for study in method.studies:
            first_look[study.seed] = min(study.look, first_look.get(study.seed, study.look))
    rows = []
    for score in scores:
        row: dict[str, Any] = {
            "experiment": summary.experiment,
            "task": summary.task,
            "space": "",
            "method": CONSTANT,
            "seed": score.seed,
            "look": first_look.get(score.seed, 0),
            "status": "ok",
            "metric": summary.metric,
            "reference": summary.reference_method,
            "test_metric": score.test_metric,
            "val_metric": score.val_metric,
            **FailureCount().to_record(),
            "stopped": 0,
            "measured": "{}",
            "best_config": json.dumps({"predicts": score.predicts}),
            **_provenance(summary),
        }
        row.update({f"{p}_{f}": 0.0 for p in PHASES for f in COST_FIGURES})
        rows.append(row)
    return rows


def write_results(rows: Iterable[Mapping[str, Any]], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    atomic_write(path, buffer.getvalue())


def read_results(path: Path | str) -> list[dict[str, Any]]:
    """results.csv back as typed rows: numbers as floats, empty cells as None."""
    path = Path(path)
    numeric = {c for c in COLUMNS if c.endswith(("_s", "_kwh", "_low", "_high", "_kg", "_usd"))}
    numeric |= {"test_metric", "val_metric", "deploy_params", "deploy_flops"}
    numeric |= {"deploy_latency_ms_p95_cpu", "deploy_latency_ms_p95_cuda"}
    rows = []
    with path.open(newline="") as f:
        for raw in csv.DictReader(f):
            row: dict[str, Any] = {}
            for key, text in raw.items():
                if text == "":
                    row[key] = None
                elif key in numeric:
                    row[key] = float(text)
                elif key in ("seed", "look", "stopped", *FailureCount().to_record()):
                    row[key] = int(text)
                elif key == "deploy_feasible":
                    row[key] = text == "True"
                else:
                    row[key] = text
            rows.append(row)
    return rows


def _study_keys(experiment: str, study: StudyRecord) -> dict[str, Any]:
    spec = study.spec
    return {"experiment": experiment, "study": spec.key, "method": spec.label, "seed": spec.seed}


def _trial_line(
    o: TrialOutcome, times: Mapping[str, tuple[str, str | None]], metric: Metric
) -> dict[str, Any]:
    """A trial's own fields in trials.jsonl: when it ran, how it ended, what it chose and cost."""
    start, end = times.get(o.trial_id, (None, None))
    return {
        "phase": o.job.phase,
        "trial_id": o.trial_id,
        "start": start,
        "end": end,
        "status": o.status,
        "reason": o.reason,
        "epochs_run": o.result.get("epochs_run"),
        "val_metric": o.val_metric(metric),
        "derived_config": o.result.get("derived_config"),  # one-shot methods
        "params": o.result.get("params"),
        "flops": o.result.get("flops"),
        **{k: v for k, v in o.result.items() if k.endswith("_score")},  # proxies
        "config": o.job.config,
        "cost": o.cost.to_dict(),
    }


def trial_lines(
    experiment: str,
    studies: Iterable[StudyRecord],
    times: Mapping[str, tuple[str, str | None]],
    metric: Metric | None = None,
) -> list[dict[str, Any]]:
    """One line per trial (start and end in UTC, status, the fidelity it reached, its cost),
    and one ``decide`` line per searching study (what its sampler spent). ``val_metric``: the
    validation value of ``metric`` (None: the one the trials report, accuracy if none does)."""
    lines = []
    studies = list(studies)
    if metric is None:
        results = (o.result for study in studies for o in study.outcomes)
        metric = infer_metric(results) or ACCURACY
    for study in studies:
        keys = _study_keys(experiment, study)
        lines += [{**keys, **_trial_line(o, times, metric)} for o in study.outcomes]
        if study.decide.wall_s > 0:
            decide = {"phase": "decide", "status": "ok", "cost": study.decide.to_dict()}
            lines.append({**keys, **decide})
    return lines


def read_trials(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_trials(lines: Iterable[Mapping[str, Any]], path: Path) -> None:
    atomic_write(path, "".join(json.dumps(line, default=str) + "\n" for line in lines))
