"""Costs that do not depend on run order (issue 14): a worker pays its one-time start-up before
its first window opens, so the same configuration costs the same first or last on its worker.

The proof is an A/A experiment on the real stack (Ray Tune, an MLflow SQLite store, a CodeCarbon
node meter, real training on MNIST-1D): ``defaults`` trains exactly the baseline's configuration
(tests/fixtures/cnn1d_aa.py), one trial at a time, right after the baseline at every seed.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from automl_bench import trial
from automl_bench.cost.prices import Prices
from automl_bench.cost.window import Unmetered
from automl_bench.trial import TrialContext, TrialJob, warm_up_worker

AA_SEEDS = list(range(8))  # the issue asks for at least 4; 8 keep one slow trial from deciding it
AA_EPOCHS = 8  # the measurement: cnn1d's baseline on MNIST-1D, 8 epochs
TOLERANCE = 0.10  # the A/A ratios must be 1.00 within +-10 %


def _geometric_mean_ratio(rows: list[dict[str, str]], column: str) -> float:
    by = {(r["method"], int(r["seed"])): float(r[column]) for r in rows}
    logs = [math.log(by["defaults", s] / by["baseline", s]) for s in AA_SEEDS]
    return math.exp(sum(logs) / len(logs))


@pytest.mark.slow
def test_an_identical_configuration_costs_the_same_after_the_baseline(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = tmp_path / "runs"
    config = {
        "experiment": "aa",
        "task": "mnist1d",
        "space": "tests/fixtures/cnn1d_aa.py",
        "methods": ["baseline", "defaults"],
        "seeds": AA_SEEDS,
        "budget": {"trials": 1, "epochs": AA_EPOCHS},
        "resources": {"max_concurrent_trials": 1},  # one at a time: defaults after baseline
        "cost": {"country_iso_code": "FRA"},
        "deploy": {"onnx": False},
        "output_dir": str(out),
    }
    run_cli(config, tmp_path)
    folder = out / "aa"
    # one at a time, the baseline first at every seed (so it is the worker's first trial)
    order = [json.loads(line) for line in (folder / "trials.jsonl").read_text().splitlines()]
    assert [t["method"] for t in order[:2]] == ["baseline", "defaults"]
    for a, b in itertools.pairwise(order):
        assert a["end"] <= b["start"]
    rows = list(csv.DictReader((folder / "results.csv").open()))
    energy = _geometric_mean_ratio(rows, "final_energy_kwh")
    wall = _geometric_mean_ratio(rows, "final_wall_s")
    verdict = json.loads((folder / "summary.json").read_text())["methods"]["defaults"]["verdict"]
    ratio = verdict["energy_ratio"]
    print(f"A/A: energy {energy:.3f}x, wall-clock {wall:.3f}x, verdict {ratio}")
    assert abs(energy - 1) <= TOLERANCE, (energy, rows)
    assert abs(wall - 1) <= TOLERANCE, (wall, rows)
    low, high = ratio["ci95"]
    assert low <= 1.0 <= high, ratio
    assert ratio["estimate"] == pytest.approx(energy)


# A fresh process trains one configuration twice, through run_trial, timing its windows: the
# first trial of a process is where its one-time start-up (importing torch, the first kernels,
# the first data load) used to land.
_TWICE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from automl_bench.cost.prices import Prices
    from automl_bench.cost.window import Unmetered
    from automl_bench.trial import TrialContext, TrialJob, run_trial
    import automl_bench.trial as trial
    repo, cache, warm = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
    if not warm:
        trial.warm_up_worker = lambda job, ctx: False
    space = str(repo / "tests" / "fixtures" / "cnn1d_aa.py")
    ctx = TrialContext(
        task="mnist1d", cache_dir=cache, spaces={"aa": space}, epochs=4, cpus_per_trial=1,
        gpus_per_trial=0, prices=Prices(4.0, 0.05, 0.2, 0.3, 1.0), inference_seconds=0.2,
    )
    from automl_bench.space import load_search_space
    baseline = load_search_space(space).baseline
    job = TrialJob("baseline/seed=0", "baseline", 0, "final", "aa", baseline)
    walls = []
    for _ in range(2):
        closing = {}
        run_trial(job, ctx, lambda m, d: closing.update(m) if "trial_status" in m else None,
                  Unmetered(1.0))
        assert closing["trial_status"] == "ok", closing
        walls.append(closing["wall_s"])
    print(json.dumps(walls))
    """
)


def _first_and_second(repo_root: Path, cache: Path, warm: bool) -> list[float]:
    proc = subprocess.run(
        [sys.executable, "-c", _TWICE, str(repo_root), str(cache), "1" if warm else "0"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=repo_root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    walls: list[float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return walls


@pytest.mark.slow  # two fresh processes, each importing torch (about 40 s on 2 cores)
def test_the_first_trial_of_a_process_costs_what_the_second_does(
    tmp_path: Path, repo_root: Path
) -> None:
    cache = tmp_path / "cache"  # MNIST-1D generated once, by the first process
    first, second = _first_and_second(repo_root, cache, warm=True)
    cold_first, cold_second = _first_and_second(repo_root, cache, warm=False)
    print(f"warmed up: {first:.2f} s, then {second:.2f} s")
    print(f"not warmed up: {cold_first:.2f} s, then {cold_second:.2f} s")
    # without the warm-up the first trial pays the process's start-up ...
    assert cold_first - cold_second > 0.3
    # ... with it, what the second one does (give or take the machine's noise)
    assert first - second < 0.5 * (cold_first - cold_second)


def _ctx(repo_root: Path, tmp_path: Path, task: str = "digits") -> TrialContext:
    return TrialContext(
        task=task,
        cache_dir=str(tmp_path / "cache"),
        spaces={"flaky_mlp": str(repo_root / "tests" / "fixtures" / "flaky_mlp.py")},
        epochs=1,
        cpus_per_trial=1,
        gpus_per_trial=0,
        prices=Prices(4.0, 0.05, 0.2, 0.3, 1.0),
    )


def test_a_worker_warms_up_once_per_task_and_space(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trial, "_warmed", set())
    config: dict[str, Any] = {"width": 16, "lr": 1e-3, "batch_size": 32, "fail": False}
    job = TrialJob("random/seed=0", "random", 0, "search", "flaky_mlp", config)
    ctx = _ctx(repo_root, tmp_path, task="wine")
    assert warm_up_worker(job, ctx) is True
    assert warm_up_worker(job, ctx) is False  # once per process
    assert warm_up_worker(job, _ctx(repo_root, tmp_path, task="breast_cancer")) is True


@pytest.mark.parametrize("fail", [True, "oom"])
def test_a_configuration_that_fails_warms_up_on_the_baseline_and_fails_in_its_window(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool | str
) -> None:
    # build raises, or the forward pass runs out of memory: the warm-up falls back to the
    # baseline's configuration and never raises; the trial itself fails, with its reason, in
    # its window
    monkeypatch.setattr(trial, "_warmed", set())
    steps: list[dict[str, Any]] = []
    real_steps = trial._warm_up_steps

    def steps_seen(space: Any, config: dict[str, Any], *args: Any) -> None:
        steps.append(config)
        real_steps(space, config, *args)

    monkeypatch.setattr(trial, "_warm_up_steps", steps_seen)
    job = TrialJob("random/seed=0", "random", 0, "search", "flaky_mlp", {"fail": fail})
    ctx = _ctx(repo_root, tmp_path)
    assert warm_up_worker(job, ctx) is True
    assert steps == [{"fail": fail}, {"width": 32, "lr": 1e-2, "batch_size": 32}]
    closing: dict[str, Any] = {}
    with pytest.raises((ValueError, torch.OutOfMemoryError)):
        trial.run_trial(job, ctx, lambda m, d: closing.update(m), Unmetered(1.0))
    assert closing["trial_status"] == "failed" and closing["wall_s"] > 0


def test_a_trial_steps_out_of_its_window_while_the_driver_takes_a_report() -> None:
    import time

    from automl_bench.cost.window import metered

    prices = Prices(4.0, 0.05, 0.2, 0.3, 1.0)
    with metered(Unmetered(2.0), prices) as m:
        time.sleep(0.1)
        with m.paused():  # waiting for the driver: not the trial's work
            time.sleep(0.3)
        time.sleep(0.1)
    assert 0.2 <= m.record.wall_s < 0.3
    assert m.record.core_s == pytest.approx(2 * m.record.wall_s)
    assert 0.3 <= m.paused_s < 0.4
    with m.paused():  # after the block: nothing to step out of
        pass
