"""Search efficiency on MNIST-1D: how much energy (and wall-clock) each method needs to find a
good configuration, every method under the same budget, measured in one run.

It runs ``automl-bench run configs/search_efficiency.yaml --no-live`` (every searching method
gets the same trials x epochs per study, over 3 seeds), then reads runs/<experiment>/trials.jsonl
alone and writes, under runs/<experiment>/benchmark/:

- ``anytime.png``: two panels, the best validation accuracy so far per method against the
  cumulative energy of its search trials and against their cumulative wall-clock (the trials' own
  seconds, summed: two trials side by side add both), the mean over seeds with one standard error;
  a dashed line at random search's final accuracy (the mean over seeds), a cross where a
  method's mean curve first reaches it;
- ``anytime.csv``: the same curves in long format (method, cost_kind, grid, mean, stderr, seeds);
- ``reach.csv``: per method and seed, the final best validation accuracy, the search's total
  energy and wall-clock, and the energy and wall-clock at which it first reached that target.

It prints a table per method: the final best validation accuracy (mean +- sd over seeds), the
search's energy and wall-clock per study, and the energy and wall-clock to reach random search's
final mean best validation accuracy (mean over the seeds that reached it, how many did, the
ratio to random search's own), and one line: did the expectation from the literature (regularized
evolution and TPE reach random search's final accuracy with less energy than random search) hold
in this run?

Trials are taken in the order they ended (a trial a scheduler stopped: when it stopped). The
curves count the search trials only (failed and stopped ones add their cost, never a value),
not the sampler's own work in the driver (trials.jsonl's ``decide`` lines, printed apart), nor
the final training. ``baseline`` does not search; ``naswot`` scores untrained networks, so
neither has a validation curve.

Sizing, measured on the 2-core CPU machine the config was written for (shared with other work,
load 2-5): one 10-epoch search trial of search_spaces/cnn1d.py takes 0.4-19 s; at seed 0 of the
config, random search's trials averaged 4.4 s (median 2.8 s), TPE's 5.1 s, REA's 4.3 s, ASHA's
1.2 s (27 of 32 stopped early), Hyperband's 1.7 s (24 stopped), BOHB's 3.1 s (17 stopped),
NASWOT's scoring 0.03 s; a final training 4-13 s. That seed alone: 696 trial-seconds, two trials
at a time, 402 s in all; so three seeds, about 19 minutes (less on an idle machine).

    python benchmarks/search_efficiency.py                       # the full run (~19 min)
    python benchmarks/search_efficiency.py --quick               # a small run (~1.5 min)
    python benchmarks/search_efficiency.py --smoke               # checks that it runs
    python benchmarks/search_efficiency.py --set budget.trials=16 --set seeds=[0,1,2,3,4]
    python benchmarks/search_efficiency.py --from runs/search_efficiency   # analyse only
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "search_efficiency.yaml"
GRID_POINTS = 100
COST_KINDS = ("energy_kwh", "wall_s")
AXIS_LABELS = {
    "energy_kwh": "cumulative search energy, kWh",
    "wall_s": "cumulative search wall-clock (trial-seconds), s",
}
YARDSTICK = "random"
NO_CURVE = {
    "baseline": "trains one fixed configuration, no search",
    "defaults": "trains one fixed configuration, no search",
    "naswot": "ranks untrained networks; its choice is trained only in the final phase",
}
EXPECTED_FASTER = ("rea", "tpe")  # the literature: these reach random's accuracy for less energy
# --quick: a smoke run of the whole pipeline, far too small a budget to answer the question.
QUICK = (
    "experiment=search_efficiency_quick",
    "methods=[baseline, random, tpe, rea, asha]",
    "seeds=[0, 1, 2]",
    "budget.trials=4",
    "budget.epochs=2",
)
SMOKE = (
    "experiment=search_efficiency_smoke",
    "methods=[baseline, random, tpe, rea]",
    "seeds=[0]",
    "budget.trials=2",
    "budget.epochs=1",
)


@dataclass
class Study:
    """One method x seed, from its trials.jsonl lines."""

    method: str
    seed: int
    best: float | None = None  # the final best validation accuracy of its search
    total: dict[str, float] = field(default_factory=dict)  # cost kind -> search trials' sum
    decide: dict[str, float] = field(default_factory=dict)  # cost kind -> the sampler's work
    reach: dict[str, float | None] = field(default_factory=dict)  # cost kind -> cost to target


@dataclass
class Row:
    """One method: its studies and what the table prints."""

    method: str
    studies: list[Study]

    @property
    def searched(self) -> bool:
        return any(s.best is not None for s in self.studies)

    def bests(self) -> list[float]:
        return [s.best for s in self.studies if s.best is not None]

    def reached(self, kind: str) -> list[float]:
        return [r for s in self.studies if (r := s.reach.get(kind)) is not None]

    def mean_reach(self, kind: str) -> float | None:
        return _mean(self.reached(kind))

    def mean_total(self, kind: str) -> float | None:
        return _mean([s.total[kind] for s in self.studies if kind in s.total])


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _sd(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    mu = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mu) ** 2 for v in values) / (len(values) - 1))


# -- the run ----------------------------------------------------------------------------------


def experiment_dir(config: Path, overrides: Sequence[str]) -> Path:
    """Where ``automl-bench run`` writes this config (with these overrides)."""
    from automl_bench.config import load_config

    loaded = load_config(config, overrides)
    return Path(loaded.output_dir).resolve() / loaded.experiment


def run(config: Path, overrides: Sequence[str]) -> float:
    """``automl-bench run CONFIG --no-live --set ...``; returns its wall-clock seconds."""
    command = [sys.executable, "-m", "automl_bench.cli", "run", str(config), "--no-live"]
    for item in overrides:
        command += ["--set", item]
    print("$ automl-bench " + " ".join(command[3:]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        sys.exit(f"automl-bench run failed with exit code {done.returncode}")
    return time.perf_counter() - started


# -- the analysis -----------------------------------------------------------------------------


def load_lines(exp_dir: Path) -> list[dict[str, Any]]:
    from automl_bench.results import read_trials

    path = exp_dir / "trials.jsonl"
    if not path.exists():
        sys.exit(f"{path} is not there: is {exp_dir} an experiment's folder of a finished run?")
    return read_trials(path)


def studies(lines: Sequence[Mapping[str, Any]], target: float | None) -> list[Row]:
    """Per method (in the order of trials.jsonl) its studies: best, costs, cost to ``target``."""
    from automl_bench.analysis.curves import reach_cost, study_curves, trial_cost

    by_key: dict[tuple[str, int], Study] = {}
    for line in lines:
        key = (str(line["method"]), int(line["seed"]))
        study = by_key.setdefault(key, Study(*key))
        if line.get("phase") in ("search", "decide"):
            costs = study.total if line["phase"] == "search" else study.decide
            for kind in COST_KINDS:
                costs[kind] = costs.get(kind, 0.0) + trial_cost(line, kind)
    for (method, seed), curve in study_curves(lines).items():
        by_key[(method, seed)].best = curve[-1][1] if curve else None
    if target is not None:
        for kind in COST_KINDS:
            for method, per_seed in reach_cost(lines, target, kind).items():
                for seed, spent in per_seed.items():
                    by_key[(method, seed)].reach[kind] = spent
    rows: dict[str, Row] = {}
    for (method, _), study in by_key.items():
        rows.setdefault(method, Row(method, [])).studies.append(study)
    return list(rows.values())


def yardstick_target(lines: Sequence[Mapping[str, Any]]) -> float | None:
    """Random search's final best validation accuracy, the mean over its seeds."""
    rows = {r.method: r for r in studies(lines, None)}
    return _mean(rows[YARDSTICK].bests()) if YARDSTICK in rows else None


def write_curves_csv(curves: Mapping[str, Mapping[str, Any]], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["method", "cost_kind", "grid", "mean", "stderr", "seeds"])
    for kind, per_method in curves.items():
        for method, curve in per_method.items():
            for row in zip(
                curve["grid"], curve["mean"], curve["stderr"], curve["seeds"], strict=True
            ):
                writer.writerow(
                    [method, kind, *("" if v is None else repr(v) for v in row[:3]), row[3]]
                )
    path.write_text(buffer.getvalue())


def write_reach_csv(rows: Sequence[Row], target: float | None, path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["method", "seed", "best_val", "target"]
    header += [f"search_{k}" for k in COST_KINDS] + [f"decide_{k}" for k in COST_KINDS]
    header += [f"reach_{k}" for k in COST_KINDS]
    writer.writerow(header)
    for row in rows:
        for s in sorted(row.studies, key=lambda s: s.seed):
            values: list[Any] = [row.method, s.seed, s.best, target]
            values += [s.total.get(k) for k in COST_KINDS] + [s.decide.get(k) for k in COST_KINDS]
            values += [s.reach.get(k) for k in COST_KINDS]
            writer.writerow(["" if v is None else v for v in values])
    path.write_text(buffer.getvalue())


def plot(
    curves: Mapping[str, Mapping[str, Any]],
    methods: Sequence[str],
    target: float | None,
    crossings: Mapping[str, Mapping[str, float | None]],
    title: str,
    path: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(COST_KINDS), figsize=(13, 5), sharey=True)
    palette = plt.get_cmap("tab10")
    drawn, lowest = False, 100.0
    for ax, kind in zip(axes, COST_KINDS, strict=True):
        for i, method in enumerate(methods):
            curve = curves[kind].get(method)
            if curve is None:
                continue
            every = max(curve["seeds"], default=0)  # drawn where every seed has a value
            points = [
                (x, 100 * m, 0.0 if s is None else 100 * s)
                for x, m, s, n in zip(
                    curve["grid"], curve["mean"], curve["stderr"], curve["seeds"], strict=True
                )
                if m is not None and n == every and x <= curve.get("spent", float("inf"))
            ]
            if not points:
                continue
            color = palette(i % 10)
            xs, mean, se = (list(v) for v in zip(*points, strict=True))
            lowest = min(lowest, *mean)
            ax.plot(xs, mean, label=method, drawstyle="steps-post", color=color)
            low = [m - e for m, e in zip(mean, se, strict=True)]
            high = [m + e for m, e in zip(mean, se, strict=True)]
            ax.fill_between(xs, low, high, step="post", alpha=0.15, color=color)
            crossing = crossings[kind].get(method)
            if target is not None and crossing is not None:
                ax.plot([crossing], [100 * target], "x", color=color, markersize=9)
            drawn = True
        if target is not None:
            ax.axhline(
                100 * target,
                color="0.4",
                linestyle="--",
                linewidth=1,
                label=f"random's final mean, {100 * target:.1f}%",
            )
        ax.set_xlabel(AXIS_LABELS[kind])
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("best validation accuracy so far, % (mean ± SE over seeds)")
    if target is not None and drawn:  # the region around the target; the CSV has the rest
        axes[0].set_ylim(bottom=max(lowest - 1, 100 * target - 12))
    if drawn:
        axes[-1].legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- the printout -----------------------------------------------------------------------------


def _num(value: float | None, spec: str = ".3g") -> str:
    return "-" if value is None else format(value, spec)


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or reference is None or reference <= 0:
        return "-"
    return f"{value / reference:.2f}x"


def _reach(row: Row, kind: str) -> str:
    n = len(row.studies)
    return f"{_num(row.mean_reach(kind))} ({len(row.reached(kind))}/{n})"


def table(rows: Sequence[Row], target: float | None, title: str) -> Any:
    from rich.table import Table

    yard = next((r for r in rows if r.method == YARDSTICK), None)
    t = Table(title=title)
    for name in (
        "method",
        "best val % (mean ± sd)",
        "search kWh",
        "search s",
        "kWh to target (seeds)",
        "x random",
        "s to target (seeds)",
        "x random",
    ):
        t.add_column(name, justify="left" if name == "method" else "right")
    for row in rows:
        if not row.searched:
            continue
        bests = row.bests()
        sd = _sd(bests)
        best = f"{100 * (_mean(bests) or 0):.1f}" + ("" if sd is None else f" ± {100 * sd:.1f}")
        cells = [row.method, best, _num(row.mean_total("energy_kwh"))]
        cells.append(_num(row.mean_total("wall_s"), ".1f"))
        for kind in COST_KINDS:
            reference = yard.mean_reach(kind) if yard else None
            cells += [_reach(row, kind), _ratio(row.mean_reach(kind), reference)]
        t.add_row(*cells)
    return t


def expectation(
    rows: Sequence[Row], target: float | None, crossing: Mapping[str, float | None]
) -> str:
    """One line: did REA and TPE reach random search's final accuracy with less energy?

    Judged on the mean anytime curve over seeds (``crossing``: the cumulative energy at which
    each method's mean best-so-far first reaches the target), the curve the literature compares.
    Per-seed means are printed beside it but do not decide: a seed that never reaches the target
    drops out of them, which favours the method that failed to reach it more often.
    """
    by = {r.method: r for r in rows}
    claim = "REA and TPE reach random search's final accuracy with less energy than random"
    if target is None or YARDSTICK not in by:
        return f"Expectation ({claim}): cannot tell, random search is not in this run."
    missing = [m for m in EXPECTED_FASTER if m not in by or not by[m].searched]
    if missing:
        return f"Expectation ({claim}): cannot tell, {' and '.join(missing)} not in this run."
    yard = by[YARDSTICK]
    yard_kwh = crossing.get(YARDSTICK)
    parts, held = [], []
    for method in EXPECTED_FASTER:
        row = by[method]
        kwh = crossing.get(method)
        ok = kwh is not None and yard_kwh is not None and kwh < yard_kwh
        held.append(ok)
        per_seed = (
            f"per seed {_ratio(row.mean_reach('energy_kwh'), yard.mean_reach('energy_kwh'))} "
            f"over the {len(row.reached('energy_kwh'))}/{len(row.studies)} seeds that reached it"
        )
        parts.append(
            f"{method} {_ratio(kwh, yard_kwh)} random's energy ({per_seed})"
            if kwh is not None
            else f"{method}'s mean curve never reached it ({per_seed})"
        )
    verdict = "HELD" if all(held) else "held in part" if any(held) else "DID NOT HOLD"
    return (
        f"Expectation ({claim}, {100 * target:.1f}%), on the mean curve over seeds: {verdict} "
        f"in this run: {'; '.join(parts)}; random's mean curve reached it at {_num(yard_kwh)} kWh "
        f"(random reached it in {len(yard.reached('energy_kwh'))}/{len(yard.studies)} seeds)."
    )


def analyse(exp_dir: Path, points: int, quick: bool) -> None:
    from rich.console import Console

    from automl_bench.analysis.curves import anytime, mean_reach_cost

    console = Console() if sys.stdout.isatty() else Console(width=150)
    lines = load_lines(exp_dir)
    target = yardstick_target(lines)
    rows = studies(lines, target)
    curves = {kind: anytime(lines, points, kind) for kind in COST_KINDS}
    crossings: dict[str, dict[str, float | None]] = {
        kind: (mean_reach_cost(lines, target, kind) if target is not None else {})
        for kind in COST_KINDS
    }
    out = exp_dir / "benchmark"
    out.mkdir(parents=True, exist_ok=True)
    seeds = sorted({s.seed for r in rows for s in r.studies})
    budget = _budget(lines)
    name = exp_dir.name
    title = f"{name}: {len(seeds)} seed{'' if len(seeds) == 1 else 's'}, {budget}"
    write_curves_csv(curves, out / "anytime.csv")
    write_reach_csv(rows, target, out / "reach.csv")
    searched = [r.method for r in rows if r.searched]
    plot(curves, searched, target, crossings, title, out / "anytime.png")

    if quick:
        console.print(
            "[bold]--quick is a smoke run[/bold]: a budget far too small to say anything about "
            "search efficiency (that needs the full configs/search_efficiency.yaml). It only "
            "shows that the pipeline runs end to end."
        )
    target_text = "-" if target is None else f"{100 * target:.1f}%"
    console.print(
        table(rows, target, f"{title}; target: random search's final mean best val {target_text}")
    )
    console.print(
        "best val: the study's best validation accuracy after its search; search kWh / s: its "
        "search trials' energy and summed wall-clock, mean per study; to target: the cumulative "
        "energy / trial-seconds at which a study's best first reached the target, mean over the "
        "seeds that reached it (how many did); x random: that against random search's own."
    )
    mean_curve = ", ".join(
        f"{r.method} never"
        if crossings["energy_kwh"].get(r.method) is None
        else f"{r.method} {_num(crossings['energy_kwh'].get(r.method))} kWh / "
        f"{_num(crossings['wall_s'].get(r.method), '.1f')} s"
        for r in rows
        if r.searched
    )
    if target is not None:
        console.print(f"the mean curve over seeds first reaches the target at: {mean_curve}")
    decide = ", ".join(
        f"{r.method} {_num(_mean([s.decide.get('energy_kwh', 0.0) for s in r.studies]))} kWh"
        for r in rows
        if any(s.decide for s in r.studies)
    )
    if decide:
        console.print(f"not in the curves: the samplers' own work per study (decide): {decide}")
    others = [r.method for r in rows if not r.searched]
    if others:
        why = [
            f"{m}: {NO_CURVE.get(m, 'no search trial with a validation accuracy')}" for m in others
        ]
        console.print(f"no validation curve: {'; '.join(why)}")
    console.print(f"files: {out / 'anytime.png'}, {out / 'anytime.csv'}, {out / 'reach.csv'}")
    console.print(expectation(rows, target, crossings["energy_kwh"]), soft_wrap=True)
    if quick:
        console.print("(--quick: a smoke run; the line above says nothing about the question.)")


def _budget(lines: Sequence[Mapping[str, Any]]) -> str:
    """'N trials x E epochs' from the search lines (the most a study ran)."""
    per_study: dict[tuple[str, int], int] = {}
    epochs = 0
    for line in lines:
        if line.get("phase") == "search":
            key = (str(line["method"]), int(line["seed"]))
            per_study[key] = per_study.get(key, 0) + 1
            epochs = max(epochs, int(line.get("epochs_run") or 0))
    trials = max(per_study.values(), default=0)
    return f"{trials} trials x {epochs} epochs per study"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Search efficiency on MNIST-1D: every method under the same budget; anytime "
        "curves against cumulative energy and wall-clock, and the cost to reach random search's "
        "final accuracy, from runs/<experiment>/trials.jsonl."
    )
    parser.add_argument(
        "--config", type=Path, default=CONFIG, help="the experiment (default: %(default)s)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="passed to automl-bench run, e.g. --set budget.trials=16 (repeatable)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run in about 1.5 minutes (4 trials x 2 epochs, 5 methods, experiment "
        "search_efficiency_quick): checks the pipeline, answers nothing",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a run of seconds (2 trials x 1 epoch, 4 methods, one seed, experiment "
        "search_efficiency_smoke): checks that it runs, answers nothing",
    )
    parser.add_argument(
        "--from",
        dest="from_dir",
        type=Path,
        default=None,
        metavar="EXPERIMENT_DIR",
        help="analyse this finished experiment's folder (runs/<experiment>), run nothing",
    )
    parser.add_argument(
        "--points", type=int, default=GRID_POINTS, help="grid points per curve (%(default)s)"
    )
    args = parser.parse_args(argv)

    if args.from_dir is not None:
        exp_dir = args.from_dir
        if not exp_dir.is_dir() and (Path("runs") / exp_dir).is_dir():
            exp_dir = Path("runs") / exp_dir  # a bare experiment name
        small = {"search_efficiency_quick", "search_efficiency_smoke"}
        quick = args.quick or args.smoke or exp_dir.name in small
        analyse(exp_dir.resolve(), args.points, quick)
        return

    from automl_bench.errors import ConfigError

    plan = SMOKE if args.smoke else QUICK if args.quick else ()
    overrides = [*plan, *args.overrides]
    try:
        exp_dir = experiment_dir(args.config, overrides)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    seconds = run(args.config, overrides)
    print(f"automl-bench run took {seconds:.0f} s ({seconds / 60:.1f} min)", flush=True)
    analyse(exp_dir, args.points, args.quick or args.smoke)


if __name__ == "__main__":
    main()
