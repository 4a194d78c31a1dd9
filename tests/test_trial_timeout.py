"""The hard end of a trial's time limit: a trial stuck where no epoch check reaches it (a sleep
in its space's ``build``) is killed after its limit and a grace period, recorded failed once with
the time it used, and the study goes on; the run ends with exit code 3."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from automl_bench.runner.watchdog import grace

pytestmark = pytest.mark.slow

LIMIT_S = 3.0


def test_a_hung_trial_is_killed_recorded_once_and_the_study_goes_on(
    tmp_path: Path, repo_root: Path, run_cli: Callable[..., Any]
) -> None:
    out = tmp_path / "runs"
    config = {
        "experiment": "hung",
        "task": "wine",
        "space": str(repo_root / "tests" / "fixtures" / "sleepy_mlp.py"),
        "methods": ["baseline", "random"],
        "seeds": [0],
        "budget": {"trials": 2, "epochs": 2, "trial_timeout_s": LIMIT_S},
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }
    # sleepy_mlp hangs one trial: it breaks the space contract on purpose
    proc = run_cli(config, tmp_path, "--no-space-checks", expect_rc=3)
    assert "1 of 4 trials failed" in proc.stderr
    summary = json.loads((out / "hung" / "summary.json").read_text())
    study = summary["methods"]["random"]["studies"][0]
    assert study["trials"] == 2 and study["failed"] == 1
    (failure,) = study["failures"]
    assert failure["reason"].startswith("TrialTimeout: killed after")
    assert study["test_metric"] is not None  # the other trial was chosen and retrained
    lines = [json.loads(x) for x in (out / "hung" / "trials.jsonl").read_text().splitlines()]
    search = [x for x in lines if x.get("phase") == "search"]
    assert len(search) == 2 and len({x["trial_id"] for x in search}) == 2
    hung = next(x for x in search if x["status"] == "failed")
    assert LIMIT_S + grace(LIMIT_S) <= hung["cost"]["wall_s"] < LIMIT_S + grace(LIMIT_S) + 30
