"""The whole analysis of one experiment, from its long-format files alone.

runs/<experiment>/results.csv and trials.jsonl in, and out: the verdict per method, normalised
scores, the constant predictor's reference row, anytime curves and Pareto fronts. The driver and
``automl-bench report`` both call this, so a report recomputed later says what the run said.
The metric and the reference method are the rows' own (their ``metric`` column, else their
task's): an accuracy experiment written before either existed reads as it did.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_bench.analysis.curves import anytime, pareto_fronts
from automl_bench.analysis.metrics import rows_metric, rows_reference
from automl_bench.analysis.normalised import normalised_scores
from automl_bench.analysis.verdict import VerdictSettings, verdicts
from automl_bench.metric import Metric
from automl_bench.results import read_results, read_trials
from automl_bench.schema import (
    AnalysisBlock,
    AnytimeCurve,
    ConstantReference,
    ParetoFront,
    ReferenceBlock,
    Score,
    Summary,
    Verdict,
)
from automl_bench.tasks.constant import CONSTANT

RESULTS, TRIALS = "results.csv", "trials.jsonl"


@dataclass(frozen=True)
class ExperimentAnalysis:
    """What results.csv and trials.jsonl say: per judged method its verdict and normalised
    score, the constant predictor's reference row, anytime curves and Pareto fronts."""

    rows: list[dict[str, Any]]
    metric: Metric
    reference: str
    verdicts: dict[str, Verdict]
    scores: dict[str, Score]
    constant: ConstantReference
    anytime: dict[str, AnytimeCurve]
    pareto: dict[str, ParetoFront]


def _constant(rows: Sequence[Mapping[str, Any]]) -> ConstantReference:
    per_seed = {
        int(r["seed"]): float(r["test_metric"])
        for r in rows
        if r["method"] == CONSTANT and r["test_metric"] is not None
    }
    mean = math.fsum(per_seed.values()) / len(per_seed) if per_seed else None
    return ConstantReference(test_metric=mean, per_seed=per_seed)


def analyse(
    exp_dir: Path,
    settings: VerdictSettings,
    metric: Metric | None = None,
    reference: str | None = None,
) -> ExperimentAnalysis:
    rows = read_results(exp_dir / RESULTS)
    metric = metric or rows_metric(rows)
    reference = reference or rows_reference(rows)
    trials = exp_dir / TRIALS
    lines = read_trials(trials) if trials.exists() else []
    judged = verdicts(rows, settings, metric, reference)
    scores = normalised_scores(rows, metric, reference)
    return ExperimentAnalysis(
        rows=rows,
        metric=metric,
        reference=reference,
        verdicts={k: Verdict.model_validate(v) for k, v in judged.items()},
        scores={k: Score.model_validate(v) for k, v in scores.items()},
        constant=_constant(rows),
        anytime={
            k: AnytimeCurve.model_validate(v) for k, v in anytime(lines, metric=metric).items()
        },
        pareto={k: ParetoFront.model_validate(v) for k, v in pareto_fronts(rows, metric).items()},
    )


def with_analysis(summary: Summary, analysis: ExperimentAnalysis) -> Summary:
    """The summary with the analysis of results.csv folded in: each method's verdict and
    normalised score, the constant predictor's reference row, anytime curves and fronts."""
    methods = {
        label: method.model_copy(
            update={
                "verdict": analysis.verdicts.get(label),
                "normalised_score": analysis.scores.get(label),
            }
        )
        for label, method in summary.methods.items()
    }
    return summary.model_copy(
        update={
            "methods": methods,
            "reference": ReferenceBlock(constant=analysis.constant),
            "analysis": AnalysisBlock(anytime=analysis.anytime, pareto=analysis.pareto),
        }
    )
