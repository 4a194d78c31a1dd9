"""Metering never needs the network: a whole study run where there is none.

The run happens in a fresh network namespace (``unshare -rn``) whose only interface is loopback
(Ray's own processes talk over it): no route leaves the machine. The records must be complete all
the same: energy measured by CodeCarbon's offline tracker, carbon and prices from local tables.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

NO_NETWORK = (
    "unshare",
    "--user",
    "--map-root-user",
    "--net",
    "sh",
    "-c",
    # loopback up, then prove no route leaves the namespace, then the command
    'ip link set lo up && python3 -c "import socket; socket.create_connection('
    '(\'1.1.1.1\', 443), timeout=2)" 2>/dev/null && exit 99; exec "$@"',
    "sh",
)


def test_a_study_without_network_gets_complete_records(
    tmp_path: Path,
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
    small_config: Callable[[str, Path], dict[str, Any]],
) -> None:
    assert shutil.which("unshare") and shutil.which("ip"), "needs util-linux unshare and iproute2"
    out = tmp_path / "runs"
    config = {**small_config("netless", out), "cost": {"country_iso_code": "DEU"}}
    run_cli(config, tmp_path, prefix=NO_NETWORK)
    summary = json.loads((out / "netless" / "summary.json").read_text())
    for label, method in summary["methods"].items():
        for study in method["studies"]:
            assert study["test_metric"] is not None, label
            phases = ["final", "inference"] + (["search"] if label != "baseline" else [])
            for phase in phases:
                record = study[phase]
                assert record["energy_kwh"]["total"] > 0, (label, phase)
                assert record["co2_kg"] > 0 and record["usd"] > 0, (label, phase)
                assert record["measured"]["cpu"] != "none", (label, phase)
                assert record["carbon_intensity_kg_per_kwh"] > 0
    cost = summary["cost"]
    assert cost["prices"]["sources"]["electricity"].startswith("DEU: ")
    assert cost["attribution"]["ratio"] == pytest.approx(1.0, rel=0.05)
