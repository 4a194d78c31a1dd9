"""Deploy records: FLOPs, sizes, latencies, memory, export, and the constraints they are held to."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from repo_paths import REPO
from torch import nn

from automl_bench.deploy.measure import (
    device_figures,
    export_round_trip,
    flops_per_example,
    measure,
    onnx_round_trip,
    peak_mem_mb,
    size_mb,
)
from automl_bench.deploy.models import DeploySettings, FinalModel, measure_final_models
from automl_bench.deploy.record import Constraints, DeployRecord, DeviceFigures
from automl_bench.space import load_search_space
from automl_bench.tasks import get_task


def test_flops_of_known_layers_are_exact() -> None:
    assert flops_per_example(nn.Linear(40, 100), torch.randn(1, 40)) == 2 * 40 * 100
    conv = nn.Conv1d(1, 8, kernel_size=5, padding=2)
    assert flops_per_example(conv, torch.randn(1, 1, 40)) == 2 * 8 * 40 * 1 * 5
    mlp = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    assert flops_per_example(mlp, torch.randn(1, 64)) == 2 * (64 * 32 + 32 * 10)
    # the paper's MLP on MNIST-1D: 15,000 weights in its matrices, two FLOPs each
    space = load_search_space(REPO / "search_spaces" / "mlp.py")
    model = space.build(dict(space.baseline), get_task("mnist1d").info)
    assert flops_per_example(model, torch.randn(1, 40)) == 2 * 15_000


def test_size_is_the_serialized_state_dict() -> None:
    model = nn.Linear(1000, 1000)  # 1,001,000 float32 numbers
    assert size_mb(model) == pytest.approx(4.004, rel=0.01)


def test_peak_memory_counts_parameters_and_live_activations() -> None:
    model = nn.Sequential(
        nn.Linear(40, 1000), nn.ReLU(), nn.Linear(1000, 1000), nn.ReLU(), nn.Linear(1000, 10)
    )
    params_mb = sum(p.numel() for p in model.parameters()) * 4 / 1e6
    # batch 256: two 256 x 1000 float32 activations alive at once at most
    peak = peak_mem_mb(model, torch.randn(256, 40))
    assert peak == pytest.approx(params_mb + 2 * 256 * 1000 * 4 / 1e6, rel=0.1)


def test_latency_figures_are_consistent_and_give_the_threads_back() -> None:
    """The figures' shape only; whether latency tells a small model from a large one is a
    timing, measured by benchmarks/latency_order.py."""
    small = nn.Linear(40, 10)
    big = nn.Sequential(*[m for _ in range(2) for m in (nn.Linear(256, 256), nn.ReLU())])
    fast = device_figures(small, torch.randn(256, 40), 64, threads=1, seconds=0.2)
    slow = device_figures(big, torch.randn(256, 256), 64, threads=1, seconds=0.2)
    for figures in (fast, slow):
        assert figures.latency_ms_p50 > 0 and figures.throughput_per_s > 0
        assert figures.threads == 1 and figures.device == "cpu" and figures.batch_size == 64
        assert figures.latency_repeats >= 30
        assert 0 <= figures.latency_ms_iqr <= figures.latency_ms_p95
        assert figures.latency_ms_p50 <= figures.latency_ms_p95
    assert torch.get_num_threads() >= 1  # the caller's thread count is given back


class DataDependent(nn.Module):
    """Python control flow on tensor values: torch.export cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.linear(x)
        return -self.linear(x)


def test_export_round_trips_or_says_why_not() -> None:
    space = load_search_space(REPO / "search_spaces" / "cnn1d.py")
    model = space.build(dict(space.baseline), get_task("mnist1d").info)
    assert export_round_trip(model, torch.randn(1, 40)) == (True, None)
    ok, error = export_round_trip(DataDependent(), torch.randn(1, 4))
    assert not ok and error is not None and "data-dependent" in error  # the reason, in a line


def test_onnx_round_trip_with_the_extra() -> None:
    space = load_search_space(REPO / "search_spaces" / "mlp.py")
    model = space.build(dict(space.baseline), get_task("mnist1d").info)
    assert onnx_round_trip(model, torch.randn(1, 40)) == "ok"


def _figures(p95: float) -> DeviceFigures:
    return DeviceFigures("cpu", 1, p95 / 2, p95, 0.1, 100, 64, p95, 1000.0, 1.0)


def test_constraints_mark_a_model_infeasible_and_name_what_it_breaks() -> None:
    record = DeployRecord(
        params=20_000, flops=40_000, size_mb=0.08, exportable=False, cpu=_figures(3.0)
    )
    assert record.checked(Constraints()).feasible
    checked = record.checked(
        Constraints(
            max_latency_ms_p95=2.0,
            max_size_mb=1.0,
            max_params=10_000,
            export_required=True,
        )
    )
    assert not checked.feasible
    assert checked.broken == (
        "latency_ms_p95 3 > 2 (cpu)",
        "params 20,000 > 10,000",
        "not exportable: outputs differ",
    )
    on_gpu = record.checked(Constraints(max_latency_ms_p95=5.0, target="cuda"))
    assert on_gpu.broken == ("latency on cuda: not measured (no cuda here)",)
    assert checked.to_tags()["deploy_feasible"] == "false"
    assert checked.to_metrics()["deploy_latency_ms_p95_cpu"] == 3.0


def test_final_models_are_rebuilt_from_their_checkpoints(tmp_path: Path) -> None:
    space_path = REPO / "search_spaces" / "mlp.py"
    space = load_search_space(space_path)
    model = space.build(dict(space.baseline), get_task("wine").info)
    (tmp_path / "good").mkdir()
    torch.save(model.state_dict(), tmp_path / "good" / "model.pt")
    models = [
        FinalModel(
            "baseline/seed=0", str(space_path), dict(space.baseline), 0, str(tmp_path / "good")
        ),
        FinalModel("tpe/seed=0", str(space_path), dict(space.baseline), 0, str(tmp_path / "gone")),
    ]
    settings = DeploySettings(
        task="wine",
        cache_dir=str(tmp_path / "cache"),
        batch_size=16,
        threads=1,
        constraints=Constraints(max_params=1_000),
        onnx=False,
        cuda=False,
        seconds=0.05,
    )
    out = measure_final_models(models, settings)
    good = out["baseline/seed=0"]
    assert isinstance(good, DeployRecord)
    assert good.params == sum(p.numel() for p in model.parameters())
    assert not good.feasible and good.broken[0].startswith("params ")
    assert good.onnx == "not asked" and good.cpu is not None and good.cpu.batch_size == 16
    assert isinstance(out["tpe/seed=0"], str) and "model.pt" in out["tpe/seed=0"]


def test_measure_gives_the_whole_record_on_cpu() -> None:
    space = load_search_space(REPO / "search_spaces" / "cnn1d.py")
    model = space.build(dict(space.baseline), get_task("mnist1d").info)
    record = measure(
        model, torch.randn(100, 40), batch_size=32, threads=1, seconds=0.05, onnx=False
    )
    assert record.params == 5_210 and record.flops > 0 and record.size_mb > 0
    assert record.exportable and record.cpu is not None and record.cuda is None
    assert record.to_dict()["cpu"]["batch_size"] == 32


def test_without_the_onnx_extra_the_record_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    model = nn.Linear(40, 10)
    assert onnx_round_trip(model, torch.randn(1, 40)) == "not installed"
    record = measure(model, torch.randn(8, 40), batch_size=4, threads=1, seconds=0.01)
    assert record.onnx == "not installed"
    assert (
        measure(model, torch.randn(8, 40), batch_size=4, threads=1, seconds=0.01, onnx=False).onnx
        == "not asked"
    )
