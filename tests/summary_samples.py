"""Summaries built the way a run builds them (the real pricing, study records and builder), with
no run: for the tests of the summary's schema, files and readers."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from automl_bench.analysis.experiment import analyse, with_analysis
from automl_bench.analysis.verdict import VerdictSettings
from automl_bench.cost.attribution import Energy
from automl_bench.cost.node_meter import NodeTotals
from automl_bench.cost.prices import Prices
from automl_bench.metric import ACCURACY
from automl_bench.outcome import TrialOutcome
from automl_bench.results import constant_rows, result_rows, write_results
from automl_bench.schema import Budget, Summary
from automl_bench.schema import VerdictSettings as SettingsRecord
from automl_bench.study import StudySpec
from automl_bench.study_record import StudyRecord
from automl_bench.summary import Metering, RunFacts, Scoring, build_summary
from automl_bench.tasks.constant import ConstantScore
from automl_bench.trial import TrialJob

PRICES = Prices(4.0, 0.05, 0.2, 0.3, 1.25)
MEASURED = {"cpu": "tdp-estimate", "gpu": "nvml", "ram": "estimate"}
USAGE = Energy(10, 10, 0, 1e-3, 0, 1e-4)


def outcome(
    label: str, seed: int, i: int, phase: str, accuracy: float | None, usage: Energy = USAGE
) -> TrialOutcome:
    """A trial that ran (``accuracy`` None: it failed), priced as a trial prices its window."""
    result: dict[str, object] = {
        "trial_status": "ok" if accuracy is not None else "failed",
        **PRICES.record(usage, MEASURED, cpu_s=1.0).to_result(),
    }
    if accuracy is not None:
        result["val_accuracy" if phase == "search" else "test_accuracy"] = accuracy
    if phase == "final" and accuracy is not None:
        inference = PRICES.record(Energy(1, 1, 0, 1e-5, 0, 1e-6), MEASURED)
        result.update(inference.to_result("inference_"))
        result["inference_predictions"] = 4000
    job = TrialJob(f"{label}/seed={seed}", label, seed, phase, "mlp", {"width": i})
    status = "ok" if accuracy is not None else "failed"
    return TrialOutcome(f"{label}-{seed}-{i}", job, status, result)  # type: ignore[arg-type]


def study(label: str, seed: int, test: float, trials: int = 2) -> StudyRecord:
    """A study with ``trials`` search trials (the last one failed) and a final training."""
    search = [
        outcome(label, seed, i, "search", None if i == trials - 1 else 0.5 + i / 10)
        for i in range(trials)
    ]
    final = outcome(label, seed, trials, "final", test)
    return StudyRecord(StudySpec(label, seed, "mlp", trials, label), "run", [*search, final])


def facts(created: str = "2026-11-27T08:00:00+00:00") -> RunFacts:
    return RunFacts(
        experiment="sample",
        task="digits",
        space="mlp",
        created=created,
        code_revision="abc123",
        hardware={"cpu": "test"},
        versions={"torch": "2"},
        budget=Budget(trials=2, epochs=1),
        deploy={"batch_size": 64},
        wall_s=12.0,
        trials_wall_s=10.0,
        tracking_uri="sqlite:///nowhere.db",
        cluster={"address": None, "cpus": 2, "gpus": 0},
    )


def node_totals(records: list[StudyRecord]) -> dict[str, NodeTotals]:
    """One node that measured every trial's window plus some idle time."""
    windows = Energy()
    for record in records:
        for _ in record.outcomes:
            windows = windows + USAGE
    idle = Energy(30, 40, 10, 5e-4, 1e-3, 1e-4)
    return {"node-1": NodeTotals(windows + idle, windows, Energy(), idle, MEASURED)}


def sample_summary(
    created: str = "2026-11-27T08:00:00+00:00", baseline: float = 0.8, seeds: int = 3
) -> Summary:
    """baseline and random (which gains 5 points) over ``seeds`` seeds, built by the builder."""
    records = [study("baseline", s, baseline + s / 100, trials=0) for s in range(seeds)]
    records += [study("random", s, baseline + 0.05 + s / 50) for s in range(seeds)]
    metering = Metering(node_totals(records), PRICES, {"meter_start_s": 2.0})
    return build_summary(facts(created), records, Scoring(ACCURACY), metering)


def analysed_summary(folder: Path, created: str = "2026-11-27T08:00:00+00:00") -> Summary:
    """A sample summary with its results.csv written into ``folder`` and its analysis folded
    in, as a run finishes it (a constant predictor at 10 % on every seed)."""
    summary = sample_summary(created)
    constant = [ConstantScore(s, 0.1, 0.1, 0) for s in summary.seeds]
    write_results(result_rows(summary) + constant_rows(summary, constant), folder / "results.csv")
    settings = VerdictSettings(rope_points=1.0)
    summary = with_analysis(summary, analyse(folder, settings))
    return summary.model_copy(
        update={"verdict_settings": SettingsRecord.model_validate(asdict(settings))}
    )
