"""Joining an existing Ray cluster (``--ray-address``) instead of starting a local Ray."""

from __future__ import annotations

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

import pytest

RunCli = Callable[..., "subprocess.CompletedProcess[str]"]
SmallConfig = Callable[[str, Path], dict[str, Any]]

pytestmark = pytest.mark.slow


@pytest.fixture()
def ray_head(free_port: Callable[[], int], tmp_path: Path) -> Iterator[str]:
    """A Ray head of this test's own, stopped alone afterwards.

    ``ray start --block`` stays in the foreground and takes its processes down when signalled;
    ``ray stop`` would stop every Ray on the machine, other people's runs included.
    """
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    assert ray is not None
    port = free_port()
    # Ray 2.5x turns token authentication on for new clusters: the head writes a token file,
    # and a driver joining it names the mode (a user's cluster: RAY_AUTH_TOKEN or that file).
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token"}
    temp_dir = Path(tempfile.mkdtemp(prefix="ray-head-"))  # short: Ray's socket paths are bounded
    head = subprocess.Popen(
        [
            ray,
            "start",
            "--head",
            "--block",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp_dir}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert head.poll() is None, "ray start --head exited"
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)
        head.wait(timeout=120)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_run_joins_the_given_cluster(
    ray_head: str, tmp_path: Path, run_cli: RunCli, small_config: SmallConfig
) -> None:
    out = tmp_path / "runs"
    run_cli(
        small_config("cluster", out),
        tmp_path,
        "--ray-address",
        ray_head,
        env={"RAY_AUTH_MODE": "token"},
    )
    summary = json.loads((out / "cluster" / "summary.json").read_text())
    assert summary["cluster"] == {"address": ray_head, "cpus": 2.0, "gpus": 0.0}
    assert summary["methods"]["random"]["studies"][0]["trials"] == 2
    assert summary["methods"]["baseline"]["test_metric"]["n"] == 1
