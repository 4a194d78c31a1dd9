"""The summary as the builder makes it from study records: costs per phase that add up to what
the nodes measured, the choice of each study, and the files a run writes (never overwriting an
earlier run's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from summary_samples import MEASURED, PRICES, sample_summary

from automl_bench.cost.attribution import Energy
from automl_bench.cost.node_meter import NodeTotals
from automl_bench.cost.totals import experiment_totals
from automl_bench.outcome import TrialOutcome
from automl_bench.outputs import write_summary
from automl_bench.study import StudySpec
from automl_bench.study_record import StudyRecord
from automl_bench.summary import experiment_cost, study_costs, study_summary
from automl_bench.trial import TrialJob


def test_a_new_run_never_overwrites_an_earlier_summary(tmp_path: Path) -> None:
    write_summary(sample_summary("2026-11-27T08:00:00+00:00", baseline=0.5), tmp_path)
    write_summary(sample_summary("2026-11-27T09:00:00+00:00", baseline=0.9), tmp_path)
    current = json.loads((tmp_path / "summary.json").read_text())
    assert current["methods"]["baseline"]["test_metric"]["mean"] == pytest.approx(0.91)
    kept = sorted(p.name for p in (tmp_path / "history").iterdir())
    assert kept == [
        "2026-11-27T08-00-00-00-00-summary.csv",
        "2026-11-27T08-00-00-00-00-summary.json",
    ]
    old = json.loads((tmp_path / "history" / kept[1]).read_text())
    assert old["methods"]["baseline"]["test_metric"]["mean"] == pytest.approx(0.51)
    csv_rows = (tmp_path / "summary.csv").read_text().splitlines()
    assert csv_rows[0].startswith("method,seeds,test_accuracy_mean") and len(csv_rows) == 3


def _outcome(
    i: int, phase: str, usage: Energy, ok: bool = True, inference: Energy | None = None
) -> TrialOutcome:
    result: dict[str, object] = {
        "trial_status": "ok" if ok else "failed",
        **PRICES.record(usage, MEASURED, cpu_s=1.0).to_result(),
    }
    if ok and phase == "search":
        result["val_accuracy"] = 0.5 + i / 100
    if inference is not None:
        result.update(PRICES.record(inference, MEASURED).to_result("inference_"))
        result["inference_predictions"] = 4000
        result["test_accuracy"] = 0.9
    job = TrialJob("random/seed=0", "random", 0, phase, "mlp", {"width": i})
    return TrialOutcome(f"t{i}", job, "ok" if ok else "failed", result)  # type: ignore[arg-type]


def test_phases_add_up_and_idle_closes_the_books() -> None:
    """Scripted usage through the real pricing, study summary and experiment totals."""
    search = [Energy(10, 10, 0, 1e-3, 0, 1e-4), Energy(5, 5, 0, 4e-4, 0, 5e-5)]
    final, inference = Energy(20, 20, 5, 2e-3, 3e-3, 2e-4), Energy(1, 1, 0.25, 1e-5, 4e-5, 1e-6)
    decide = PRICES.record(Energy(0.2, 0.2, 0, 2e-5, 0, 0), MEASURED, cpu_s=0.2)
    record = StudyRecord(
        StudySpec("random", 0, "mlp", 2, "random"),
        "run",
        [
            _outcome(1, "search", search[0]),
            _outcome(2, "search", search[1], ok=False),  # failed: charged for what it ran
            _outcome(3, "final", final, inference=inference),
        ],
        decide,
    )
    study = study_summary(record)
    search_kwh = sum(e.kwh for e in search) + decide.energy_kwh
    assert study.search.energy_kwh.total == pytest.approx(search_kwh)
    assert study.search.wall_s == pytest.approx(15.2)
    # what the study chose is what its final training trained
    assert study.failed == 1 and study.best_config == {"width": 3}
    assert study.final.energy_kwh.gpu == pytest.approx(3e-3)
    assert study.final.usd_compute == pytest.approx((20 * 0.05 + 5 * 4.0) / 3600)
    assert study.inference.energy_kwh.total == pytest.approx(inference.kwh)
    assert study.inference_per_1k.energy_kwh.total == pytest.approx(inference.kwh / 4)
    assert study.inference_per_1k.co2_kg == pytest.approx(inference.kwh / 4 * 1.25 * 0.3)

    idle = Energy(30, 40, 10, 5e-4, 1e-3, 1e-4)
    windows = search[0] + search[1] + final + inference + Energy(0.2, 0.2, 0, 2e-5, 0, 0)
    totals = NodeTotals(windows + idle, windows, Energy(), idle, MEASURED)
    lines = experiment_totals([study_costs(record)], {"node-1": totals}, PRICES, [])
    cost = experiment_cost(lines, PRICES, {"meter_start_s": 2.0}, [])
    assert cost.attribution.ratio == pytest.approx(1.0)
    assert cost.idle.energy_kwh.total == pytest.approx(idle.kwh)
    assert cost.idle.usd == pytest.approx(PRICES.record(idle, MEASURED).usd)
    phases_usd = cost.search.usd + cost.final.usd + cost.inference.usd
    assert phases_usd + cost.idle.usd == pytest.approx(cost.node.usd)
    assert cost.node.co2_kg == pytest.approx((windows + idle).kwh * 1.25 * 0.3)
    assert cost.prices.pue == 1.25 and cost.metering == {"meter_start_s": 2.0}


def test_each_method_pairs_its_seeds_with_the_reference() -> None:
    summary = sample_summary(seeds=3)
    random = summary.methods["random"]
    # random gains 5 points plus s / 100 at seed s over the baseline: a mean of 6 points
    assert random.delta_vs_reference.mean == pytest.approx(0.06)
    assert random.delta_vs_reference.n == 3 and random.delta_vs_reference.ci95 is not None
    assert random.delta_vs_baseline == random.delta_vs_reference
    assert summary.methods["baseline"].delta_vs_reference.mean == 0.0
    assert random.failed_search_trials == 3 and random.search_trials == 6
    assert [s.seed for s in random.studies] == [0, 1, 2]


def test_a_multi_objective_study_keeps_its_front_under_the_cost_objective_name() -> None:
    def trial(i: int, accuracy: float, params: int) -> TrialOutcome:
        job = TrialJob("nsga2/seed=0", "nsga2", 0, "search", "mlp", {"width": i})
        result = {"trial_status": "ok", "val_accuracy": accuracy, "params": params}
        return TrialOutcome(f"t{i}", job, "ok", result)  # type: ignore[arg-type]

    outcomes = [trial(0, 0.8, 1000), trial(1, 0.9, 5000), trial(2, 0.7, 2000)]
    record = StudyRecord(StudySpec("nsga2", 0, "mlp", 3, "nsga2"), "run", outcomes)
    study = study_summary(record)
    assert study.pareto_front is not None
    assert [(p.trial_id, p.objective, p.cost) for p in study.pareto_front] == [
        ("t0", "params", 1000.0),
        ("t1", "params", 5000.0),
    ]
    written = json.loads(json.dumps(study.model_dump()))
    assert written["pareto_front"][0] == {
        "trial_id": "t0",
        "val_metric": 0.8,
        "params": 1000.0,
        "config": {"width": 0},
    }
    assert type(study).model_validate(written) == study
