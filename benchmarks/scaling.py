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

Levels run one after the other, so the machine's drift between them is in the ratios: run it on
a quiet machine, and read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]


def _config(level: int, trials: int, epochs: int, gpus: float, out: Path) -> dict[str, Any]:
    return {
        "experiment": f"scaling-{level}",
        "task": "mnist1d",
        "space": str(ROOT / "search_spaces" / "cnn1d.py"),
        "methods": ["baseline", "random"],
        "seeds": [0],
        "budget": {"trials": trials, "epochs": epochs},
        "resources": {
            "cpus_per_trial": 1,
            "gpus_per_trial": gpus,
            "max_concurrent_trials": level,
        },
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }


def run_level(
    level: int, trials: int, epochs: int, gpus: float, out: Path, console: Console
) -> dict[str, Any]:
    from automl_bench.experiment import prepare, run_experiment

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"scaling-{level}.yaml"
        path.write_text(yaml.safe_dump(_config(level, trials, epochs, gpus, out)))
        summary = run_experiment(prepare(path), console=console, live=False)
    search = summary["methods"]["random"]["cost"]["search"]
    studies = summary["methods"]["random"]["studies"]
    done = sum(s["trials"] - s["failed"] for s in studies)
    return {
        "level": level,
        "trials": done,
        "trials_wall_s": summary["trials_wall_s"],
        "wall_s": summary["wall_s"],
        "search_kwh": search["energy_kwh"]["total"],
        "search_trial_s": search["wall_s"],
        "configs": [s["best_config"] for s in studies],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,2", help="levels, comma-separated")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--gpus-per-trial", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-scaling")
    args = parser.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
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


if __name__ == "__main__":
    main()
