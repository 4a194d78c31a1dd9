"""A worker node lost mid-study: a two-node Ray cluster on this machine (a head and a worker,
each with one CPU of its own), the worker killed (SIGKILL, its whole process group) while it runs
a trial; Tune runs that trial again on the head (FailureConfig) and the study completes: every
trial the config asked for finished once, none lost, none counted twice."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from repo_paths import REPO

pytestmark = pytest.mark.slow

TRIALS = 4


def _ray() -> str:
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    assert ray is not None
    return ray


def _env() -> dict[str, str]:
    return {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token"}


@pytest.fixture()
def two_nodes(free_port: Callable[[], int]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A head and a worker node, one CPU each."""
    port = free_port()
    temp_dir = Path(tempfile.mkdtemp(prefix="ray-lost-"))
    common = ["--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    head = subprocess.Popen(
        [_ray(), "start", "--head", f"--port={port}", "--include-dashboard=false",
         f"--temp-dir={temp_dir}", *common],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
    )  # fmt: skip
    worker: subprocess.Popen[bytes] | None = None
    try:
        _wait_port(port, head)
        worker = subprocess.Popen(
            [_ray(), "start", f"--address=127.0.0.1:{port}", *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
        )  # fmt: skip
        _wait_nodes(f"127.0.0.1:{port}", 2)
        yield f"127.0.0.1:{port}", worker
    finally:
        if worker is not None and worker.poll() is None:
            _kill_group(worker)
        head.send_signal(signal.SIGTERM)
        head.wait(timeout=120)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _wait_port(port: int, head: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert head.poll() is None, "ray start --head exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError("the head never listened")


def _wait_nodes(address: str, n: int) -> None:
    code = (
        "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
        "print(sum(1 for x in ray.nodes() if x['Alive']))"
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out = subprocess.run(
            [sys.executable, "-c", code, address], capture_output=True, text=True, env=_env()
        )
        if out.stdout.strip() == str(n):
            return
        time.sleep(1)
    raise AssertionError(f"{n} nodes never joined")


def _node(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The worker node's processes: its ``ray start``, its raylet and every worker it started."""
    try:
        root = psutil.Process(proc.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker node: its raylet and every process it started (no clean shutdown)."""
    for p in _node(proc):
        with contextlib.suppress(psutil.Error):
            p.kill()
    proc.wait(timeout=60)


def _trial_on(proc: subprocess.Popen[bytes]) -> bool:
    """Whether a Tune trial runs on the worker node."""
    for p in _node(proc):
        with contextlib.suppress(psutil.Error):
            if "ImplicitFunc" in " ".join(p.cmdline()):
                return True
    return False


def test_a_lost_worker_node_s_trial_runs_again_and_the_study_completes(
    two_nodes: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    address, worker = two_nodes
    out = tmp_path / "runs"
    config: dict[str, Any] = {
        "experiment": "lost",
        "task": "digits",
        "space": "search_spaces/mlp.py",
        "methods": ["baseline", "random"],
        "seeds": [0],
        "budget": {"trials": TRIALS, "epochs": 40},
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }
    path = tmp_path / "lost.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in _env().items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}
    driver = subprocess.Popen(
        [sys.executable, "-m", "automl_bench.cli", "run", str(path), "--no-live",
         "--ray-address", address],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not _trial_on(worker):
            assert driver.poll() is None, driver.communicate()
            assert time.monotonic() < deadline, "no trial ever ran on the worker node"
            time.sleep(0.2)
        time.sleep(1.0)  # mid-trial
        _kill_group(worker)
        stdout, stderr = driver.communicate(timeout=600)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, stdout[-3000:] + stderr[-3000:]
    summary = json.loads((out / "lost" / "summary.json").read_text())
    study = summary["methods"]["random"]["studies"][0]
    assert study["trials"] == TRIALS and study["failed"] == 0, study
    assert summary["methods"]["baseline"]["studies"][0]["test_metric"] is not None
    assert any("was lost" in w for w in summary["cost"]["warnings"]), summary["cost"]["warnings"]
    # trials.jsonl: each trial once (the lost attempt is not a second trial)
    lines = [json.loads(x) for x in (out / "lost" / "trials.jsonl").read_text().splitlines()]
    ids = [x["trial_id"] for x in lines if "trial_id" in x]
    assert len(ids) == len(set(ids)) == TRIALS + 2  # search trials + two final trainings
    # MLflow: the lost attempt's run is marked KILLED, the retry's FINISHED
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name("lost")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    killed = [r for r in runs if r.info.status == "KILLED"]
    assert killed and all(r.data.tags.get("trial_status") == "lost" for r in killed)
