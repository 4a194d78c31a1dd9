"""The verdict's statistics on constructed data with known answers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from automl_bench.analysis import VerdictSettings, verdicts
from automl_bench.analysis.intervals import (
    clopper_pearson,
    probability_of_improvement,
    ratio_interval,
    seed_interval,
    seeds_to_decide,
    t_interval,
)
from automl_bench.analysis.verdict import BreakEven, _break_even_words, break_even
from automl_bench.results import COLUMNS, read_results, write_results

SETTINGS = VerdictSettings(
    rope_points=1.0, value_usd_per_point_per_million=10.0, deployment_predictions=1e8
)


@pytest.mark.parametrize("n", [3, 5, 10])
def test_the_t_interval_covers_about_95_percent_at_few_seeds(n: int) -> None:
    rng = np.random.default_rng(n)
    reps, hits = 4000, 0
    for _ in range(reps):
        sample = rng.normal(2.0, 1.5, size=n)
        i = t_interval(list(sample))
        assert i.low is not None and i.high is not None
        hits += i.low <= 2.0 <= i.high
    assert abs(hits / reps - 0.95) < 0.015  # within simulation error of 4,000 draws


def test_the_seed_interval_is_wider_than_t_bounded_from_three_seeds_and_clipped() -> None:
    values = [0.5, 1.2, 0.8, 2.0, 1.1]
    seed, t = seed_interval(values), t_interval(values)
    assert seed.method == "anytime-valid" and seed.estimate == pytest.approx(t.estimate)
    assert seed.low is not None and t.low is not None and seed.low < t.low
    assert seed.high is not None and t.high is not None and seed.high > t.high
    two = seed_interval([1.0, 2.0])  # two seeds: not bounded, so the whole feasible range
    assert (two.low, two.high) == (-math.inf, math.inf)
    assert (seed_interval([1.0, 2.0], (-100, 100)).low, seed_interval([1.0, 2.0], (0, 3)).high) == (
        -100,
        3,
    )
    three = seed_interval([1.0, 2.0, 1.5])
    assert three.low is not None and math.isfinite(three.low)
    assert seed_interval([0.99, 1.0, 0.98], (0.0, 1.0)).high == 1.0


def test_seeds_to_decide_grows_as_the_mean_nears_the_edge() -> None:
    far, near = [4.0, 5.0, 6.0], [1.5, 2.5, 3.5]
    assert seeds_to_decide(far, 1.0, 100) == 2  # at 5 seeds: 5 +- 3.04 clears +1
    more = seeds_to_decide(near, 1.0, 100)
    assert more is not None and more > 2
    assert seeds_to_decide([0.5, 1.5, 1.0], 1.0, 100) is None  # the mean sits on the edge
    assert seeds_to_decide([10.0, 10.5, 11.0], 1.0, 100) == 0  # decided already


def test_clopper_pearson_matches_the_exact_interval() -> None:
    none = clopper_pearson(0, 10)
    assert none.estimate == 0 and none.low == 0 and none.high == pytest.approx(0.3085, abs=1e-4)
    half = clopper_pearson(5, 10)
    assert (half.low, half.high) == pytest.approx((0.1871, 0.8129), abs=1e-4)


def test_probability_of_improvement_counts_ties_as_half() -> None:
    assert probability_of_improvement([1.0, -1.0, 0.0, 2.0]) == pytest.approx(0.625)


def test_cost_ratios_are_geometric_means_on_log_scale() -> None:
    r = ratio_interval([20.0, 20.0, 20.0], [2.0, 2.0, 2.0])
    assert r.estimate == pytest.approx(10.0) and r.low == pytest.approx(10.0)
    assert ratio_interval([4.0, 1.0], [1.0, 4.0]).estimate == pytest.approx(1.0)


def test_break_even_and_never() -> None:
    v = 10.0 / 1e6  # USD per point per prediction
    assert break_even(1.0, 2.0, 0.0, v) == pytest.approx(1.0 / (2 * v))
    assert math.isinf(break_even(1.0, 0.0, 0.0, v))  # no gain: never
    assert math.isinf(break_even(1.0, -1.0, 0.0, v))
    assert math.isinf(break_even(1.0, 2.0, 3 * v, v))  # costlier inference than it gains
    assert break_even(-0.5, 2.0, 0.0, v) == 0  # cheaper to find than the baseline: at once


def row(method: str, seed: int, test: float | None, **over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {c: None for c in COLUMNS}
    out.update(
        experiment="x",
        task="t",
        space="s",
        method=method,
        seed=seed,
        status="ok" if test is not None else "failed",
        test_metric=test,
        trials=4 if method != "baseline" else 0,
        failed=0,
        final_trainings=1 if test is not None else 0,
        final_failed=0,
        deploy_feasible=True,
        deploy_broken="",
    )
    for phase in ("search", "final", "inference_per_1k"):
        for figure in ("wall_s", "device_s", "energy_kwh", "energy_kwh_low", "energy_kwh_high"):
            out[f"{phase}_{figure}"] = 0.0
        out[f"{phase}_co2_kg"] = 0.0
        out[f"{phase}_usd"] = 0.0
    out.update(final_usd=0.1, final_energy_kwh=1.0)
    if method != "baseline":
        out.update(search_usd=100.0, search_energy_kwh=10.0)
    out.update(over)
    return out


def _experiment(deltas: list[float], **over: Any) -> list[dict[str, Any]]:
    base = [row("baseline", s, 0.80) for s in range(len(deltas))]
    return base + [row("m", s, 0.80 + d / 100, **over) for s, d in enumerate(deltas)]


def test_worth_it_needs_the_interval_above_the_rope_and_the_break_even_met() -> None:
    v = verdicts(_experiment([3.0, 3.2, 2.8, 3.1, 2.9]), SETTINGS)["m"]
    assert v["call"] == "worth it", v["reason"]
    assert v["delta_points"]["ci95"][0] > 1.0
    # USD 100 extra at USD 10 per point per million and +3 points: about 3.3 M predictions
    assert v["break_even_predictions"]["estimate"] == pytest.approx(100.0 / (3.0 * 1e-5), rel=1e-6)
    assert "+3.0 points [" in v["reason"] and "(anytime-valid, 5 seeds)" in v["reason"]
    assert "11x [11, 11] the baseline's energy" in v["reason"]
    assert v["probability_of_improvement"] == 1.0


def test_inside_or_below_the_rope_is_not_worth_it_and_straddling_is_inconclusive() -> None:
    inside = verdicts(_experiment([0.2, -0.3, 0.1, 0.0, 0.1]), SETTINGS)["m"]
    assert inside["call"] == "not worth it" and "ROPE" in inside["reason"]
    below = verdicts(_experiment([-3.0, -2.5, -3.5, -3.2, -2.8]), SETTINGS)["m"]
    assert below["call"] == "not worth it" and "never pays off" in below["reason"]
    straddle = verdicts(_experiment([0.5, 3.0, 1.5, 2.5, 0.8]), SETTINGS)["m"]
    assert straddle["call"] == "inconclusive" and "both sides of the ROPE" in straddle["reason"]
    assert "no improvement beyond the ROPE" in inside["reason"]
    worse_on_average = verdicts(_experiment([-1.0, 0.5, -0.5]), SETTINGS)["m"]
    assert worse_on_average["call"] == "inconclusive"  # [-7.6, 7.0] reaches above the ROPE
    assert "never pays off at the mean difference (at best " in worse_on_average["reason"]
    assert "after never" not in worse_on_average["reason"]


def test_a_clear_gain_that_pays_off_too_late_is_not_worth_it() -> None:
    small_volume = VerdictSettings(deployment_predictions=1e5)
    v = verdicts(_experiment([3.0, 3.2, 2.8, 3.1, 2.9]), small_volume)["m"]
    assert v["call"] == "not worth it" and "pays off after" in v["reason"]


def test_a_cheaper_better_model_pays_off_from_the_first_prediction() -> None:
    rows = _experiment([3.0, 3.2, 2.8, 3.1, 2.9], search_usd=0.0, search_energy_kwh=0.0)
    for r in rows[5:]:
        r.update(final_usd=0.01, final_energy_kwh=0.1)  # a tenth of the baseline's training
    v = verdicts(rows, SETTINGS)["m"]
    assert v["call"] == "worth it", v["reason"]
    assert "pays off from the first prediction," in v["reason"]  # across the whole interval
    assert "after 0" not in v["reason"] and "at worst" not in v["reason"]


@pytest.mark.parametrize(
    ("worst", "words"),
    [
        (math.inf, "pays off from the first prediction (at worst never)"),
        (2.5e6, "pays off from the first prediction (at worst after 2.5 M predictions)"),
        (0.0, "pays off from the first prediction"),
    ],
)
def test_a_break_even_at_once_says_its_worst_case(worst: float, words: str) -> None:
    assert _break_even_words(BreakEven(0.0, 0.0, worst)) == words


def test_a_model_that_breaks_a_constraint_is_not_deployable_whatever_its_gain() -> None:
    rows = _experiment([3.0, 3.2, 2.8])
    rows[-1].update(deploy_feasible=False, deploy_broken="latency_ms_p95 9 > 5 (cpu)")
    v = verdicts(rows, SETTINGS)["m"]
    assert v["call"] == "not deployable" and "latency_ms_p95 9 > 5" in v["reason"]


def test_failures_are_counted_not_dropped() -> None:
    rows = _experiment([3.0, 3.2, 2.8, 3.1])
    rows[-1].update(status="failed", test_metric=None, failed=4, final_trainings=0)
    v = verdicts(rows, SETTINGS)["m"]
    assert v["seeds_paired"] == 3 and v["studies"] == 4
    assert (
        v["failed_studies"]["estimate"] == 0.25
        and v["failed_studies"]["method"] == "Clopper-Pearson"
    )
    # search trials and final trainings alike: 4 of 16 search trials, 0 of 3 final trainings
    assert v["failed_trials"]["estimate"] == pytest.approx(4 / 19) and v["failed_trials"]["n"] == 19
    assert "1 of 4 studies failed" in v["reason"]
    # a final training that failed counts as a failed trial too
    rows[-2].update(status="failed", test_metric=None, final_failed=1)
    v = verdicts(rows, SETTINGS)["m"]
    assert v["failed_trials"]["estimate"] == pytest.approx(5 / 19)
    assert "2 of 4 studies failed" in v["reason"]


def test_one_seed_gives_no_interval_and_no_verdict() -> None:
    v = verdicts(_experiment([5.0]), SETTINGS)["m"]
    assert v["call"] == "inconclusive" and "1 seed" in v["reason"]


def test_the_verdict_is_recomputed_from_results_csv_alone(tmp_path: Path) -> None:
    rows = _experiment([3.0, 3.2, 2.8, 3.1, 2.9])
    write_results(rows, tmp_path / "results.csv")
    back = read_results(tmp_path / "results.csv")
    assert verdicts(back, SETTINGS) == verdicts(rows, SETTINGS)


def test_pareto_membership() -> None:
    from automl_bench.analysis.curves import pareto_front

    points = {
        "baseline": (0.80, 1.0),
        "cheap_bad": (0.60, 0.5),  # cheaper, worse: on the front
        "dominated": (0.79, 2.0),  # worse and dearer than the baseline
        "best": (0.90, 5.0),  # most accurate: on the front
        "tie": (0.80, 1.0),  # equal to the baseline: neither beats the other
    }
    assert pareto_front(points) == ["cheap_bad", "baseline", "tie", "best"]


def _trial(method: str, seed: int, end: str, kwh: float, value: float | None) -> dict[str, Any]:
    return {
        "phase": "search",
        "method": method,
        "seed": seed,
        "end": end,
        "status": "ok" if value is not None else "failed",
        "val_metric": value,
        "cost": {"energy_kwh": {"total": kwh}},
    }


def test_anytime_curves_on_a_shared_energy_grid() -> None:
    from automl_bench.analysis.curves import anytime, best_so_far

    a0 = [
        _trial("a", 0, "1", 1.0, 0.5),
        _trial("a", 0, "2", 1.0, None),
        _trial("a", 0, "3", 2.0, 0.7),
    ]
    a1 = [_trial("a", 1, "1", 2.0, 0.6), _trial("a", 1, "2", 2.0, 0.4)]
    assert best_so_far(a0) == [(1.0, 0.5), (2.0, 0.5), (4.0, 0.7)]  # a failure adds cost only
    curves = anytime(a0 + a1, points=5)["a"]
    assert curves["grid_kwh"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert curves["seeds"] == [0, 1, 2, 2, 2]
    assert curves["mean"][1] == 0.5 and curves["stderr"][1] is None
    assert curves["mean"][2] == pytest.approx(0.55) and curves["mean"][4] == pytest.approx(0.65)
    assert curves["stderr"][4] == pytest.approx(0.05)  # std 0.0707 / sqrt(2)


def test_normalised_scores_anchor_the_constant_at_0_and_the_baseline_at_1() -> None:
    from automl_bench.analysis.normalised import normalised_scores

    rows = [
        row("constant", 0, 0.10),
        row("constant", 1, 0.20),
        row("baseline", 0, 0.60),
        row("baseline", 1, 0.70),
        row("m", 0, 0.85),  # (0.85 - 0.1) / 0.5 = 1.5
        row("m", 1, 0.45),  # (0.45 - 0.2) / 0.5 = 0.5
    ]
    scores = normalised_scores(rows)
    assert scores["constant"]["per_seed"] == {0: 0.0, 1: 0.0}
    assert scores["baseline"]["per_seed"] == {0: 1.0, 1: 1.0}
    assert scores["m"]["per_seed"] == pytest.approx({0: 1.5, 1: 0.5})
    assert scores["m"]["estimate"] == pytest.approx(1.0)
    assert scores["m"]["method"] == "anytime-valid"
    # a new method does not move anyone else's score (no "best observed" anchor)
    more = normalised_scores([*rows, row("great", 0, 0.99), row("great", 1, 0.99)])
    assert more["m"] == scores["m"]
    # a seed where the baseline is no better than the constant predictor has no score
    flat = normalised_scores([row("constant", 0, 0.5), row("baseline", 0, 0.5), row("m", 0, 0.6)])
    assert flat == {}


def test_the_constant_predictor_is_an_anchor_not_a_method() -> None:
    from automl_bench.analysis.curves import pareto_fronts

    rows = _experiment([3.0, 3.2, 2.8])
    rows += [row("constant", s, 0.1, trials=0) for s in range(3)]
    assert set(verdicts(rows, SETTINGS)) == {"m"}
    assert all("constant" not in f["points"] for f in pareto_fronts(rows).values())


def test_latency_ratio_is_a_geometric_mean_with_an_approximate_interval() -> None:
    rows = _experiment([3.0, 3.2, 2.8])
    for r in rows:
        r["deploy_latency_ms_p95_cpu"] = 1.0 if r["method"] == "baseline" else 2.0
    rows[-1]["deploy_latency_ms_p95_cpu"] = 8.0  # 2x, 2x, 8x: geometric mean 3.17x
    v = verdicts(rows, SETTINGS)["m"]
    assert v["latency_ratio"]["estimate"] == pytest.approx(32 ** (1 / 3))
    assert v["latency_ratio"]["method"] == "anytime-valid"
    assert "3.17x [" in v["reason"] and "the baseline's p95 CPU latency" in v["reason"]


def test_the_reason_names_the_constraints_a_feasible_method_meets() -> None:
    from automl_bench.deploy.record import Constraints

    limits = Constraints(max_latency_ms_p95=5.0, export_required=True)
    assert limits.describe() == "p95 <= 5 ms (cpu), exports"
    assert Constraints().describe() == ""
    settings = VerdictSettings(constraints=limits.describe())
    v = verdicts(_experiment([3.0, 3.2, 2.8]), settings)["m"]
    assert "meets p95 <= 5 ms (cpu), exports" in v["reason"]


def _timed(
    method: str,
    seed: int,
    end: str,
    kwh: float,
    wall_s: float,
    value: float | None,
    status: str | None = None,
    start: str | None = None,
) -> dict[str, Any]:
    line = _trial(method, seed, end, kwh, value)
    line["cost"]["wall_s"] = wall_s
    line["start"] = start
    if status is not None:
        line["status"] = status
    return line


def test_anytime_curves_against_wall_clock_and_energy() -> None:
    from automl_bench.analysis.curves import anytime, best_so_far

    a0 = [
        _timed("a", 0, "1", 1.0, 10.0, 0.5),
        _timed("a", 0, "2", 1.0, 30.0, None),  # failed: adds its seconds, no value
        _timed("a", 0, "3", 2.0, 40.0, 0.7),
    ]
    a1 = [_timed("a", 1, "1", 2.0, 20.0, 0.6), _timed("a", 1, "2", 2.0, 20.0, 0.4)]
    assert best_so_far(a0, cost="wall_s") == [(10.0, 0.5), (40.0, 0.5), (80.0, 0.7)]
    wall = anytime(a0 + a1, points=5, cost="wall_s")["a"]
    assert wall["cost"] == "wall_s" and "grid_kwh" not in wall
    assert wall["grid"] == [0.0, 20.0, 40.0, 60.0, 80.0]
    assert wall["seeds"] == [0, 2, 2, 2, 2]
    assert wall["mean"][1] == pytest.approx(0.55) and wall["mean"][4] == pytest.approx(0.65)
    assert wall["stderr"][4] == pytest.approx(0.05)
    # energy stays the default, under both "grid" and "grid_kwh"
    energy = anytime(a0 + a1, points=5)["a"]
    assert energy["cost"] == "energy_kwh" and energy["grid"] == energy["grid_kwh"]
    assert energy["grid_kwh"] == [0.0, 1.0, 2.0, 3.0, 4.0] and energy["seeds"] == [0, 1, 2, 2, 2]
    with pytest.raises(ValueError, match="cost must be one of"):
        anytime(a0, cost="joules")


def test_the_cost_to_reach_a_target_per_seed_and_for_the_mean() -> None:
    from automl_bench.analysis.curves import mean_reach_cost, reach_cost

    lines = [
        # a, seed 0: 0.5 after 1 kWh / 10 s, 0.8 after 3 kWh / 40 s
        _timed("a", 0, "1", 1.0, 10.0, 0.5),
        _timed("a", 0, "2", 2.0, 30.0, 0.8),
        # a, seed 1: a failure first (cost, no value), then 0.6 at 2 kWh / 25 s
        _timed("a", 1, "1", 1.0, 5.0, None),
        _timed("a", 1, "2", 1.0, 20.0, 0.6),
        # b, seed 0: never above 0.55
        _timed("b", 0, "1", 0.5, 1.0, 0.55),
        # the final training is no search trial
        {**_timed("b", 0, "2", 9.0, 9.0, 0.99), "phase": "final"},
    ]
    assert reach_cost(lines, 0.6) == {"a": {0: 3.0, 1: 2.0}, "b": {0: None}}
    assert reach_cost(lines, 0.6, cost="wall_s") == {"a": {0: 40.0, 1: 25.0}, "b": {0: None}}
    assert reach_cost(lines, 0.5) == {"a": {0: 1.0, 1: 2.0}, "b": {0: 0.5}}
    # the mean needs every seed: at 2 kWh (0.5 + 0.6) / 2 = 0.55, at 3 kWh (0.8 + 0.6) / 2 = 0.7
    assert mean_reach_cost(lines, 0.55) == {"a": 2.0, "b": 0.5}
    assert mean_reach_cost(lines, 0.7) == {"a": 3.0, "b": None}
    assert mean_reach_cost(lines, 0.55, cost="wall_s") == {"a": 25.0, "b": 1.0}
    # a target that is a mean of the values themselves is reached despite rounding
    target = math.fsum([0.7, 0.7, 0.7]) / 3
    same = [_timed("c", s, "1", 1.0, 1.0, 0.7) for s in range(3)]
    assert reach_cost(same, target) == {"c": {0: 1.0, 1: 1.0, 2: 1.0}}


def test_a_stopped_trial_counts_when_it_stopped_not_when_it_was_settled() -> None:
    from automl_bench.analysis.curves import best_so_far

    t0 = "2026-01-01T00:00:00+00:00"
    trials = [
        # stopped after 1 s of work, but settled (its "end") after every trial had run
        _timed("a", 0, "2026-01-01T00:10:00+00:00", 1.0, 1.0, None, "stopped", t0),
        _timed("a", 0, "2026-01-01T00:00:30+00:00", 2.0, 30.0, 0.7, start=t0),
    ]
    assert best_so_far(trials) == [(1.0, None), (3.0, 0.7)]


def test_each_anytime_curve_says_how_far_its_method_spent() -> None:
    from automl_bench.analysis.curves import anytime

    lines = [
        _trial("a", 0, "1", 1.0, 0.5),
        _trial("a", 0, "2", 3.0, 0.7),  # a spent 4 kWh
        _trial("b", 0, "1", 0.5, 0.6),
        _trial("b", 1, "1", 1.0, 0.4),  # b's studies spent 0.5 and 1 kWh
    ]
    curves = anytime(lines, points=5)
    assert curves["a"]["spent"] == 4.0 and curves["b"]["spent"] == 1.0
    assert curves["b"]["grid_kwh"] == curves["a"]["grid_kwh"]  # the grid stays shared


def test_an_inconclusive_call_forecasts_the_seeds_and_cost_that_would_decide_it() -> None:
    rows = _experiment([0.5, 3.0, 1.5, 2.5, 3.4], search_wall_s=10.0, final_wall_s=2.0)
    v = verdicts(rows, SETTINGS)["m"]
    assert v["call"] == "inconclusive"
    forecast = v["forecast"]
    more = seeds_to_decide([0.5, 3.0, 1.5, 2.5, 3.4], 1.0, 95)
    assert more is not None and forecast["more_seeds"] == more > 0
    # per seed: the method's search + final training and the baseline's final training
    assert forecast["per_seed"]["usd"] == pytest.approx(100.0 + 0.1 + 0.1)
    assert forecast["per_seed"]["energy_kwh"] == pytest.approx(10.0 + 1.0 + 1.0)
    assert forecast["per_seed"]["wall_s"] == pytest.approx(10.0 + 2.0 + 0.0)  # baseline: 0 s here
    assert forecast["cost"]["usd"] == pytest.approx(more * 100.2)
    assert f"about {more} more seeds would likely decide it" in v["reason"]
    on_the_edge = verdicts(_experiment([0.0, 2.0, 1.0, 1.5, 0.5]), SETTINGS)["m"]
    assert on_the_edge["forecast"]["more_seeds"] is None
    assert "not decided within 100 seeds" in on_the_edge["reason"]
    decided = verdicts(_experiment([3.0, 3.2, 2.8, 3.1, 2.9]), SETTINGS)["m"]
    assert "forecast" not in decided


def test_a_forecast_past_the_seed_plans_max_says_so_instead_of_blaming_the_spread() -> None:
    diffs = [0.5, 3.0, 1.5, 2.5, 3.4]
    more = seeds_to_decide(diffs, 1.0, 95)
    assert more is not None and more > 1
    tight = VerdictSettings(max_seeds=len(diffs) + more - 1)
    v = verdicts(_experiment(diffs), tight)["m"]
    assert v["forecast"]["more_seeds"] == more and v["forecast"]["past_max"]
    assert f"past the {tight.max_seeds} seeds the plan allows (raise seeds.max)" in v["reason"]
    assert "near the ROPE's edge" not in v["reason"]
    roomy = verdicts(_experiment(diffs), VerdictSettings(max_seeds=len(diffs) + more))["m"]
    assert not roomy["forecast"]["past_max"] and "raise seeds.max" not in roomy["reason"]
