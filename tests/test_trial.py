"""A trial run in-process with a collecting reporter: real training, metered by a scripted power
source (a constant power, as CodeCarbon's ``constant`` mode); once, marked slow, by a real
CodeCarbon meter."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch

from automl_bench.cost.attribution import Holding, Reading
from automl_bench.cost.node_meter import NodeMeter
from automl_bench.cost.prices import Prices
from automl_bench.cost.sources import CodeCarbonSource
from automl_bench.cost.window import LocalWindowMeter
from automl_bench.trial import TrialContext, TrialJob, TrialTimeout, run_trial

PRICES = Prices(
    gpu_hour_usd=4.0,
    cpu_hour_usd=0.05,
    electricity_usd_per_kwh=0.2,
    carbon_intensity_kg_per_kwh=0.05,
    pue=1.2,
)


class ThirtyWatts:
    """A scripted node: 25 W of CPU and 5 W of RAM, whatever the load, on the real clock."""

    measured: ClassVar[dict[str, str]] = {"cpu": "constant", "gpu": "none", "ram": "estimate"}

    def __init__(self) -> None:
        import time

        self._time, self._last = time.monotonic, time.monotonic()

    def read(self) -> Reading:
        now = self._time()
        seconds, self._last = now - self._last, now
        return Reading(cpu_kwh=25 * seconds / 3.6e6, ram_kwh=5 * seconds / 3.6e6)


@pytest.fixture(scope="module")
def node_meter() -> NodeMeter:
    return NodeMeter(ThirtyWatts(), 2.0)


@pytest.fixture(scope="module")
def codecarbon_meter(tmp_path_factory: pytest.TempPathFactory) -> NodeMeter:
    """A real CodeCarbon meter for the machine, started once (2-3 s)."""
    return NodeMeter(CodeCarbonSource("FRA", tmp_path_factory.mktemp("codecarbon")), 2.0)


@pytest.fixture()
def meter(node_meter: NodeMeter) -> LocalWindowMeter:
    return LocalWindowMeter(node_meter, Holding(cpus=1.0))


@pytest.fixture(params=["node_meter", pytest.param("codecarbon_meter", marks=pytest.mark.slow)])
def any_meter(request: pytest.FixtureRequest) -> LocalWindowMeter:
    """The scripted meter, and (slow) the real CodeCarbon one."""
    return LocalWindowMeter(request.getfixturevalue(request.param), Holding(cpus=1.0))


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
        prices=PRICES,
        deploy_batch_size=32,
        inference_seconds=0.3,
    )


def _run(
    job: TrialJob, ctx: TrialContext, meter: LocalWindowMeter
) -> list[tuple[dict[str, Any], Path | None]]:
    reports: list[tuple[dict[str, Any], Path | None]] = []

    def report(metrics: dict[str, Any], model_dir: Path | None) -> None:
        reports.append(({**metrics, "threads_seen": torch.get_num_threads()}, model_dir))

    run_trial(job, ctx, report, meter)
    return reports


def _baseline(repo_root: Path) -> dict[str, Any]:
    from automl_bench.space import load_search_space

    return load_search_space(repo_root / "search_spaces" / "mlp.py").baseline


def test_a_search_trial_reports_each_epoch_then_its_cost(
    ctx: TrialContext, any_meter: LocalWindowMeter, repo_root: Path
) -> None:
    job = TrialJob("random/seed=0", "random", 0, "search", "mlp", _baseline(repo_root))
    reports = _run(job, replace(ctx, report_interval_s=0), any_meter)  # every epoch on its own
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
    assert closing["measured_ram"] == "estimate" and closing["measured_gpu"] == "none"
    assert "tdp-estimate +-40%" in closing["energy_estimate"] or closing["measured_cpu"] != (
        "tdp-estimate"
    )
    # priced with the context's figures: CO2 and the electricity bill apply the PUE
    assert closing["co2_kg"] == pytest.approx(closing["energy_kwh"] * 1.2 * 0.05)
    assert closing["usd_energy"] == pytest.approx(closing["energy_kwh"] * 1.2 * 0.2)
    assert closing["core_s"] == pytest.approx(closing["wall_s"])  # one CPU held
    assert closing["usd_compute"] == pytest.approx(closing["core_s"] * 0.05 / 3600)
    assert closing["energy_kwh_low"] < closing["energy_kwh"] < closing["energy_kwh_high"]
    assert "inference_energy_kwh" not in closing  # a search trial has no inference phase
    assert closing["params"] == 64 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10


def test_short_epochs_are_reported_in_batches(
    ctx: TrialContext, meter: LocalWindowMeter, repo_root: Path
) -> None:
    job = TrialJob("random/seed=0", "random", 0, "search", "mlp", _baseline(repo_root))
    reports = _run(job, replace(ctx, epochs=3, report_interval_s=3600), meter)
    assert len(reports) == 1  # no round trip to the driver until the trial ends
    closing, _ = reports[0]
    assert [e["epoch"] for e in closing["epoch_history"]] == [1, 2, 3]
    assert closing["val_accuracy"] == closing["epoch_history"][-1]["val_accuracy"]


def test_a_trial_its_scheduler_stops_ends_at_once_and_hands_over_its_closing(
    ctx: TrialContext, meter: LocalWindowMeter, repo_root: Path
) -> None:
    job = TrialJob("asha/seed=0", "asha", 0, "search", "mlp", _baseline(repo_root))
    reports: list[dict[str, Any]] = []

    def report(metrics: dict[str, Any], model_dir: Path | None) -> None:
        reports.append(metrics)
        if len(reports) == 2:  # as Ray ends the session of a trial its scheduler stopped
            raise SystemExit(0)

    handed: list[dict[str, Any]] = []
    stopping = replace(ctx, epochs=4, report_interval_s=0)
    run_trial(job, stopping, report, meter, on_stopped=handed.append)  # returns, raises nothing
    assert [r["epoch"] for r in reports] == [1, 2]  # nothing reported after the stop
    (closing,) = handed
    assert closing["trial_status"] == "stopped" and closing["epochs_run"] == 2
    assert closing["stop_reason"] == "stopped after epoch 2"
    # the epoch the driver never took stays in the closing, with the accuracy it reached
    assert [e["epoch"] for e in closing["epoch_history"]] == [2]
    assert closing["val_accuracy"] == reports[-1]["val_accuracy"]
    assert closing["wall_s"] > 0 and closing["energy_kwh"] > 0


def test_a_final_training_is_tested_once_and_saves_its_model(
    ctx: TrialContext, meter: LocalWindowMeter, repo_root: Path
) -> None:
    job = TrialJob("baseline/seed=0", "baseline", 0, "final", "mlp", _baseline(repo_root))
    reports = _run(job, ctx, meter)
    closing, model_dir = reports[-1]
    history = [e for r, _ in reports for e in r["epoch_history"]]
    assert [e["epoch"] for e in history] == [1, 2]
    assert all("val_accuracy" not in e for e in history)  # trained on train + val
    assert 0.5 < closing["test_accuracy"] <= 1
    assert model_dir is not None and (model_dir / "model.pt").is_file()
    state = torch.load(model_dir / "model.pt")
    assert sum(v.numel() for v in state.values()) == closing["params"]
    # the inference phase: its own window, at the deployment batch size, priced per 1,000
    assert closing["inference_batch_size"] == 32
    assert closing["inference_predictions"] >= 32 and closing["inference_predictions"] % 32 == 0
    assert closing["inference_wall_s"] >= 0.3  # how far past: benchmarks/inference_window.py
    assert closing["inference_energy_kwh"] > 0
    per_1k = 1000 / closing["inference_predictions"]
    assert closing["inference_per_1k_energy_kwh"] == pytest.approx(
        closing["inference_energy_kwh"] * per_1k
    )


def test_the_trial_holds_to_its_cpu_share(
    ctx: TrialContext, meter: LocalWindowMeter, repo_root: Path
) -> None:
    job = TrialJob("random/seed=0", "random", 0, "search", "mlp", _baseline(repo_root))
    reports = _run(job, ctx, meter)
    assert {r["threads_seen"] for r, _ in reports} == {1}


def test_a_failing_trial_reports_its_reason_and_cost_then_raises(
    ctx: TrialContext, meter: LocalWindowMeter
) -> None:
    config = {"width": 32, "lr": 1e-2, "batch_size": 32, "fail": True}
    job = TrialJob("random/seed=0", "random", 0, "search", "flaky_mlp", config)
    reports: list[dict[str, Any]] = []
    with pytest.raises(ValueError, match="meant to fail"):
        run_trial(job, ctx, lambda metrics, _: reports.append(metrics), meter)
    assert len(reports) == 1
    assert reports[0]["trial_status"] == "failed"
    assert reports[0]["failure_reason"] == "ValueError: this configuration is meant to fail"
    assert reports[0]["wall_s"] > 0 and "energy_kwh" in reports[0]


def test_a_trial_out_of_gpu_memory_fails_alone_with_its_reason(
    ctx: TrialContext, meter: LocalWindowMeter
) -> None:
    config = {"width": 32, "lr": 1e-2, "batch_size": 32, "fail": "oom"}
    job = TrialJob("random/seed=0", "random", 0, "search", "flaky_mlp", config)
    reports: list[dict[str, Any]] = []
    with pytest.raises(torch.OutOfMemoryError):
        run_trial(job, ctx, lambda metrics, _: reports.append(metrics), meter)
    (closing,) = reports
    assert closing["trial_status"] == "failed" and closing["epochs_run"] == 0
    assert closing["failure_reason"] == (
        "OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB"
    )
    assert closing["wall_s"] > 0 and "energy_kwh" in closing  # what it spent is still charged


def test_a_trial_past_its_time_limit_fails_with_the_time_it_used(
    ctx: TrialContext, meter: LocalWindowMeter, repo_root: Path
) -> None:
    job = TrialJob("random/seed=0", "random", 0, "search", "mlp", _baseline(repo_root))
    reports: list[dict[str, Any]] = []
    limited = replace(ctx, epochs=50, timeout_s=0.05)  # far more epochs than the limit allows
    with pytest.raises(TrialTimeout, match=r"past its limit of 0\.05 s"):
        run_trial(job, limited, lambda metrics, _: reports.append(metrics), meter)
    closing = reports[-1]
    assert closing["trial_status"] == "failed" and "TrialTimeout" in closing["failure_reason"]
    assert closing["wall_s"] > 0.05 and 1 <= closing["epochs_run"] < 50
    assert closing["torch_threads"] == 1  # capped at the one CPU it was given
