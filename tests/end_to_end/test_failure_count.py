"""One failure count, and no library noise, on the real stack (Ray Tune, MLflow, CodeCarbon).

A run whose baseline breaks in training (and some of whose search trials do) says the same count
in the same words on stdout, on stderr, in summary.json, results.csv, the report and MLflow; a
run in which every trial of every study fails writes its report without a library warning on
stderr."""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from repo_paths import FIXTURES

from automl_bench.failures import FailureCount, method_failures, run_failures, total_failures

pytestmark = pytest.mark.slow

SEEDS = [0, 1]
TRIALS = 4


def _config(name: str, space: str, out: Path) -> dict[str, Any]:
    return {
        "experiment": name,
        "task": "wine",
        "space": str(FIXTURES / space),
        "methods": ["baseline", "random"],
        "seeds": SEEDS,
        "budget": {"trials": TRIALS, "epochs": 2},
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }


def _run(
    run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp: Path, name: str, space: str
) -> dict[str, Any]:
    out = tmp / "runs"
    proc = run_cli(_config(name, space, out), tmp, expect_rc=3)  # finished, some trials failed
    exp_dir = out / name
    summary = json.loads((exp_dir / "summary.json").read_text())
    return {"proc": proc, "out": out, "exp_dir": exp_dir, "summary": summary}


@pytest.fixture(scope="module")
def breaks(
    tmp_path_factory: pytest.TempPathFactory,
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> dict[str, Any]:
    """The baseline and the odd-width configurations break in training."""
    return _run(run_cli, tmp_path_factory.mktemp("breaks"), "breaks", "breaks_in_training.py")


def _library_warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "Warning: " in line]


def test_stdout_stderr_and_summary_say_one_count(breaks: dict[str, Any]) -> None:
    summary, proc = breaks["summary"], breaks["proc"]
    count = run_failures(summary)
    baseline = method_failures(summary["methods"]["baseline"])
    # the baseline's final trainings failed, both: counted, not 0 (0)
    assert baseline == FailureCount(search=0, search_failed=0, final=2, final_failed=2)
    for study in summary["methods"]["baseline"]["studies"]:
        assert (study["final_trainings"], study["final_failed"]) == (1, 1)
    random = method_failures(summary["methods"]["random"])
    assert random.search == len(SEEDS) * TRIALS and random.search_failed >= 1
    assert count == baseline + random
    stderr_line = proc.stderr.strip().splitlines()[-1]
    assert stderr_line.startswith(f"automl-bench: {count.words()}; "), stderr_line
    assert f"{count.words()}; " in proc.stdout  # the closing line of the table
    (row,) = [line for line in proc.stdout.splitlines() if line.startswith("│ baseline ")]
    assert "2 (2)" in [cell.strip() for cell in row.split("│")], row  # trials (failed)
    assert not _library_warnings(proc.stderr), proc.stderr


def test_results_report_and_mlflow_carry_the_same_count(breaks: dict[str, Any]) -> None:
    summary, exp_dir = breaks["summary"], breaks["exp_dir"]
    count = run_failures(summary)
    with (exp_dir / "results.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] in summary["methods"]]
    assert total_failures(rows) == count
    verdict = summary["methods"]["random"]["verdict"]
    assert verdict["failed_trials"]["n"] == method_failures(summary["methods"]["random"]).run
    report = (exp_dir / "report.md").read_text()
    assert f"{count.words().capitalize()}." in report
    baseline = [line for line in report.splitlines() if line.startswith("| baseline |")]
    assert any(line.endswith("| 2 of 2 |") for line in baseline), baseline  # failed trials
    # MLflow, on its own: the trial runs that ended FAILED, by phase
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{breaks['out'] / 'mlflow.db'}")
    found = client.get_experiment_by_name("breaks")
    assert found is not None
    runs = client.search_runs([found.experiment_id], max_results=1000)
    trials = [r for r in runs if "trial_id" in r.data.tags]
    failed = [r for r in trials if r.info.status == "FAILED"]
    by_phase = {p: [r for r in failed if r.data.tags["phase"] == p] for p in ("search", "final")}
    assert (len(by_phase["search"]), len(by_phase["final"])) == (
        count.search_failed,
        count.final_failed,
    )
    assert len(trials) == count.run


def test_a_run_where_every_trial_fails_says_so_without_library_warnings(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    run = _run(run_cli, tmp_path, "allbreak", "always_breaks_in_training.py")
    count = run_failures(run["summary"])
    searched = len(SEEDS) * TRIALS
    # no search trial finished, so no final training of random's ran
    assert count == FailureCount(searched, searched, len(SEEDS), len(SEEDS))
    assert count.words() == "10 of 10 trials failed (8 of 8 search trials, 2 of 2 final trainings)"
    assert f"automl-bench: {count.words()}; " in run["proc"].stderr
    assert (run["exp_dir"] / "report.html").is_file()  # its plots drawn with nothing to plot
    assert not _library_warnings(run["proc"].stderr), run["proc"].stderr
