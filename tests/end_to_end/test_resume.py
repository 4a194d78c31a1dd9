"""``automl-bench run CONFIG --resume`` after the driver was killed with SIGKILL mid-study.

The real stack throughout: the CLI in its own process on a local Ray, MLflow on SQLite, CodeCarbon.
The driver is killed once some trials have finished and another is running; the resumed run must
keep every finished trial as it was (same MLflow run, not run again), mark the runs the kill cut
short as killed, and end with exactly the trials the config asked for.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo_paths import REPO

from automl_bench.experiment import prepare
from automl_bench.resume import RunState, state_path, write_state

TRIALS = 6


def _config(out: Path) -> dict[str, Any]:
    return {
        "experiment": "resumed",
        "task": "wine",
        "space": "search_spaces/mlp.py",
        "methods": ["baseline", "tpe"],
        "seeds": [0],
        # trials of a few seconds each, two at a time: the kill finds some ended, some running
        "budget": {"trials": TRIALS, "epochs": 150},
        "resources": {"max_concurrent_trials": 2},
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }


def _trial_runs(db: Path) -> list[dict[str, Any]]:
    """Every trial run in the store: its trial id, run id, status and tags."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            rows = con.execute(
                "SELECT r.run_uuid, r.status, t.key, t.value FROM runs r "
                "JOIN tags t ON t.run_uuid = r.run_uuid"
            ).fetchall()
            metrics = con.execute(
                "SELECT run_uuid, key, value FROM latest_metrics WHERE key = 'val_accuracy'"
            ).fetchall()
    except sqlite3.OperationalError:  # the store is being created
        return []
    runs: dict[str, dict[str, Any]] = {}
    for run_id, status, key, value in rows:
        run = runs.setdefault(run_id, {"run_id": run_id, "status": status, "tags": {}})
        run["tags"][key] = value
    for run_id, _, value in metrics:
        if run_id in runs:
            runs[run_id]["val_accuracy"] = value
    return [r for r in runs.values() if "trial_id" in r["tags"]]


def _every_trial(runs: list[dict[str, Any]], output: str) -> str:
    """What a failing check shows: each trial run's study, phase, status and reason, and the
    resumed driver's last lines."""
    lines = sorted(
        f"{r['tags'].get('study')} {r['tags'].get('phase')} {r['tags'].get('trial_id')} "
        f"{r['status']} {r['tags'].get('trial_status', '')} {r['tags'].get('failure_reason', '')}"
        for r in runs
    )
    return "\n".join([*lines, output[-2000:]])


def _start(config: dict[str, Any], folder: Path, *args: str) -> subprocess.Popen[str]:
    path = folder / "resumed.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl_bench.cli", "run", str(path), "--no-live", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    _started.append(proc)
    return proc


_started: list[subprocess.Popen[str]] = []


@pytest.mark.slow
def test_a_killed_driver_resumes_without_losing_or_rerunning_a_finished_trial(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path / "runs")
    driver = _start(config, tmp_path)
    try:
        _kill_and_resume(driver, config, tmp_path)
    finally:  # a failing test leaves no driver behind
        for proc in _started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)


def _kill_and_resume(driver: subprocess.Popen[str], config: dict[str, Any], tmp_path: Path) -> None:
    out = Path(config["output_dir"])
    db = out / "mlflow.db"
    deadline = time.monotonic() + 300
    before: list[dict[str, Any]] = []
    while time.monotonic() < deadline and driver.poll() is None:
        before = _trial_runs(db)
        ended = [r for r in before if r["status"] == "FINISHED"]
        searching = [r for r in before if r["tags"].get("phase") == "search"]
        if len(ended) >= 3 and any(r["status"] == "RUNNING" for r in searching):
            break
        time.sleep(0.2)
    assert driver.poll() is None, f"the run ended before it could be killed: {driver.stdout}"
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=60)
    time.sleep(3)  # its local Ray goes down with it (Ray's processes share its fate)
    before = _trial_runs(db)  # as the killed driver left the store
    finished_before = {r["tags"]["trial_id"]: r for r in before if r["status"] == "FINISHED"}
    cut_short = {r["tags"]["trial_id"] for r in before if r["status"] == "RUNNING"}
    assert len(finished_before) >= 3 and cut_short
    exp_dir = out / "resumed"
    assert state_path(exp_dir).is_file() and not (exp_dir / "summary.json").exists()

    resumed = _start(config, tmp_path, "--resume")
    output, _ = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, output[-4000:]
    # trials run again report their first epochs again: no library warning says so
    warnings = [line for line in output.splitlines() if "Warning: " in line]
    assert not warnings and "already reported" not in output, warnings

    summary = json.loads((exp_dir / "summary.json").read_text())
    tpe = summary["methods"]["tpe"]["studies"][0]
    assert tpe["trials"] == TRIALS and tpe["failed"] == 0  # exactly what the config asked for
    assert tpe["test_metric"] is not None
    assert summary["methods"]["baseline"]["studies"][0]["test_metric"] is not None
    assert len(summary["resumed"]) == 1
    assert any("resumed 1 time" in w for w in summary["cost"]["warnings"])
    assert not state_path(exp_dir).exists()  # finished: nothing left to resume

    after = _trial_runs(db)
    ended_after: dict[str, list[dict[str, Any]]] = {}
    for run in after:
        if run["status"] in ("FINISHED", "FAILED"):
            ended_after.setdefault(run["tags"]["trial_id"], []).append(run)
    # each trial ended once; the ones finished before the kill are the same runs, unchanged
    assert all(len(runs) == 1 for runs in ended_after.values()), ended_after
    for trial_id, run in finished_before.items():
        (kept,) = ended_after[trial_id]
        assert kept["run_id"] == run["run_id"]
        assert kept.get("val_accuracy") == run.get("val_accuracy")
    search = [r[0] for r in ended_after.values() if r[0]["tags"]["phase"] == "search"]
    assert len([r for r in search if r["tags"]["study"] == "tpe/seed=0"]) == TRIALS
    finals = [r[0] for r in ended_after.values() if r[0]["tags"]["phase"] == "final"]
    assert sorted(r["tags"]["study"] for r in finals) == ["baseline/seed=0", "tpe/seed=0"]
    # what the kill cut short is marked killed, with why; nothing is left open
    killed = [r for r in after if r["tags"]["trial_id"] in cut_short and r["status"] == "KILLED"]
    assert killed and all(r["tags"]["trial_status"] == "interrupted" for r in killed)
    assert "the driver was killed" in killed[0]["tags"]["failure_reason"]
    assert not [r for r in after if r["status"] == "RUNNING"]
    lines = [json.loads(x) for x in (exp_dir / "trials.jsonl").read_text().splitlines()]
    tpe_search = [x for x in lines if x.get("phase") == "search" and x.get("method") == "tpe"]
    assert len({x["trial_id"] for x in tpe_search}) == len(tpe_search) == TRIALS


def test_resume_with_nothing_to_resume_is_refused(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    out = tmp_path / "runs"
    proc = run_cli(_config(out), tmp_path, "--resume", expect_rc=2)
    assert proc.stderr.startswith("automl-bench: error: --resume: no unfinished run")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()  # nothing written


def test_resume_with_another_config_is_refused(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    out = tmp_path / "runs"
    config = _config(out)
    path = tmp_path / "resumed.yaml"
    path.write_text(yaml.safe_dump(config))
    prepared = prepare(path)
    exp_dir = out / "resumed"
    exp_dir.mkdir(parents=True)
    parents = {s.key: f"run-{i}" for i, s in enumerate(prepared.studies)}
    write_state(
        exp_dir, RunState("t", "2026-01-01T00:00:00+00:00", prepared.config_text, parents, "")
    )
    config["budget"]["epochs"] = 20
    proc = run_cli(config, tmp_path, "--resume", expect_rc=2)
    assert proc.stderr.strip() == (
        "automl-bench: error: --resume: the config differs from the unfinished run's in budget: "
        "resume with the config it was started with, or run without --resume to start afresh"
    )
    assert sorted(p.name for p in out.iterdir()) == ["resumed"]  # nothing else written


def _plan_config(out: Path, repo_root: Path) -> dict[str, Any]:
    """Seeds added until decided; defaults (barely trained) is decided at the first look."""
    return {
        "experiment": "resumed",
        "task": "digits",
        "space": str(repo_root / "tests" / "fixtures" / "untrained_mlp.py"),
        "methods": ["baseline", "defaults", "random"],
        "seeds": {"first": 3, "max": 5},
        "budget": {"trials": 2, "epochs": 3},
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }


@pytest.mark.slow
@pytest.mark.timeout(600)  # two runs of the CLI, each with several looks
def test_a_sequence_of_looks_cut_short_is_carried_on(tmp_path: Path, repo_root: Path) -> None:
    """The driver is killed once the second look has started; --resume restores the first look
    (its trials given back, none run again) and the second, then goes on to the end."""
    config = _plan_config(tmp_path / "runs", repo_root)
    exp_dir = Path(config["output_dir"]) / "resumed"
    db = Path(config["output_dir"]) / "mlflow.db"
    driver = _start(config, tmp_path)
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline and driver.poll() is None:
            looks = (
                json.loads(state_path(exp_dir).read_text())["looks"]
                if state_path(exp_dir).is_file()
                else []
            )
            if len(looks) >= 2 and any(
                r["tags"].get("seed") == "3" for r in _trial_runs(db)
            ):  # a trial of the second look has started
                break
            time.sleep(0.2)
        assert driver.poll() is None, "the run ended before its second look could be cut short"
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=60)
        time.sleep(3)
        before = {r["tags"]["trial_id"]: r for r in _trial_runs(db) if r["status"] == "FINISHED"}
        resumed = _start(config, tmp_path, "--resume")
        output, _ = resumed.communicate(timeout=400)
        assert resumed.returncode == 0, output[-4000:]
    finally:
        for proc in _started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    summary = json.loads((exp_dir / "summary.json").read_text())
    looks = summary["looks"]["looks"]
    assert len(looks) >= 2 and looks[0]["seeds"] == [0, 1, 2] and looks[1]["seeds"] == [3]
    assert looks[0]["calls"]["defaults"] == "not worth it"
    assert len(summary["methods"]["defaults"]["studies"]) == 3  # decided: no seed added
    seeds = len(summary["methods"]["baseline"]["studies"])
    assert seeds == looks[-1]["seeds_so_far"]
    after = _trial_runs(db)
    ended: dict[str, list[dict[str, Any]]] = {}
    for run in after:
        if run["status"] in ("FINISHED", "FAILED"):
            ended.setdefault(run["tags"]["trial_id"], []).append(run)
    assert all(len(runs) == 1 for runs in ended.values()), ended  # no trial ran twice
    for trial_id, run in before.items():  # finished before the kill: kept as they were
        assert ended[trial_id][0]["run_id"] == run["run_id"]
    finals = sorted(
        r[0]["tags"]["study"] for r in ended.values() if r[0]["tags"]["phase"] == "final"
    )
    expected = [f"{m}/seed={s}" for m in ("baseline", "random") for s in range(seeds)]
    expected += [f"defaults/seed={s}" for s in range(3)]
    random_seeds = len(summary["methods"]["random"]["studies"])
    expected = [e for e in expected if not e.startswith("random") or int(e[-1]) < random_seeds]
    assert finals == sorted(expected), _every_trial(after, output)
    assert not [r for r in after if r["status"] == "RUNNING"]
    assert not state_path(exp_dir).exists()
