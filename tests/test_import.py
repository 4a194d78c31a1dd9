from __future__ import annotations

import os
import subprocess
import sys


def test_importing_the_package_starts_nothing_heavy() -> None:
    code = (
        "import sys, automl_bench, automl_bench.config, automl_bench.experiment; "
        "print(sorted(m for m in ('ray', 'mlflow', 'codecarbon') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_stack_is_told_to_send_no_telemetry() -> None:
    code = (
        "import os, automl_bench.tracking, automl_bench.runner.cluster; "
        "print(os.environ['MLFLOW_DISABLE_TELEMETRY'], os.environ['DO_NOT_TRACK'], "
        "os.environ['RAY_USAGE_STATS_ENABLED'])"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "RAY_USAGE_STATS_ENABLED")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["true", "true", "0"]
