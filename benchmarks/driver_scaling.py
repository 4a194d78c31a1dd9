"""Does the driver's cost per trial stay flat as trials accumulate? Measured in one run.

automl-bench runs random search on wine (search_spaces/mlp.py, 1 epoch: hundredths of a second of
training a trial, so the driver's own work is what is timed), 2 trials at a time, on the real
stack (a local Ray, MLflow on SQLite, a CodeCarbon node meter), in this process. It prints:

- trials per second for each block of ``--block`` search trials, from the MLflow runs' end times;
- the last block's throughput against the first's (target at 10,000 trials: >= 0.8x);
- the driver's peak resident memory (this process: target <= 1.5 GB at 10,000 trials);
- seconds per trial over the first ``--raw`` trials against Ray Tune with Optuna's random sampler
  (``OptunaSearch``) used raw on the same trials: the same space, the same training, no metering,
  no MLflow, no ledger (goal: at most 2x).

    python benchmarks/driver_scaling.py                    # 10,000 trials (the issue's target)
    python benchmarks/driver_scaling.py --trials 1000 --block 250
    python benchmarks/driver_scaling.py --smoke            # 20 trials: checks that it runs
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
SPACE = ROOT / "search_spaces" / "mlp.py"
TASK = "wine"
CONCURRENCY = 2


def _config(trials: int, out: Path) -> dict[str, Any]:
    return {
        "experiment": "driver_scaling",
        "task": TASK,
        "space": str(SPACE),
        "methods": ["baseline", "random"],
        "seeds": [0],
        "budget": {"trials": trials, "epochs": 1},
        "resources": {"cpus_per_trial": 1, "max_concurrent_trials": CONCURRENCY},
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }


def run_ours(trials: int, out: Path) -> tuple[list[float], float, float]:
    """(the search trials' end times in s, sorted; the first search trial's start; the driver's
    peak RSS in MB after the run)."""
    from automl_bench.experiment import prepare, run_experiment

    os.environ.pop("RAY_ADDRESS", None)  # a local Ray of its own
    path = out / "driver_scaling.yaml"
    path.write_text(yaml.safe_dump(_config(trials, out)))
    run_experiment(prepare(path), console=Console(quiet=True), live=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    with sqlite3.connect(out / "mlflow.db") as db:
        rows = db.execute(
            "SELECT r.start_time, r.end_time FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid"
            " WHERE t.key = 'phase' AND t.value = 'search' AND r.end_time IS NOT NULL"
        ).fetchall()
    first_start = min(start for start, _ in rows) / 1000
    return sorted(end / 1000 for _, end in rows), first_start, peak_mb


def block_rates(ends: list[float], first_start: float, block: int) -> list[float]:
    """Trials per second in each whole block of ``block`` trials (ended in that order)."""
    rates, previous = [], first_start
    for stop in range(block, len(ends) + 1, block):
        rates.append(block / max(1e-9, ends[stop - 1] - previous))
        previous = ends[stop - 1]
    return rates


_LOADED: dict[str, tuple[Any, Any]] = {}  # per worker process, as a reused worker keeps them


def _space_and_data(cache: str) -> tuple[Any, Any]:
    """The space and the task's data, loaded once per worker process."""
    from automl_bench.space import load_search_space
    from automl_bench.tasks import load_task

    if cache not in _LOADED:
        _LOADED[cache] = load_search_space(SPACE), load_task(TASK, 0, Path(cache))
    return _LOADED[cache]


def _raw_trial(config: dict[str, Any]) -> None:
    """The training a search trial does, and nothing else."""
    import torch
    from ray import tune

    from automl_bench.train import TrainSettings, train

    torch.set_num_threads(1)
    space, data = _space_and_data(config.pop("cache"))
    torch.manual_seed(0)
    model = space.build(config, data.info)
    history = train(
        model,
        data.x_train,
        data.y_train,
        data.x_val,
        data.y_val,
        TrainSettings.from_config(config, 1),
        0,
    )
    tune.report({"val": float(history[-1].val_value or 0.0)})


def run_raw(trials: int, out: Path) -> float:
    """Seconds per trial of Ray Tune + OptunaSearch (random sampler) on the same trials, from
    the first trial's start to the last one's end (as ours is timed)."""
    import optuna
    import ray
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    class Times(tune.Callback):
        def __init__(self) -> None:
            self.first_start: float | None = None
            self.last_end = 0.0

        def on_trial_start(
            self, iteration: int, trials: list[Any], trial: Any, **info: Any
        ) -> None:
            self.first_start = self.first_start or time.monotonic()

        def on_trial_complete(
            self, iteration: int, trials: list[Any], trial: Any, **info: Any
        ) -> None:
            self.last_end = time.monotonic()

    from automl_bench.space import load_search_space

    space = load_search_space(SPACE)
    searcher = OptunaSearch(
        space=space.space, sampler=optuna.samplers.RandomSampler(seed=0), metric="val", mode="max"
    )
    times = Times()
    # Tune's result files are off (automl_bench.runner sets that when imported): say nothing of them
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    ray.init(
        address="local",
        num_cpus=CONCURRENCY,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
    )
    try:
        tuner = tune.Tuner(
            tune.with_resources(_raw_trial, {"cpu": 1}),
            param_space={"cache": str(out / "cache")},
            tune_config=tune.TuneConfig(
                search_alg=searcher,
                num_samples=trials,
                max_concurrent_trials=CONCURRENCY,
                reuse_actors=True,
            ),
            run_config=tune.RunConfig(storage_path=str(out / "raw"), verbose=0, callbacks=[times]),
        )
        tuner.fit()
        return (times.last_end - (times.first_start or 0.0)) / trials
    finally:
        ray.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--block", type=int, default=1_000)
    parser.add_argument("--raw", type=int, default=500, help="trials of the raw Tune run")
    parser.add_argument("--smoke", action="store_true", help="20 trials in blocks of 10")
    args = parser.parse_args(argv)
    if args.smoke:
        args.trials, args.block, args.raw = 20, 10, 10
    out = Path(tempfile.mkdtemp(prefix="driver_scaling-"))
    print(f"{args.trials} trials, random search on {TASK}, {CONCURRENCY} at a time; output {out}")
    started = time.monotonic()
    ends, first_start, peak_mb = run_ours(args.trials, out)
    wall = time.monotonic() - started
    rates = block_rates(ends, first_start, args.block)
    for i, rate in enumerate(rates):
        print(f"trials {i * args.block + 1}-{(i + 1) * args.block}: {rate:.2f} trials/s")
    print(f"last block / first block throughput: {rates[-1] / rates[0]:.2f}x (target >= 0.8x)")
    print(f"driver peak memory: {peak_mb:.0f} MB (target <= 1,500 MB); whole run {wall:.0f} s")
    raw = run_raw(args.raw, out)
    ours = (ends[args.raw - 1] - first_start) / args.raw
    print(
        f"s per trial over the first {args.raw}: ours {ours:.3f}, raw Tune + OptunaSearch "
        f"{raw:.3f}, ratio {ours / raw:.2f}x (goal <= 2x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
