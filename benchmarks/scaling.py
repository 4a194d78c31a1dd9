"""Speedup against the number of concurrent trials, measured in one run.

The same study (``random`` search on MNIST-1D over search_spaces/cnn1d.py, a fixed number of
trials and epochs, one seed) runs through the real stack (``prepare`` + ``run_experiment``: Ray
Tune, MLflow SQLite, a CodeCarbon node meter) once per concurrency level in
``--concurrency`` (``resources.max_concurrent_trials``; one CPU per trial, one thread each). The
random sampler with one seed proposes the same configurations at every level, so the work is the
same and only its packing changes.

For each level it prints: the trials' wall-clock (first trial's start to last trial's end, from
the summary: ``trials_wall_s``) and the whole run's, the throughput in search trials per minute,
the speedup against the first level (trials wall-clock ratio), the parallel efficiency
(speedup / concurrency), and the energy per search trial (node-measured search energy / trials).
On a GPU machine ``--gpus-per-trial`` packs trials onto the GPU instead (0.125: 8 per GPU).

``--packing`` is the GPU packing measurement (issue 8's target: at 8 trials per GPU, aggregate
throughput >= 4x that of one trial at a time, energy per trial <= 0.3x): small trials, a 32-wide
CNN (benchmarks/spaces/cnn32.py) on CIFAR-shaped data (a synthetic cifar-10-batches-py folder,
10 classes of noisy class patterns, written once under ``--out``; the ``cifar10`` task reads it),
at each level N of ``--concurrency`` (default 1,8) with ``resources.trials_per_gpu: N`` and N
trials at once, one CPU each. Energy per trial is the node's measured energy over the whole run
(trials, idle and overhead together) divided by the trials run, so what the idle GPU draws while
one small trial runs alone is in it.

Levels run one after the other, so the machine's drift between them is in the ratios: run it on
a quiet machine, and read the ratios, not the seconds.

    python benchmarks/scaling.py [--concurrency 1,2] [--trials 8] [--epochs 6]
    python benchmarks/scaling.py --smoke     # one level, one trial of one epoch: checks it runs
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Workload:
    """What every level runs: a task (and its folder, if it reads one) and a search space."""

    task: str
    space: Path
    data_dir: Path | None
    label: str


MNIST1D_CNN = Workload("mnist1d", ROOT / "search_spaces" / "cnn1d.py", None, "MNIST-1D (cnn1d)")


def _config(
    level: int, trials: int, epochs: int, gpus: float, packing: bool, work: Workload, out: Path
) -> dict[str, Any]:
    resources: dict[str, Any] = {"cpus_per_trial": 1, "max_concurrent_trials": level}
    if packing:
        resources["trials_per_gpu"] = level
    else:
        resources["gpus_per_trial"] = gpus
    config: dict[str, Any] = {
        "experiment": f"scaling-{level}",
        "task": work.task,
        "space": str(work.space),
        "methods": ["baseline", "random"],
        "seeds": [0],
        "budget": {"trials": trials, "epochs": epochs},
        "resources": resources,
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }
    if work.data_dir is not None:
        config["data_dir"] = str(work.data_dir)
    return config


def write_synthetic_cifar(root: Path, train: int, test: int, seed: int = 0) -> Path:
    """A cifar-10-batches-py folder of ``train`` + ``test`` 32x32 RGB images in 10 classes:
    each class a smooth random pattern, each image its class's pattern plus noise (learnable,
    not trivially). Written once; an existing folder is kept."""
    folder = root / "cifar-10-batches-py"
    if (folder / "batches.meta").is_file():
        return folder
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(10, 3, 4, 4))
    patterns = coarse.repeat(8, axis=2).repeat(8, axis=3)  # 10 x 3 x 32 x 32

    def images(n: int) -> tuple[np.ndarray, list[int]]:
        labels = rng.permutation(np.arange(n) % 10)
        noisy = patterns[labels] + rng.normal(0, 64, size=(n, 3, 32, 32))
        data = np.clip(noisy, 0, 255).astype(np.uint8).reshape(n, 3072)
        return data, [int(v) for v in labels]

    folder.mkdir(parents=True)
    per_batch = train // 5
    for i in range(1, 6):
        data, labels = images(per_batch)
        (folder / f"data_batch_{i}").write_bytes(
            pickle.dumps({b"data": data, b"labels": labels}, protocol=2)
        )
    data, labels = images(test)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": data, b"labels": labels}, 2))
    names = [f"class_{i}".encode() for i in range(10)]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}, protocol=2))
    return folder


def run_level(
    level: int,
    trials: int,
    epochs: int,
    gpus: float,
    out: Path,
    console: Console,
    work: Workload = MNIST1D_CNN,
    packing: bool = False,
) -> dict[str, Any]:
    from automl_bench.experiment import prepare, run_experiment

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"scaling-{level}.yaml"
        config = _config(level, trials, epochs, gpus, packing, work, out)
        path.write_text(yaml.safe_dump(config))
        summary = run_experiment(prepare(path), console=console, live=False).model_dump()
    search = summary["methods"]["random"]["cost"]["search"]
    studies = summary["methods"]["random"]["studies"]
    done = sum(s["trials"] - s["failed"] for s in studies)
    return {
        "level": level,
        "trials": done,
        "trials_wall_s": summary["trials_wall_s"],
        "wall_s": summary["wall_s"],
        "search_kwh": search["energy_kwh"]["total"],
        "node_kwh": summary["cost"]["attribution"]["node_kwh"],
        "search_trial_s": search["wall_s"],
        "configs": [s["best_config"] for s in studies],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--concurrency", default=None, help="levels, comma-separated (default 1,2; --packing 1,8)"
    )
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--gpus-per-trial", type=float, default=0.0)
    parser.add_argument(
        "--packing",
        action="store_true",
        help="the GPU packing measurement: cnn32 on CIFAR-shaped data, trials_per_gpu = level",
    )
    parser.add_argument(
        "--images", type=int, default=10_000, help="--packing: training images (default 10,000)"
    )
    parser.add_argument(
        "--allow-cpu",
        action="store_true",
        help="--packing without a GPU (a dry run of the set-up: trials then hold CPUs only)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-scaling")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="one level, one trial of one epoch, output in a temporary folder: checks it runs",
    )
    args = parser.parse_args()
    if args.smoke:
        args.concurrency, args.trials, args.epochs = "1", 1, 1
        args.out = Path(tempfile.mkdtemp(prefix="automl-bench-scaling-"))
    if args.packing:
        packing(args)
        return
    levels = [int(x) for x in (args.concurrency or "1,2").split(",")]
    quiet = Console(quiet=True)
    rows = [
        run_level(n, args.trials, args.epochs, args.gpus_per_trial, args.out, quiet) for n in levels
    ]
    base = rows[0]
    print(
        f"## Scaling: random search, {args.trials} trials x {args.epochs} epochs on MNIST-1D "
        f"(cnn1d), 1 CPU per trial, GPUs per trial {args.gpus_per_trial:g}\n"
    )
    print(
        "| concurrent trials | trials wall s | run wall s | trials / min | speedup | "
        "efficiency | kWh per search trial |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        speedup = base["trials_wall_s"] / r["trials_wall_s"]
        print(
            f"| {r['level']} | {r['trials_wall_s']:.1f} | {r['wall_s']:.1f} | "
            f"{60 * (r['trials'] + 2) / r['trials_wall_s']:.1f} | {speedup:.2f}x | "
            f"{speedup / (r['level'] / base['level']):.2f} | "
            f"{r['search_kwh'] / max(1, r['trials']):.2e} |"
        )
    same = all(r["configs"] == base["configs"] for r in rows)
    print(
        f"\nThe same configurations at every level: {same} (random sampler, one seed). "
        "Trials / min counts the search trials and the two final trainings. Energy: "
        "CodeCarbon's estimate where the machine has no RAPL (see summary.json)."
    )
    (args.out / "scaling.json").write_text(json.dumps(rows, indent=2, default=str))


def packing(args: argparse.Namespace) -> None:
    import torch

    gpu = torch.cuda.is_available()
    if not gpu and not args.allow_cpu:
        raise SystemExit("--packing needs a GPU (or --allow-cpu for a dry run of the set-up)")
    levels = [int(x) for x in (args.concurrency or "1,8").split(",")]
    data = write_synthetic_cifar(args.out / "data", args.images, max(1000, args.images // 5))
    work = Workload("cifar10", ROOT / "benchmarks" / "spaces" / "cnn32.py", data, "CIFAR-shaped")
    quiet = Console(quiet=True)
    rows = []
    for n in levels:
        # on the CPU (a dry run) trials hold no GPU: trials_per_gpu would wait for one for ever
        rows.append(run_level(n, args.trials, args.epochs, 0.0, args.out, quiet, work, gpu))
    base = rows[0]
    card = torch.cuda.get_device_name(0) if gpu else "no GPU (dry run on the CPU)"
    print(
        f"## GPU packing: random search, {args.trials} trials x {args.epochs} epochs, cnn32 on "
        f"{args.images:,} CIFAR-shaped images, on {card}\n"
    )
    print(
        "| trials per GPU | trials wall s | trials / min | throughput vs 1 | node kWh / trial | "
        "vs 1 | attributed search kWh / trial |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ran = r["trials"] + 2  # the search trials and the two final trainings
        throughput = ran / r["trials_wall_s"]
        per_trial = r["node_kwh"] / ran
        base_throughput = (base["trials"] + 2) / base["trials_wall_s"]
        base_per_trial = base["node_kwh"] / (base["trials"] + 2)
        print(
            f"| {r['level']} | {r['trials_wall_s']:.1f} | {60 * throughput:.1f} | "
            f"{throughput / base_throughput:.2f}x | {per_trial:.2e} | "
            f"{per_trial / base_per_trial:.2f}x | {r['search_kwh'] / max(1, r['trials']):.2e} |"
        )
    print(
        "\nTarget (issue 8): at 8 per GPU, throughput >= 4x and node energy per trial <= 0.3x "
        "of one at a time. Node energy covers the whole run (idle and overhead included)."
    )
    (args.out / "packing.json").write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
