"""configs/nb201_cifar10.yaml, for users with CIFAR-10 on disk: it names every method the NB-201
comparison needs, and ``automl-bench validate`` accepts it, space checks included, against a
synthetic folder in CIFAR-10's layout (benchmarks/cifar_layout.py), from a folder outside the
repository. Without a folder there it is refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from repo_paths import REPO

CONFIG = REPO / "configs" / "nb201_cifar10.yaml"
METHODS = ["baseline", "random", "tpe", "rea", "asha", "bohb", "darts", "darts2", "naswot"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=180, env=env
    )


def test_it_names_every_method_of_the_nb201_comparison() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert config["methods"] == METHODS
    assert config["task"] == "cifar10" and config["space"] == "nb201"
    assert config["budget"] == {"trials": 20, "epochs": 12}  # NB-201's 12-epoch budget


def test_validate_accepts_it_on_a_folder_in_cifar10s_layout(tmp_path: Path) -> None:
    script = str(REPO / "benchmarks" / "cifar_layout.py")
    made = _run([script, "data", "--per-batch", "20"], tmp_path)
    assert made.returncode == 0, made.stderr
    folder = Path(made.stdout.strip())
    assert folder == tmp_path / "data" / "cifar-10-batches-py"
    assert (folder / "test_batch").is_file()
    proc = _run(
        ["-m", "automl_bench.cli", "validate", "nb201_cifar10", "--set", f"data_dir={folder}"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid; 27 studies" in proc.stdout
    assert "nb201.py: OK on cifar10" in proc.stdout
    assert not (tmp_path / "runs").exists()  # validate writes nothing


def test_without_the_folder_it_is_refused_in_one_line(tmp_path: Path) -> None:
    proc = _run(["-m", "automl_bench.cli", "validate", "nb201_cifar10"], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "data_dir" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
