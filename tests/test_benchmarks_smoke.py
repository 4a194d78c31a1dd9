"""Every benchmark in benchmarks/ runs in its smoke mode (a tiny size: seconds of work), in a
process of its own, exits 0 and prints the line that carries its figure, so that a renamed
field, option or function breaks this test instead of the next reader's run. The figures of a
smoke run mean nothing. Those that start Ray, MLflow or CodeCarbon, or train, are marked slow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo_paths import REPO

slow = pytest.mark.slow

# (the command after the interpreter, from the repository root; the line its figure is on)
SMOKES = [
    pytest.param(
        ["benchmarks/meta_speed.py", "--smoke"],
        "ratio second/first-order time per iteration: ",
        id="meta_speed",
        marks=slow,  # 4 s of CPU, kept out of the fast loop
    ),
    pytest.param(
        ["benchmarks/darts_speed.py", "--smoke"],
        "ratio second/first-order time per epoch: ",
        id="darts_speed",
        marks=slow,  # seconds of training, kept out of the fast loop
    ),
    pytest.param(
        ["benchmarks/inference_window.py", "--smoke"],
        "ratio inference wall / seconds given: ",
        id="inference_window",
        marks=slow,  # seconds of training, kept out of the fast loop
    ),
    pytest.param(
        ["benchmarks/latency_order.py", "--smoke"],
        "ratio large/small p50 latency: ",
        id="latency_order",
    ),
    pytest.param(
        ["benchmarks/table_load.py", "--smoke"],
        "load+transform: ours ",
        id="table_load",  # 20,000 rows: seconds
    ),
    pytest.param(
        ["benchmarks/metering.py", "--smoke"],
        "a trial's metering overhead (its own calls), %",
        id="metering",
        marks=slow,
    ),
    pytest.param(
        ["benchmarks/overhead.py", "--smoke"], "trials_wall_s / bare = ", id="overhead", marks=slow
    ),
    pytest.param(
        ["benchmarks/scaling.py", "--smoke"], "| 1 | ", id="scaling", marks=slow
    ),
    pytest.param(
        ["benchmarks/search_efficiency.py", "--smoke"],
        "Expectation (REA and TPE reach random search's final accuracy",
        id="search_efficiency",
        marks=slow,
    ),
    pytest.param(
        ["benchmarks/warmstart.py", "--smoke"],
        "| warm / cold (geometric mean) | ",
        id="warmstart",
        marks=slow,
    ),
    pytest.param(
        ["benchmarks/verdict_stability.py", "--smoke"],
        "stability: both decided: ",
        id="verdict_stability",
        marks=slow,
    ),
]


def _run(command: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    drop = ("RAY_ADDRESS", "MLFLOW_TRACKING_URI", "OUT")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, env=env
    )


@pytest.mark.parametrize(("args", "figure"), SMOKES)
def test_each_benchmark_runs_its_smoke_mode(args: list[str], figure: str, tmp_path: Path) -> None:
    proc = _run([sys.executable, *args], tmp_path)
    shown = f"rc={proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, shown
    assert any(line.startswith(figure) for line in proc.stdout.splitlines()), shown


def test_every_benchmark_has_a_smoke_test() -> None:
    # gpu_acceptance.py runs through gpu_acceptance.sh, below, and runs gpu_energy.py and
    # trainer_speed.py in their smoke modes; cifar_layout.py writes data: test_nb201_config.py
    elsewhere = {
        "gpu_acceptance.sh",
        "gpu_acceptance.py",
        "gpu_energy.py",
        "trainer_speed.py",
        "cifar_layout.py",
    }
    smoked = {Path(p.values[0][0]).name for p in SMOKES} | elsewhere  # type: ignore[index]
    on_disk = {p.name for p in (REPO / "benchmarks").iterdir() if p.suffix in {".py", ".sh"}}
    assert on_disk == smoked


@slow  # Ray, MLflow and CodeCarbon, through four small runs
@pytest.mark.timeout(900)
def test_the_gpu_acceptance_script_runs_on_the_cpu(tmp_path: Path) -> None:
    proc = _run(["bash", "benchmarks/gpu_acceptance.sh", "--smoke-on-cpu"], tmp_path)
    shown = f"rc={proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, shown  # every step finished
    table = proc.stdout[proc.stdout.index("\nfigure ") :]
    for line in (
        "GPU energy: CodeCarbon J / NVML counter J",
        "/GPU: throughput vs 1 at a time",
        "per-trial fixed overhead, reused worker (median s)",
        "trainer vs plain DataLoader fp32 (images/s)",
        "methods: trials run, failed",
        "DARTS s per epoch, 2nd / 1st order",
        "deploy p95 ms at batch 1, GPU / CPU (baseline cell)",
        "OOM: the failing trial recorded failed, with",
        "OOM: the next trial on its worker",
        "packed 4/GPU: (phases + idle) / node energy",
        "A/A: final_energy_kwh, defaults / baseline",
    ):
        assert line in table, shown
    assert "did not finish" not in table, shown
