"""The end-to-end experiment that several test files read (run once per session, in conftest):
the CLI on the real stack (Ray Tune + OptunaSearch, an MLflow SQLite store, a CodeCarbon node
meter) training on scikit-learn's digits."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEEDS = [0, 1]
TRIALS = 2
EPOCHS = 3
METHODS = ["baseline", "defaults", "random", "tpe"]
MAX_PARAMS = 10_000

RunCli = Callable[..., "subprocess.CompletedProcess[str]"]


def run_e2e(tmp: Path, repo_root: Path, run_cli: RunCli) -> dict[str, Any]:
    out = tmp / "runs"
    config = {
        "experiment": "e2e",
        "task": "digits",
        "space": str(repo_root / "tests" / "fixtures" / "flaky_mlp.py"),
        "reference_spaces": ["search_spaces/mlp.py"],
        "methods": METHODS,
        "seeds": SEEDS,
        "budget": {"trials": TRIALS, "epochs": EPOCHS},
        "cost": {"country_iso_code": "FRA"},
        # the reference MLP (17,610 parameters on digits) breaks this; the searched ones do not
        "deploy": {"batch_size": 64, "onnx": False, "constraints": {"max_params": MAX_PARAMS}},
        "output_dir": str(out),
    }
    # flaky_mlp's odd trials fail (exit code 3): it breaks the space contract on purpose
    proc = run_cli(config, tmp, "--no-space-checks", expect_rc=3)
    summary = json.loads((out / "e2e" / "summary.json").read_text())
    return {"out": out, "stdout": proc.stdout, "stderr": proc.stderr, "summary": summary}
