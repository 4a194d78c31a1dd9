"""Do seeds added until decided give the same calls on disjoint seed sets, and what do they save?

Runs configs/verdict_stability.yaml (seeds: {first, max}, one seed added per look for the
reference and every undecided method) twice through the CLI, at two disjoint seed ranges
(start 0 and start 1000 by default), and prints for each run: the seeds each method used, the
wall-clock, the nodes' energy and the benchmark's own cost (summary["looks"]["benchmark"]),
every look's calls and delta intervals, and the final calls. Then what the sequential design
saved against a fixed design with the same error rate: every method at ``max`` seeds with the
same (anytime-valid) interval. Seeds saved = methods x max - seeds used; energy saved = the
seeds a method did not run x its measured energy per seed (search + final training), summed.

The last line reads ``stability: both decided: yes/no, same calls: yes/no``. It exits 0 either
way (a benchmark, not a test), unless a run fails.

    python benchmarks/verdict_stability.py                  # output under a temporary folder
    python benchmarks/verdict_stability.py --starts 0 1000 --output-dir runs/verdict_stability-1
    python benchmarks/verdict_stability.py --smoke          # 2 seeds, 1 trial x 1 epoch
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "verdict_stability.yaml"
INCONCLUSIVE = "inconclusive"
SMOKE = ("budget.trials=1", "budget.epochs=1")  # --smoke, with seeds {first: 2, max: 2}


@dataclass(frozen=True)
class Run:
    """One seeds-until-decided run: its first seed, the CLI's wall-clock and its summary."""

    start: int
    wall_s: float
    summary: dict[str, Any]

    @property
    def looks(self) -> dict[str, Any]:
        looks: dict[str, Any] = self.summary["looks"]
        return looks

    @property
    def calls(self) -> dict[str, str]:
        """Each judged method's final call."""
        return {label: str(call) for label, call in self.looks["looks"][-1]["calls"].items()}

    @property
    def decided(self) -> bool:
        return INCONCLUSIVE not in self.calls.values()

    def seeds(self) -> dict[str, list[int]]:
        """The seeds each method ran, the reference included."""
        return {
            label: sorted(study["seed"] for study in method["studies"])
            for label, method in self.summary["methods"].items()
        }

    def energy_per_seed(self) -> dict[str, float]:
        """Each method's mean energy per seed: its search and final training (kWh)."""
        return {
            label: sum(_study_kwh(s) for s in method["studies"]) / len(method["studies"])
            for label, method in self.summary["methods"].items()
        }


def _study_kwh(study: Mapping[str, Any]) -> float:
    return float(study["search"]["energy_kwh"]["total"] + study["final"]["energy_kwh"]["total"])


def seed_plan(config: Path) -> dict[str, int]:
    """The config's seed plan: first, max (and start)."""
    plan = yaml.safe_load(config.read_text())["seeds"]
    if not isinstance(plan, dict):
        raise SystemExit(f"{config}: seeds must be a plan {{first, max}}, got {plan!r}")
    return {"first": int(plan["first"]), "max": int(plan["max"])}


def run_once(
    config: Path, plan: Mapping[str, int], start: int, out: Path, extra: Sequence[str] = ()
) -> Run:
    """One run of the CLI at seeds start.., its printout kept in out/<experiment>.log;
    ``extra``: more ``--set`` overrides."""
    experiment = f"verdict_stability-start{start}"
    seeds = f"{{first: {plan['first']}, max: {plan['max']}, start: {start}}}"
    command = [
        sys.executable, "-m", "automl_bench.cli", "run", str(config),
        "--set", f"output_dir={out}",
        "--set", f"experiment={experiment}",
        "--set", f"seeds={seeds}",
        *(arg for item in extra for arg in ("--set", item)),
        "--no-live",
    ]  # fmt: skip
    log = out / f"{experiment}.log"
    out.mkdir(parents=True, exist_ok=True)
    print(f"running {experiment} (seeds {seeds}); its printout: {log}", flush=True)
    began = time.monotonic()
    with log.open("w") as sink:
        done = subprocess.run(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    wall = time.monotonic() - began
    if done.returncode != 0:
        print(log.read_text()[-4000:])
        raise SystemExit(f"{experiment} failed (exit {done.returncode}); see {log}")
    summary = json.loads((out / experiment / "summary.json").read_text())
    return Run(start, wall, summary)


def _interval(delta: Mapping[str, Any]) -> str:
    ci = delta.get("ci95")
    bounds = f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else " (no interval)"
    return f"{delta['estimate']:+.1f}{bounds}"


def _seed_ranges(seeds: list[int]) -> str:
    return (
        f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else str(seeds)
    )


def print_run(run: Run) -> None:
    looks, bench = run.looks, run.looks["benchmark"]
    node = run.summary["cost"]["node"]["energy_kwh"]["total"]
    every, added = bench["all_seeds"], bench["added_seeds"]
    print(f"\n== run at seeds from {run.start}: {len(looks['looks'])} looks, "
          f"stopped: {looks['stopped']}")  # fmt: skip
    for label, seeds in run.seeds().items():
        print(f"  seeds {label:<10} {len(seeds):>2}  ({_seed_ranges(seeds)})")
    print(f"  wall-clock {run.wall_s:.0f} s (the CLI, Ray start included; "
          f"the run's own {run.summary['wall_s']:.0f} s)")  # fmt: skip
    print(f"  energy: the nodes {node:.3g} kWh; the benchmark (every seed's search + final "
          f"training) {every['energy_kwh']['total']:.3g} kWh, {every['wall_s']:.0f} "
          f"trial-s, of which the added seeds {added['energy_kwh']['total']:.3g} kWh")  # fmt: skip
    for look in looks["looks"]:
        calls = "; ".join(
            f"{label} {call} {_interval(look['delta'][label])}"
            if label in look["delta"]
            else f"{label} {call}"
            for label, call in look["calls"].items()
        )
        print(f"  look {look['look']} (+seeds {look['seeds']}, {look['wall_s']:.0f} s, "
              f"{look['energy_kwh']:.3g} kWh): {calls}")  # fmt: skip
    print("  calls: " + ", ".join(f"{label}: {call}" for label, call in run.calls.items()))


def savings(run: Run, max_seeds: int) -> tuple[int, int, float]:
    """Seeds used, seeds saved and energy saved (kWh) against every method at max seeds."""
    seeds = {label: len(s) for label, s in run.seeds().items()}
    per_seed = run.energy_per_seed()
    used = sum(seeds.values())
    saved = len(seeds) * max_seeds - used
    kwh = sum((max_seeds - n) * per_seed[label] for label, n in seeds.items())
    return used, saved, kwh


def print_savings(runs: list[Run], max_seeds: int) -> None:
    print(f"\nagainst a fixed design (every method at {max_seeds} seeds, the same interval):")
    for run in runs:
        used, saved, kwh = savings(run, max_seeds)
        fixed = len(run.seeds()) * max_seeds
        per_seed = ", ".join(f"{k} {v:.2g}" for k, v in run.energy_per_seed().items())
        print(f"  seeds from {run.start}: {used} of {fixed} seeds used, {saved} saved "
              f"({saved / fixed:.0%}); energy saved {kwh:.3g} kWh "
              f"(kWh per seed: {per_seed})")  # fmt: skip


def stability_line(runs: list[Run]) -> str:
    decided = all(run.decided for run in runs)
    same = all(run.calls == runs[0].calls for run in runs[1:])
    yes = {True: "yes", False: "no"}
    return f"stability: both decided: {yes[decided]}, same calls: {yes[same]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--starts", type=int, nargs=2, default=[0, 1000],
                        help="the first seed of each run (disjoint ranges)")  # fmt: skip
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="default: a new temporary folder (kept)")  # fmt: skip
    parser.add_argument("--smoke", action="store_true",
                        help="2 seeds, 1 trial x 1 epoch per study: checks it runs")  # fmt: skip
    args = parser.parse_args(argv)
    plan = {"first": 2, "max": 2} if args.smoke else seed_plan(args.config)
    extra = SMOKE if args.smoke else ()
    low, high = sorted(args.starts)
    if low + plan["max"] > high:
        raise SystemExit(f"seed ranges overlap: {low}..{low + plan['max'] - 1} and {high}..")
    out = args.output_dir or Path(tempfile.mkdtemp(prefix="verdict_stability-"))
    print(f"config {args.config}, seeds {plan}, output {out}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    config = args.config.resolve()
    runs = [run_once(config, plan, start, out.resolve(), extra) for start in args.starts]
    for run in runs:
        print_run(run)
    print_savings(runs, plan["max"])
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(stability_line(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
