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
from typing import Any

import pytest

RunCli = Callable[..., "subprocess.CompletedProcess[str]"]
SmallConfig = Callable[[str, Path], dict[str, Any]]

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
    mlflow_server: str, tmp_path: Path, run_cli: RunCli, small_config: SmallConfig
) -> None:
    from mlflow.tracking import MlflowClient

    out = tmp_path / "runs"
    run_cli(small_config("on-server", out), tmp_path, "--tracking-uri", mlflow_server)
    assert not (out / "mlflow.db").exists()  # nothing went to the local default store
    summary = json.loads((out / "on-server" / "summary.json").read_text())
    assert summary["tracking_uri"] == mlflow_server
    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("on-server")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parents = [
        r
        for r in runs
        if "mlflow.parentRunId" not in r.data.tags and r.data.tags.get("level") != "experiment"
    ]
    # two studies, their trials (2 search + 1 final, 1 final), and the experiment's totals run
    assert len(parents) == 2 and len(runs) == 2 + (2 + 1) + 1 + 1
    for parent in parents:
        assert parent.info.status == "FINISHED"
        assert "config.json" in [a.path for a in client.list_artifacts(parent.info.run_id)]
