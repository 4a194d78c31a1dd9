"""What automl-bench's machinery costs on top of plain PyTorch, measured in one run.

Default mode: N fixed trainings of search_spaces/cnn1d.py's baseline on MNIST-1D (seeds 0..N-1,
train + validation, tested once), twice, at the same parallelism (2 processes, 1 thread each):

- bare: a ProcessPoolExecutor (spawn) calling ``automl_bench.train.train`` directly;
- automl-bench: ``prepare`` + ``run_experiment`` on a ``methods: [baseline]`` config, so every
  training runs through the real Ray Tune runner, an MLflow SQLite store and a CodeCarbon tracker.

It prints trials_wall_s / bare (target: <= 1.05 for ~10 s trials) and wall_s / bare (the whole
run: Ray start-up, MLflow store creation), the test accuracies of both sides (same seeds, same
code: they should be close) and the peak resident memory, summed over this process and all its
descendants (Ray's raylet, GCS and workers), sampled every 0.2 s. Shared pages count once per
process, so the peak is an upper bound.

``--quickstart`` runs configs/quickstart.yaml instead (target: under 90 s and under 4 GB).
Usage: python benchmarks/overhead.py [--seeds 4] [--epochs 120] [--order bare-first|automl-first]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import yaml
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
SPACE = ROOT / "search_spaces" / "cnn1d.py"
QUICKSTART = ROOT / "configs" / "quickstart.yaml"
TASK = "mnist1d"
WORKERS = 2


class PeakRss:
    """Peak of the summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        total, count = 0, 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
                count += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass  # ended between listing and reading
        if total > self.peak_bytes:
            self.peak_bytes, self.peak_processes = total, count

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 1024**2


def _bare_trial(seed: int, epochs: int, cache_dir: str) -> tuple[float, float, float]:
    """One final training as a trial runs it, minus Ray, MLflow and CodeCarbon.

    Returns (test accuracy, wall s, CPU s), timed over what a trial's cost meter times.
    """
    import torch

    from automl_bench.seeding import init_seed
    from automl_bench.space import load_search_space
    from automl_bench.tasks import load_task
    from automl_bench.train import TrainSettings, evaluate, train

    torch.set_num_threads(1)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    space = load_search_space(SPACE)
    data = load_task(TASK, seed, Path(cache_dir))
    init = init_seed(seed, "final")
    torch.manual_seed(init)
    model = space.build(dict(space.baseline), data.info)
    x, y = torch.cat([data.x_train, data.x_val]), torch.cat([data.y_train, data.y_val])
    train(model, x, y, None, None, TrainSettings.from_config(space.baseline, epochs), init)
    accuracy = evaluate(model, data.x_test, data.y_test)[1]
    return accuracy, time.perf_counter() - wall0, time.process_time() - cpu0


def run_bare(seeds: list[int], epochs: int, cache_dir: Path) -> dict[str, Any]:
    """Wall-clock from pool start to last result, per-trial results, peak RSS."""
    with PeakRss() as rss:
        started = time.perf_counter()
        with ProcessPoolExecutor(WORKERS, mp_context=mp.get_context("spawn")) as pool:
            n = len(seeds)
            trials = list(pool.map(_bare_trial, seeds, [epochs] * n, [str(cache_dir)] * n))
        wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "accuracies": [t[0] for t in trials],
        "trial_wall_s": sum(t[1] for t in trials),
        "trial_cpu_s": sum(t[2] for t in trials),
        "peak_mb": rss.peak_mb,
    }


def run_automl(config_path: Path, overrides: list[str]) -> tuple[dict[str, Any], float, PeakRss]:
    """(summary, wall-clock of prepare + run_experiment, the RSS sampler)."""
    from automl_bench.experiment import prepare, run_experiment

    with PeakRss() as rss:
        started = time.perf_counter()
        summary = run_experiment(
            prepare(config_path, overrides), live=False, console=Console(stderr=True)
        )
        outer = time.perf_counter() - started
    return summary, outer, rss


def write_config(tmp: Path, seeds: list[int], epochs: int) -> Path:
    config = {
        "experiment": "overhead",
        "task": TASK,
        "space": str(SPACE),
        "methods": ["baseline"],
        "seeds": seeds,
        "budget": {"epochs": epochs},
        "resources": {"cpus_per_trial": 1},
        "energy": {"country_iso_code": "FRA"},
        "output_dir": str(tmp / "runs"),
    }
    path = tmp / "overhead.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def accuracies(summary: dict[str, Any]) -> list[float]:
    studies = sorted(summary["methods"]["baseline"]["studies"], key=lambda s: s["seed"])
    return [float("nan") if s["test_metric"] is None else s["test_metric"] for s in studies]


def _fmt(accs: list[float]) -> str:
    mean = sum(accs) / len(accs)
    return f"mean {100 * mean:.2f}%  [{', '.join(f'{100 * a:.1f}' for a in accs)}]"


def overhead(n: int, epochs: int, order: str) -> None:
    from automl_bench.tasks import get_task

    seeds = list(range(n))
    with tempfile.TemporaryDirectory(prefix="automl-bench-overhead-") as name:
        config = write_config(Path(name), seeds, epochs)
        cache = Path(name) / "runs" / "cache"  # the cache run_experiment uses: both sides share it
        get_task(TASK).arrays(cache)
        bare = run_bare(seeds, epochs, cache) if order == "bare-first" else None
        summary, outer, rss = run_automl(config, [])
        bare = bare or run_bare(seeds, epochs, cache)
    trials_wall, wall = summary["trials_wall_s"], summary["wall_s"]
    final = summary["methods"]["baseline"]["cost"]["final"]  # summed over the N trials
    print(f"N = {n} trials, {epochs} epochs each, {WORKERS} processes x 1 thread, order {order}")
    print(f"bare PyTorch:  wall {bare['wall_s']:.2f} s   peak RSS {bare['peak_mb']:.0f} MB")
    print(
        f"automl-bench:  trials_wall_s {trials_wall:.2f} s   wall_s {wall:.2f} s   prepare+run "
        f"{outer:.2f} s   peak RSS {rss.peak_mb:.0f} MB ({rss.peak_processes} processes)"
    )
    print(f"trials_wall_s / bare = {trials_wall / bare['wall_s']:.3f}   (target <= 1.05)")
    print(f"wall_s / bare        = {wall / bare['wall_s']:.3f}")
    print(
        f"inside trials, summed: wall {bare['trial_wall_s']:.2f} s bare vs {final['wall_s']:.2f} s"
        f" automl-bench ({final['wall_s'] / bare['trial_wall_s']:.3f}); CPU "
        f"{bare['trial_cpu_s']:.2f} s vs {final['cpu_s']:.2f} s "
        f"({final['cpu_s'] / bare['trial_cpu_s']:.3f})"
    )
    print(f"test accuracy bare:         {_fmt(bare['accuracies'])}")
    print(f"test accuracy automl-bench: {_fmt(accuracies(summary))}")


def quickstart() -> None:
    os.chdir(ROOT)  # the quickstart names its spaces relative to the repository root
    with tempfile.TemporaryDirectory(prefix="automl-bench-quickstart-") as name:
        summary, outer, rss = run_automl(QUICKSTART, [f"output_dir={name}/runs"])
    print(
        f"quickstart: wall_s {summary['wall_s']:.2f} s   trials_wall_s "
        f"{summary['trials_wall_s']:.2f} s   prepare+run {outer:.2f} s   (target < 90 s)"
    )
    print(
        f"quickstart peak RSS {rss.peak_mb:.0f} MB over {rss.peak_processes} processes "
        f"(target < 4096 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", "-n", type=int, default=4, help="N fixed trials (seeds 0..N-1)")
    parser.add_argument("--epochs", type=int, default=120, help="per trial; 120 is ~10 s on CPU")
    parser.add_argument("--order", choices=["bare-first", "automl-first"], default="bare-first")
    parser.add_argument(
        "--quickstart",
        action="store_true",
        help="run configs/quickstart.yaml instead: wall-clock and peak RSS",
    )
    args = parser.parse_args()
    if args.seeds < 1 or args.epochs < 1:
        parser.error(f"--seeds >= 1 and --epochs >= 1 must hold, got {args.seeds}, {args.epochs}")
    if args.quickstart:
        quickstart()
    else:
        overhead(args.seeds, args.epochs, args.order)


if __name__ == "__main__":
    main()
