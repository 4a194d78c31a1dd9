"""A trial run in-process with a collecting reporter: real training, a real CodeCarbon meter."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from automl_bench.trial import TrialContext, TrialJob, run_trial


@pytest.fixture()
def ctx(tmp_path: Path, repo_root: Path) -> TrialContext:
    return TrialContext(
        task="digits",
        cache_dir=str(tmp_path / "cache"),
        spaces={
            "mlp": str(repo_root / "search_spaces" / "mlp.py"),
            "flaky_mlp": str(repo_root / "tests" / "fixtures" / "flaky_mlp.py"),
        },
        epochs=2,
        cpus_per_trial=1,
        gpus_per_trial=0,
        country_iso_code="FRA",
        meter_dir=str(tmp_path / "meter"),
    )


def _run(job: TrialJob, ctx: TrialContext) -> list[tuple[dict[str, Any], Path | None]]:
    reports: list[tuple[dict[str, Any], Path | None]] = []

    def report(metrics: dict[str, Any], model_dir: Path | None) -> None:
        reports.append(({**metrics, "threads_seen": torch.get_num_threads()}, model_dir))

    run_trial(job, ctx, report)
    return reports


def _baseline(repo_root: Path) -> dict[str, Any]:
    from automl_bench.space import load_search_space

    return load_search_space(repo_root / "search_spaces" / "mlp.py").baseline


def test_a_search_trial_reports_each_epoch_then_its_cost(
    ctx: TrialContext, repo_root: Path
) -> None:
    job = TrialJob("random/seed=0", "random", 0, "search", "mlp", _baseline(repo_root))
    reports = _run(job, replace(ctx, report_interval_s=0))  # every epoch on its own
    epochs, (closing, model_dir) = reports[:-1], reports[-1]
    assert [r["epoch"] for r, _ in epochs] == [1, 2]
    assert [[e["epoch"] for e in r["epoch_history"]] for r, _ in epochs] == [[1], [2]]
    assert closing["epoch_history"] == []
    assert all("val_accuracy" in r and "test_accuracy" not in r for r, _ in epochs)
    assert closing["trial_status"] == "ok" and model_dir is None
    assert closing["val_accuracy"] == epochs[-1][0]["val_accuracy"] > 0.5
    assert "test_accuracy" not in closing  # search never sees the test split
    assert closing["energy_kwh"] > 0 and closing["wall_s"] > 0 and closing["co2_kg"] > 0
    assert closing["measured_cpu"] in {"rapl", "tdp-estimate", "constant"}
    assert closing["params"] == 64 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10


def test_short_epochs_are_reported_in_batches(ctx: TrialContext, repo_root: Path) -> None:
    job = TrialJob("random/seed=0", "random", 0, "search", "mlp", _baseline(repo_root))
    reports = _run(job, replace(ctx, epochs=3, report_interval_s=3600))
    assert len(reports) == 1  # no round trip to the driver until the trial ends
    closing, _ = reports[0]
    assert [e["epoch"] for e in closing["epoch_history"]] == [1, 2, 3]
    assert closing["val_accuracy"] == closing["epoch_history"][-1]["val_accuracy"]


def test_a_final_training_is_tested_once_and_saves_its_model(
    ctx: TrialContext, repo_root: Path
) -> None:
    job = TrialJob("baseline/seed=0", "baseline", 0, "final", "mlp", _baseline(repo_root))
    reports = _run(job, ctx)
    closing, model_dir = reports[-1]
    history = [e for r, _ in reports for e in r["epoch_history"]]
    assert [e["epoch"] for e in history] == [1, 2]
    assert all("val_accuracy" not in e for e in history)  # trained on train + val
    assert 0.5 < closing["test_accuracy"] <= 1
    assert model_dir is not None and (model_dir / "model.pt").is_file()
    state = torch.load(model_dir / "model.pt")
    assert sum(v.numel() for v in state.values()) == closing["params"]


def test_the_trial_holds_to_its_cpu_share(ctx: TrialContext, repo_root: Path) -> None:
    job = TrialJob("random/seed=0", "random", 0, "search", "mlp", _baseline(repo_root))
    reports = _run(job, ctx)
    assert {r["threads_seen"] for r, _ in reports} == {1}


def test_a_failing_trial_reports_its_reason_and_cost_then_raises(ctx: TrialContext) -> None:
    config = {"width": 32, "lr": 1e-2, "batch_size": 32, "fail": True}
    job = TrialJob("random/seed=0", "random", 0, "search", "flaky_mlp", config)
    reports: list[dict[str, Any]] = []
    with pytest.raises(ValueError, match="meant to fail"):
        run_trial(job, ctx, lambda metrics, _: reports.append(metrics))
    assert len(reports) == 1
    assert reports[0]["trial_status"] == "failed"
    assert reports[0]["failure_reason"] == "ValueError: this configuration is meant to fail"
    assert reports[0]["wall_s"] > 0 and "energy_kwh" in reports[0]
