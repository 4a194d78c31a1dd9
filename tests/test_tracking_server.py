"""``--tracking-uri`` against a real MLflow tracking server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


@pytest.fixture()
def mlflow_server(tmp_path: Path, free_port: Callable[[], int]) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, "mlflow server exited"
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_runs_are_recorded_on_the_server(
    mlflow_server: str, tmp_path: Path, repo_root: Path
) -> None:
    from mlflow.tracking import MlflowClient

    out = tmp_path / "runs"
    config = {
        "experiment": "on-server",
        "task": "wine",
        "space": "search_spaces/mlp.py",
        "methods": ["baseline", "random"],
        "seeds": [0],
        "budget": {"trials": 2, "epochs": 2},
        "output_dir": str(out),
    }
    path = tmp_path / "server.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "automl_bench.cli",
            "run",
            str(path),
            "--no-live",
            "--tracking-uri",
            mlflow_server,
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not (out / "mlflow.db").exists()  # nothing went to the local default store
    summary = json.loads((out / "on-server" / "summary.json").read_text())
    assert summary["tracking_uri"] == mlflow_server
    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("on-server")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 2 and len(runs) == 2 + (2 + 1) + 1
    for parent in parents:
        assert parent.info.status == "FINISHED"
        assert "config.json" in [a.path for a in client.list_artifacts(parent.info.run_id)]
