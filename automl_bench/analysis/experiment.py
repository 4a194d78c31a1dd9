"""The whole analysis of one experiment, from its long-format files alone.

runs/<experiment>/results.csv and trials.jsonl in, and out: the verdict per method, normalised
scores, the constant predictor's reference row, anytime curves and Pareto fronts. The driver and
``automl-bench report`` both call this, so a report recomputed later says what the run said.
The metric and the reference method are the rows' own (their ``metric`` column, else their
task's): an accuracy experiment written before either existed reads as it did.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from automl_bench.analysis.curves import anytime, pareto_fronts
from automl_bench.analysis.metrics import rows_metric, rows_reference
from automl_bench.analysis.normalised import normalised_scores
from automl_bench.analysis.verdict import VerdictSettings, verdicts
from automl_bench.metric import Metric
from automl_bench.results import read_results, read_trials
from automl_bench.tasks.constant import CONSTANT

RESULTS, TRIALS = "results.csv", "trials.jsonl"


def analyse(
    exp_dir: Path,
    settings: VerdictSettings,
    metric: Metric | None = None,
    reference: str | None = None,
) -> dict[str, Any]:
    rows = read_results(exp_dir / RESULTS)
    metric = metric or rows_metric(rows)
    reference = reference or rows_reference(rows)
    trials = exp_dir / TRIALS
    lines = read_trials(trials) if trials.exists() else []
    constant = {
        int(r["seed"]): float(r["test_metric"])
        for r in rows
        if r["method"] == CONSTANT and r["test_metric"] is not None
    }
    return {
        "rows": rows,
        "metric": metric.name,
        "reference_method": reference,
        "verdicts": verdicts(rows, settings, metric, reference),
        "normalised_score": normalised_scores(rows, metric, reference),
        "constant": {
            "test_metric": math.fsum(constant.values()) / len(constant) if constant else None,
            "per_seed": constant,
        },
        "anytime": anytime(lines, metric=metric),
        "pareto": pareto_fronts(rows, metric),
    }
