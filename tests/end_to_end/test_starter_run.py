"""``automl-bench init``'s starter runs as written, from an empty folder outside the project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow  # Ray, MLflow and CodeCarbon: about 100 s on 2 cores
def test_the_starter_runs_as_written_from_an_empty_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "automl_bench.cli", *args]
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    cli("init", "starter")
    cli("run", "starter/experiment.yaml", "--no-live")  # exit code 0: no trial failed
    out = tmp_path / "runs" / "starter"
    assert (out / "summary.json").is_file() and (out / "report.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "starter"]  # nothing else here
