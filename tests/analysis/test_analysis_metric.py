"""The analysis for a metric where lower is better (MSE on the sinusoid family, against
pretrain_finetune, with no constant predictor), and the accuracy path as it was."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from automl_bench.analysis import VerdictSettings, verdicts
from automl_bench.analysis.curves import (
    anytime,
    best_so_far,
    mean_reach_cost,
    pareto_front,
    pareto_fronts,
    reach_cost,
)
from automl_bench.analysis.experiment import analyse, with_analysis
from automl_bench.analysis.metrics import (
    difference_interval,
    rows_metric,
    rows_reference,
    summary_metric,
    summary_reference,
)
from automl_bench.analysis.normalised import normalised_scores
from automl_bench.meta_summary import meta_block, meta_metrics, meta_ratios, method_meta
from automl_bench.metric import ACCURACY, MSE
from automl_bench.outcome import TrialOutcome
from automl_bench.progress import Progress
from automl_bench.report.console import print_table, print_verdicts
from automl_bench.report.markdown import render_markdown
from automl_bench.report.rows import table_rows
from automl_bench.report.tables import tables
from automl_bench.results import (
    COLUMNS,
    read_results,
    read_trials,
    result_rows,
    trial_lines,
    write_results,
    write_trials,
)
from automl_bench.schema import Summary
from automl_bench.schema import VerdictSettings as SettingsRecord
from automl_bench.study import StudySpec
from automl_bench.study_record import StudyRecord
from automl_bench.summary import Metering, Scoring, build_summary, study_summary
from automl_bench.trial import TrialJob

SETTINGS = VerdictSettings(
    rope_points=0.05, value_usd_per_point_per_million=10.0, deployment_predictions=1e8
)
REF = "pretrain_finetune"


def row(method: str, seed: int, test: float | None, task: str = "sinusoid", **over: Any):
    out: dict[str, Any] = {c: None for c in COLUMNS}
    out.update(
        experiment="x",
        task=task,
        space="meta",
        method=method,
        seed=seed,
        status="ok" if test is not None else "failed",
        test_metric=test,
        trials=2,
        failed=0,
        stopped=0,
        deploy_feasible=True,
        deploy_broken="",
    )
    for phase in ("search", "final", "inference_per_1k"):
        for figure in ("wall_s", "device_s", "energy_kwh", "energy_kwh_low", "energy_kwh_high"):
            out[f"{phase}_{figure}"] = 0.0
        out[f"{phase}_co2_kg"] = 0.0
        out[f"{phase}_usd"] = 0.0
    out.update(final_usd=0.001, final_energy_kwh=0.01)
    out.update(over)
    return out


def _mse_rows(gains: list[float]) -> list[dict[str, Any]]:
    """pretrain_finetune at MSE 1.5 every seed; maml lower by ``gains``."""
    rows = []
    for seed, gain in enumerate(gains):
        rows.append(row(REF, seed, 1.5))
        rows.append(row("maml", seed, 1.5 - gain, search_usd=0.01, search_energy_kwh=0.1))
    return rows


def test_the_rows_say_their_metric_and_reference() -> None:
    assert rows_metric([row(REF, 0, 1.0)]) == MSE
    assert rows_reference([row(REF, 0, 1.0)]) == REF
    assert rows_metric([row("baseline", 0, 0.9, task="t")]) == ACCURACY
    assert rows_reference([row("baseline", 0, 0.9, task="t")]) == "baseline"
    # an explicit metric column wins over the task
    assert rows_metric([row("m", 0, 0.3, task="t", metric="mse")]) == MSE


def test_an_mse_verdict_pairs_against_pretrain_finetune_and_counts_lower_as_better() -> None:
    out = verdicts(_mse_rows([0.3, 0.32, 0.28, 0.31, 0.29]), SETTINGS)
    assert set(out) == {"maml"}  # the reference is an anchor, not judged
    v = out["maml"]
    assert v["reference"] == REF and v["unit"] == "MSE"
    assert v["delta_points"]["estimate"] == pytest.approx(0.3)  # the improvement: positive
    assert v["probability_of_improvement"] == 1.0
    assert v["call"] == "worth it"
    assert re.search(r"MSE 0\.3 lower \[0\.2\d+, 0\.3\d+\] \(anytime-valid, 5 seeds\)", v["reason"])
    assert "pretrain_finetune's energy" in v["reason"]
    worse = verdicts(_mse_rows([-0.3, -0.32, -0.28]), SETTINGS)["maml"]
    assert worse["delta_points"]["estimate"] == pytest.approx(-0.3)
    assert worse["call"] == "not worth it"
    assert "MSE 0.3 higher [0.1" in worse["reason"]
    assert "no improvement beyond the ROPE of +-0.05 MSE" in worse["reason"]
    straddle = verdicts(_mse_rows([0.0, 0.2, 0.1]), SETTINGS)["maml"]
    assert straddle["call"] == "inconclusive"


def test_the_accuracy_verdict_is_unchanged_by_an_explicit_metric() -> None:
    rows = []
    for seed, d in enumerate([3.0, 3.2, 2.8, 3.1, 2.9]):
        rows.append(row("baseline", seed, 0.8, task="t"))
        rows.append(row("m", seed, 0.8 + d / 100, task="t", search_usd=1.0))
    implicit = verdicts(rows, VerdictSettings())
    assert implicit == verdicts(rows, VerdictSettings(), ACCURACY, "baseline")
    v = implicit["m"]
    assert v["delta_points"]["estimate"] == pytest.approx(3.0)
    assert "+3.0 points [" in v["reason"] and "the baseline's energy" in v["reason"]


def test_no_constant_row_no_normalised_score_and_mse_scores_by_direction() -> None:
    assert normalised_scores(_mse_rows([0.3, 0.2]), MSE, REF) == {}
    rows = [row("constant", 0, 2.0), row(REF, 0, 1.0), row("m", 0, 0.5)]
    scores = normalised_scores(rows, MSE, REF)
    assert scores[REF]["estimate"] == pytest.approx(1.0)
    assert scores["m"]["estimate"] == pytest.approx(1.5)
    # a reference no better than the constant (a higher MSE) has no score
    assert normalised_scores([row("constant", 0, 1.0), row(REF, 0, 2.0)], MSE, REF) == {}


def _line(method: str, seed: int, end: str, value: float | None, kwh: float) -> dict[str, Any]:
    return {
        "method": method,
        "seed": seed,
        "phase": "search",
        "status": "ok" if value is not None else "failed",
        "end": end,
        "val_metric": value,
        "cost": {"energy_kwh": {"total": kwh}, "wall_s": 1.0},
    }


def test_best_so_far_and_reach_cost_follow_the_direction() -> None:
    lines = [
        _line("maml", 0, "2026-01-01T00:00:01", 2.0, 1.0),
        _line("maml", 0, "2026-01-01T00:00:02", None, 1.0),
        _line("maml", 0, "2026-01-01T00:00:03", 0.5, 2.0),
        _line("maml", 0, "2026-01-01T00:00:04", 1.0, 1.0),
    ]
    assert best_so_far(lines, metric=MSE) == [(1.0, 2.0), (2.0, 2.0), (4.0, 0.5), (5.0, 0.5)]
    assert best_so_far(lines) == [(1.0, 2.0), (2.0, 2.0), (4.0, 2.0), (5.0, 2.0)]
    assert reach_cost(lines, 1.0, metric=MSE) == {"maml": {0: 4.0}}
    assert reach_cost(lines, 0.1, metric=MSE) == {"maml": {0: None}}
    assert mean_reach_cost(lines, 0.5, metric=MSE) == {"maml": 4.0}
    curve = anytime(lines, points=3, metric=MSE)["maml"]
    assert curve["mean"] == [None, 2.0, 0.5]  # grid 0, 2.5, 5 kWh


def test_pareto_fronts_by_direction() -> None:
    points = {"a": (1.0, 1.0), "b": (0.5, 2.0), "c": (2.0, 3.0)}
    assert pareto_front(points, maximize=False) == ["a", "b"]
    assert pareto_front(points) == ["a", "c"]
    rows = [row(REF, 0, 1.0), row("maml", 0, 0.5, search_energy_kwh=1.0)]
    assert pareto_fronts(rows, MSE)["energy_kwh"]["front"] == [REF, "maml"]


def _job(phase: str, method: str = "maml", seed: int = 0, i: int = 0) -> TrialJob:
    return TrialJob(f"{method}/seed={seed}", method, seed, phase, "meta", {"lr": i})


def _final_result(mse: float, seconds: float, memory: float) -> dict[str, Any]:
    return {
        "test_mse": mse,
        "test_mse_1step": mse + 0.5,
        "test_mse_1step_low": mse + 0.4,
        "test_mse_1step_high": mse + 0.6,
        "test_mse_10step": mse,
        "test_mse_10step_low": mse - 0.05,
        "test_mse_10step_high": mse + 0.05,
        "meta_iterations": 100,
        "meta_seconds_per_iteration": seconds,
        "meta_peak_memory_mb": memory,
        "meta_memory_measured": "autograd-graph",
        "meta_tasks_served": 600,
        "meta_train_kwh_per_task": 1e-6,
        "meta_train_usd_per_task": 2e-7,
        "meta_train_wall_s_per_task": 0.01,
        "meta_device": "cpu",
        "meta_time_measured": "perf-counter",
    }


def _record(method: str, seed: int, mse: float, seconds: float, memory: float) -> StudyRecord:
    outcomes = [
        TrialOutcome("s1", _job("search", method, seed, 1), "ok", {"val_mse": 1.2}),
        TrialOutcome("s2", _job("search", method, seed, 2), "ok", {"val_mse": 0.7}),
        TrialOutcome("s3", _job("search", method, seed, 3), "ok", {"val_mse": 0.9}),
        TrialOutcome(
            "f", _job("final", method, seed, 2), "ok", _final_result(mse, seconds, memory)
        ),
    ]
    return StudyRecord(StudySpec(method, seed, "meta", 3, method), "run", outcomes)


def test_a_meta_study_picks_its_best_trial_by_the_lowest_mse_and_keeps_its_meta_block() -> None:
    study = study_summary(_record("maml", 0, 0.4, 0.02, 30.0), Scoring(MSE))
    assert study.val_metric == pytest.approx(0.7)  # the lowest, not the highest
    assert study.test_metric == pytest.approx(0.4)
    meta = study.meta
    assert meta is not None
    assert meta.number("seconds_per_iteration") == 0.02
    assert meta.text("memory_measured") == "autograd-graph"
    assert meta.number("train_kwh_per_task") == 1e-6 and meta.number("tasks_served") == 600
    assert set(meta.steps) == {"1", "10"}
    assert meta.steps["1"].mean == pytest.approx(0.9)
    assert meta.steps["1"].ci95 == (pytest.approx(0.8), pytest.approx(1.0))
    assert meta.steps["10"].mean == pytest.approx(0.4)
    assert meta.steps["10"].ci95 == (pytest.approx(0.35), pytest.approx(0.45))
    flat = meta_metrics(meta, MSE)
    assert flat["meta_seconds_per_iteration"] == 0.02 and "meta_memory_measured" not in flat
    assert flat["test_mse_10step"] == pytest.approx(0.4)
    assert flat["test_mse_10step_low"] == pytest.approx(0.35)
    # an accuracy study has no meta block, and picks by the highest accuracy as before
    assert meta_block({"test_accuracy": 0.9, "val_accuracy": 0.8}, ACCURACY) is None
    acc = TrialOutcome("a", _job("search"), "ok", {"val_accuracy": 0.8, "test_accuracy": 0.7})
    assert acc.val_accuracy == 0.8 and acc.val_metric(ACCURACY) == 0.8
    assert acc.test_accuracy == acc.test_metric() == 0.7 and acc.val_metric(MSE) is None


def test_method_meta_means_over_seeds_and_the_maml_over_fomaml_ratios() -> None:
    maml = [
        study_summary(_record("maml", s, 0.4 + s / 10, 0.02 + s / 100, 30.0), Scoring(MSE))
        for s in (0, 1)
    ]
    fomaml = [study_summary(_record("fomaml", 0, 0.5, 0.01, 10.0), Scoring(MSE))]
    m = method_meta(maml)
    assert m is not None and m.figures["seeds"] == 2
    assert m.number("seconds_per_iteration") == pytest.approx(0.025)
    assert m.text("device") == "cpu" and m.text("time_measured") == "perf-counter"
    assert m.steps["10"].mean == pytest.approx(0.45)
    assert m.steps["10"].ci == "anytime-valid over 2 seeds" and m.steps["10"].seeds == 2
    one = method_meta(fomaml)
    assert one is not None
    assert one.steps["10"].ci95 == (pytest.approx(0.45), pytest.approx(0.55))
    assert one.steps["10"].ci is not None and "1 seed" in one.steps["10"].ci
    ratios = meta_ratios({"maml": m, "fomaml": one})
    assert ratios is not None
    assert ratios.second_over_first_order.time_per_iteration == pytest.approx(2.5)
    assert ratios.second_over_first_order.peak_memory == pytest.approx(3.0)
    assert meta_ratios({"maml": m}) is None


def _mse_summary() -> Summary:
    """A sinusoid experiment's summary as the builder writes it, from hand-made studies."""
    from summary_samples import PRICES, facts

    records = [
        _record(label, seed, mse, seconds, memory)
        for seed in (0, 1, 2)
        for label, mse, seconds, memory in (
            ("maml", 0.3 + seed / 100, 0.02, 30.0),
            ("fomaml", 0.5 + seed / 100, 0.01, 10.0),
            (REF, 1.0 + seed / 50, 0.005, 5.0),
        )
    ]
    sine = replace(facts(), experiment="sine", task="sinusoid")
    summary = build_summary(sine, records, Scoring(MSE, REF), Metering({}, PRICES, {}))
    settings = SettingsRecord(rope_points=0.05, value_usd_per_point_per_million=10.0)
    return summary.model_copy(update={"verdict_settings": settings})


def test_an_mse_summary_round_trips_through_results_csv_into_tables_and_the_report(
    tmp_path: Path,
) -> None:
    summary = _mse_summary()
    assert summary_metric(summary) == MSE and summary_reference(summary) == REF
    rows = result_rows(summary)
    assert {r["metric"] for r in rows} == {"mse"}
    write_results(rows, tmp_path / "results.csv")
    records = [_record("maml", 0, 0.3, 0.02, 30.0)]
    write_trials(trial_lines("sine", records, {}), tmp_path / "trials.jsonl")
    back = read_results(tmp_path / "results.csv")
    settings = VerdictSettings(rope_points=0.05)
    analysis = analyse(tmp_path, settings)
    assert analysis.metric == MSE and analysis.reference == REF
    assert analysis.scores == {} and analysis.constant.test_metric is None
    assert set(analysis.verdicts) == {"maml", "fomaml"}
    delta = analysis.verdicts["maml"].delta_points
    assert delta is not None and delta.estimate == pytest.approx(0.71)
    again = verdicts(back, settings)
    calls = {k: v.call for k, v in analysis.verdicts.items()}
    assert calls == {k: v["call"] for k, v in again.items()}
    # trials.jsonl carries the validation MSE the trials reported (the metric inferred)
    lines = read_trials(tmp_path / "trials.jsonl")
    assert [line["val_metric"] for line in lines] == [1.2, 0.7, 0.9, None]
    assert best_so_far(lines, metric=MSE)[-1][1] == pytest.approx(0.7)
    summary = with_analysis(summary, analysis)

    csv_rows = table_rows(summary)
    assert "test_mse_mean" in csv_rows[0] and "delta_vs_pretrain_finetune" in csv_rows[0]
    ref_row = next(r for r in csv_rows if r["method"] == REF)
    assert ref_row["delta_vs_pretrain_finetune"] == 0.0 and ref_row["normalised_score"] is None

    console = Console(record=True, width=250)
    print_table(summary, console, tmp_path)
    print_verdicts(summary, console)
    text = console.export_text()
    assert "test MSE" in text and "Δ MSE [95% CI]" in text and "test acc" not in text
    assert "0.310 ± 0.010" in text  # maml's mean MSE, 3 decimals, not x100
    assert re.search(r"-0\.710 \[-\d\.\d{3}, -\d\.\d{3}\]", text)  # maml - pretrain_finetune
    assert "(reference)" in text and "no constant predictor" in text
    assert "Meta-learning" in text and "ms / iteration" in text and "autograd-graph" in text
    assert "MAML over first-order MAML: 2x the time per meta-iteration, 3x the peak memory" in (
        " ".join(text.split())
    )
    assert "against pretrain_finetune)" in text and "ROPE +-0.05 MSE" in text

    by_key = {t.key: t for t in tables(summary)}
    acc = by_key["accuracy"]
    assert acc.header[2] == "test MSE (mean ± sd)" and acc.header[3] == "Δ MSE [95% CI]"
    maml_row = next(r for r in acc.rows if r[0] == "maml")
    # the verdict's improvement (+0.71, with its t interval) shown as maml - pretrain_finetune
    assert re.fullmatch(r"-0\.710 \[-0\.8\d\d, -0\.6\d\d\]", maml_row[3]), maml_row[3]
    assert maml_row[4] == "-"  # no score without a constant predictor
    assert next(r for r in acc.rows if r[0] == REF)[3] == "(reference)"
    meta = by_key["meta"]
    assert meta.header[2] == "MSE after 1 step [95% CI]"
    assert meta.header[3] == "MSE after 10 steps [95% CI]"
    maml_meta = next(r for r in meta.rows if r[0] == "maml")
    assert maml_meta[4] == "20 (cpu)" and maml_meta[5] == "30 (autograd-graph)"
    assert "pretrain_finetune energy" in " ".join(by_key["cost"].header)
    markdown = render_markdown(summary, list(by_key.values()), {}, tmp_path)
    assert "## Meta-learning" in markdown and "Scored by test mse" in markdown


def test_difference_interval_flips_an_mse_improvement() -> None:
    assert difference_interval(MSE, 0.3, [0.2, 0.4]) == (-0.3, [-0.4, -0.2])
    assert difference_interval(ACCURACY, 3.0, [2.0, 4.0]) == (3.0, [2.0, 4.0])
    assert difference_interval(MSE, 0.3, None) == (-0.3, None)


def test_progress_keeps_the_lowest_validation_mse() -> None:
    progress = Progress(10, Console(record=True), enabled=False)
    for i, value in enumerate([1.0, 0.4, 0.8]):
        progress.trial_finished(TrialOutcome(f"t{i}", _job("search"), "ok", {"val_mse": value}))
    assert progress.metric == MSE and progress.best_val["maml"] == 0.4
    acc = Progress(10, Console(record=True), enabled=False)
    for i, value in enumerate([0.5, 0.9, 0.7]):
        acc.trial_finished(TrialOutcome(f"t{i}", _job("search"), "ok", {"val_accuracy": value}))
    assert acc.best_val["maml"] == 0.9
