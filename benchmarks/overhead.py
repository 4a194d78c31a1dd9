"""What automl-bench's machinery costs on top of plain PyTorch, measured in one run.

Default mode: N fixed trainings of search_spaces/cnn1d.py's baseline on MNIST-1D (seeds 0..N-1,
train + validation, tested once), twice, at the same parallelism (2 processes, 1 thread each):

- bare: a spawned ProcessPoolExecutor calling ``automl_bench.train.train`` directly; its wall-clock
  runs from the pool's start (process start-up and imports included) to the last result;
- automl-bench: ``prepare`` + ``run_experiment`` on a ``methods: [baseline]`` config, so every
  training runs through the real Ray Tune runner, an MLflow SQLite store and a CodeCarbon tracker.

It prints trials_wall_s / bare (target: <= 1.05 for ~10 s trials) and wall_s / bare (the whole
run, Ray start-up and MLflow store creation included), the same ratio per trial without any
start-up (a trial's metered ``wall_s`` against the same steps timed inside a bare worker), the
test accuracies of both sides (same seeds, same code: they should match), and, for each side,
the peak resident memory and the CPU seconds summed over this process and all its descendants
(Ray's raylet, GCS and workers),
sampled every 0.2 s. Shared pages count once per process, so the RSS peak is an upper bound; CPU
seconds move less than wall-clock when other work shares the machine.

``--quickstart`` runs configs/quickstart.yaml instead (target: under 90 s and under 4 GB).
``--smoke`` runs two trials of one epoch: seconds of training, to check that it runs.

    python benchmarks/overhead.py [-n 8] [--epochs 120] [--order bare-first]
    python benchmarks/overhead.py --smoke
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import threading
import time
from collections.abc import Sequence
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


class ProcessTree:
    """Samples this process and its descendants in a thread: peak summed RSS, total CPU seconds."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self.peak_mb, self.peak_processes = 0.0, 0
        self._cpu: dict[tuple[int, float], float] = {}  # (pid, create time) -> CPU s, last seen
        cpu = psutil.Process().cpu_times()
        self._cpu_before = float(cpu.user + cpu.system)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        rss, count = 0, 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    cpu = proc.cpu_times()
                    self._cpu[(proc.pid, proc.create_time())] = float(cpu.user + cpu.system)
                count += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass  # ended between listing and reading
        if rss / 1024**2 > self.peak_mb:
            self.peak_mb, self.peak_processes = rss / 1024**2, count

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> ProcessTree:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_s(self) -> float:
        """A lower bound: a process's last 0.2 s before it ends can be missed."""
        return sum(self._cpu.values()) - self._cpu_before


def _bare_trial(seed: int, epochs: int, cache_dir: str) -> tuple[float, float]:
    """One final training as a trial runs it, minus Ray, MLflow and CodeCarbon.

    Returns (test accuracy, seconds from loading the space to the test score), the span a
    trial's own ``wall_s`` covers.
    """
    import torch

    from automl_bench.seeding import init_seed
    from automl_bench.space import load_search_space
    from automl_bench.tasks import load_task
    from automl_bench.train import TrainSettings, evaluate, train

    torch.set_num_threads(1)
    started = time.perf_counter()
    space = load_search_space(SPACE)
    data = load_task(TASK, seed, Path(cache_dir))
    init = init_seed(seed, "final")
    torch.manual_seed(init)
    model = space.build(dict(space.baseline), data.info)
    x, y = torch.cat([data.x_train, data.x_val]), torch.cat([data.y_train, data.y_val])
    train(model, x, y, None, None, TrainSettings.from_config(space.baseline, epochs), init)
    accuracy = float(evaluate(model, data.x_test, data.y_test)[1])
    return accuracy, time.perf_counter() - started


def run_bare(
    seeds: list[int], epochs: int, cache_dir: Path
) -> tuple[float, list[tuple[float, float]], ProcessTree]:
    """(wall-clock from the pool's start to the last result, (accuracy, seconds) per trial,
    the sampler)."""
    n = len(seeds)
    with ProcessTree() as tree:
        started = time.perf_counter()
        with ProcessPoolExecutor(WORKERS, mp_context=mp.get_context("spawn")) as pool:
            trials = list(pool.map(_bare_trial, seeds, [epochs] * n, [str(cache_dir)] * n))
        wall = time.perf_counter() - started
    return wall, trials, tree


def run_automl(config: Path, overrides: list[str]) -> tuple[dict[str, Any], float, ProcessTree]:
    """(summary, wall-clock of prepare + run_experiment, the sampler)."""
    from automl_bench.experiment import prepare, run_experiment

    os.environ.pop("RAY_ADDRESS", None)  # a local Ray of its own
    with tempfile.TemporaryDirectory(prefix="ray", ignore_cleanup_errors=True) as ray_tmp:
        os.environ["RAY_TMPDIR"] = ray_tmp
        with ProcessTree() as tree:
            started = time.perf_counter()
            prepared = prepare(config, overrides)
            ran = run_experiment(prepared, live=False, console=Console(stderr=True))
            summary = ran.model_dump()  # as summary.json holds it
            outer = time.perf_counter() - started
    return summary, outer, tree


def write_config(tmp: Path, seeds: list[int], epochs: int) -> Path:
    config = {
        "experiment": "overhead",
        "task": TASK,
        "space": str(SPACE),
        "methods": ["baseline"],
        "seeds": seeds,
        "budget": {"epochs": epochs},
        "resources": {"cpus_per_trial": 1},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(tmp / "runs"),
    }
    path = tmp / "overhead.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _accs(accs: Sequence[float | None]) -> str:
    known = [a for a in accs if a is not None]
    mean = f"{100 * sum(known) / len(known):.2f}%" if known else "-"
    return f"mean {mean} [{', '.join('-' if a is None else f'{100 * a:.1f}' for a in accs)}]"


def overhead(n: int, epochs: int, order: str) -> None:
    from automl_bench.tasks import get_task

    seeds = list(range(n))
    with tempfile.TemporaryDirectory(prefix="automl-bench-overhead-") as name:
        config = write_config(Path(name), seeds, epochs)
        cache = Path(name) / "runs" / "cache"  # where run_experiment looks: both sides share it
        get_task(TASK).arrays(cache)  # generated once, before either side is timed
        bare = run_bare(seeds, epochs, cache) if order == "bare-first" else None
        summary, outer, tree = run_automl(config, [])
        bare_wall, bare_trials, bare_tree = bare or run_bare(seeds, epochs, cache)
    trials_wall, wall = summary["trials_wall_s"], summary["wall_s"]
    studies = sorted(summary["methods"]["baseline"]["studies"], key=lambda s: s["seed"])
    bare_trial_s = sum(t for _, t in bare_trials) / n
    automl_trial_s = sum(s["final"]["wall_s"] for s in studies) / n
    rows = [
        f"N = {n} trials x {epochs} epochs, {WORKERS} processes x 1 thread, {order}",
        f"bare PyTorch: wall {bare_wall:.2f} s",
        f"automl-bench: trials_wall_s {trials_wall:.2f} s, wall_s {wall:.2f} s "
        f"(prepare + run_experiment {outer:.2f} s)",
        f"trials_wall_s / bare = {trials_wall / bare_wall:.3f} (target <= 1.05)",
        f"wall_s / bare        = {wall / bare_wall:.3f}",
        f"per trial (no start-up): bare {bare_trial_s:.2f} s, automl-bench {automl_trial_s:.2f} s"
        f" (metered, reported, tracked): ratio {automl_trial_s / bare_trial_s:.3f}",
        f"CPU s, all processes: bare {bare_tree.cpu_s:.1f}, automl-bench {tree.cpu_s:.1f} "
        f"(ratio {tree.cpu_s / bare_tree.cpu_s:.3f})",
        f"peak RSS, all processes: bare {bare_tree.peak_mb:.0f} MB ({bare_tree.peak_processes} "
        f"processes), automl-bench {tree.peak_mb:.0f} MB ({tree.peak_processes} processes)",
        f"test accuracy, bare:         {_accs([a for a, _ in bare_trials])}",
        f"test accuracy, automl-bench: {_accs([s['test_metric'] for s in studies])}",
    ]
    print("\n".join(rows))


def quickstart() -> None:
    os.chdir(ROOT)  # the quickstart names its spaces relative to the repository root
    with tempfile.TemporaryDirectory(prefix="automl-bench-quickstart-") as name:
        summary, outer, tree = run_automl(QUICKSTART, [f"output_dir={name}/runs"])
    print(
        f"quickstart: wall_s {summary['wall_s']:.2f} s, trials_wall_s "
        f"{summary['trials_wall_s']:.2f} s, prepare + run_experiment {outer:.2f} s (target < 90 s)"
        f"\nquickstart: peak RSS {tree.peak_mb:.0f} MB over {tree.peak_processes} processes "
        f"(target < 4096 MB), CPU {tree.cpu_s:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--seeds", type=int, default=8, help="N fixed trials, seeds 0..N-1")
    parser.add_argument("--epochs", type=int, default=120, help="per trial (120: ~10 s on CPU)")
    parser.add_argument("--order", choices=["bare-first", "automl-first"], default="bare-first")
    parser.add_argument("--quickstart", action="store_true", help="time configs/quickstart.yaml")
    parser.add_argument("--smoke", action="store_true", help="2 trials x 1 epoch: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.seeds, args.epochs = 2, 1
    if args.seeds < 1 or args.epochs < 1:
        parser.error(f"--seeds >= 1 and --epochs >= 1 must hold, got {args.seeds}, {args.epochs}")
    if args.quickstart:
        quickstart()
    else:
        overhead(args.seeds, args.epochs, args.order)


if __name__ == "__main__":
    main()
