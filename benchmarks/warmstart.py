"""Warm start against cold start: the energy and wall-clock a search needs to reach the
hand-designed baseline's accuracy on a new task, when it starts from an earlier study on a
related task (``warmstart``) and when it does not (``tpe``), over seeds, measured in one run.

Two experiments, through the library API (``prepare`` + ``run_experiment``), configs written to
a temporary folder, outputs under runs/bench-warmstart/:

1. the source: TPE on ``digits`` (scikit-learn's 8x8 digits, 64 flat features) over
   search_spaces/mlp.py, one seed;
2. the target: ``mnist1d`` (40 features) over the same space, methods baseline, tpe and
   warmstart (``search.warmstart_from``: the source; its top 5 configurations enqueued, the
   space narrowed to their bounding box), over 5 seeds; tpe and warmstart have the same budget.

The target, per seed: the baseline's VALIDATION accuracy at that seed (the same splits the
searches are scored on; its test accuracy is never used to choose anything). The experiment's
own baseline is a final training (on train + validation, tested once), so the benchmark trains
the baseline configuration once more per seed exactly as a search trial is trained (train
split, scored on validation, same epochs and seeding): ``baseline_val.json``. The cost to reach
it: the cumulative energy (kWh) and wall-clock of a study's search trials, in the order they
ended, at the first trial whose best validation accuracy so far reaches the target
(``automl_bench.analysis.curves.reach_cost``). Wall-clock is trial-seconds: each trial's own
seconds summed (two trials side by side add both), so it does not depend on what else ran
beside them (the elapsed time of one study is not defined here: the studies of an experiment
share the two workers, interleaved). The samplers' own work (trials.jsonl ``decide`` lines)
and the final training are not in it.

The source's cost is what warm start reuses: the search trials (and sampler work) of the
source's tpe study, energy and trial-seconds. It is reported both ways: warm start without it
(the source was run anyway, for its own task) and with all of it charged to every seed (the
source was run only to warm-start this one). A seed that never reaches the target is shown as
"> X", X all its search spent (a lower bound; a ratio with it is a bound); means, t intervals
and ratios are over the seeds where both warm and cold reached it (how many is printed); a
ratio's mean is the geometric mean of the per-seed ratios, with a t interval on their logs.

It also prints the warm start's box, and which parameters of each cold search's best
configuration (and of the baseline) lie outside it: the box is a hard limit, warm start never
tries what lies outside.

Sizing, on the 2-core CPU machine this was written on (shared with other work, load 2-3): the
full run (source: 32 trials; target: 5 seeds x (24 tpe + 24 warmstart trials + 3 finals), 20
epochs each) took 6 minutes (source 33 s, target 323 s); ``--quick`` (2 seeds, 6 trials, 4
epochs) 75 s, and answers nothing. ``--seeds 3`` runs the 3 seeds of the brief.

    python benchmarks/warmstart.py              # the full run
    python benchmarks/warmstart.py --quick      # a small run
    python benchmarks/warmstart.py --smoke      # checks that it runs (2 trials x 1 epoch, 1 seed)
    python benchmarks/warmstart.py --analyse    # the tables again, from the finished runs
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "runs" / "bench-warmstart"
SPACE = ROOT / "search_spaces" / "mlp.py"
COLD, WARM = "tpe", "warmstart"
COSTS = ("energy_kwh", "wall_s")


@dataclass(frozen=True)
class Plan:
    source_task: str = "digits"
    target_task: str = "mnist1d"
    source_trials: int = 32
    trials: int = 24
    epochs: int = 20
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    top: int = 5
    suffix: str = ""

    @property
    def source(self) -> str:
        return f"warmstart_source_{self.source_task}{self.suffix}"

    @property
    def target(self) -> str:
        return f"warmstart_target_{self.target_task}{self.suffix}"


FULL = Plan()
QUICK = Plan(source_trials=6, trials=6, epochs=4, seeds=(0, 1), top=3, suffix="_quick")
SMOKE = Plan(source_trials=2, trials=2, epochs=1, seeds=(0,), top=2, suffix="_smoke")


def _common(plan: Plan) -> dict[str, Any]:
    return {
        "space": str(SPACE),
        "budget": {"epochs": plan.epochs},
        "resources": {"cpus_per_trial": 1, "gpus_per_trial": 0},
        "cost": {"country_iso_code": "FRA"},
        "deploy": {"onnx": False},
        "output_dir": str(OUT),
    }


def source_config(plan: Plan) -> dict[str, Any]:
    config = _common(plan)
    config.update(
        experiment=plan.source,
        task=plan.source_task,
        methods=["baseline", COLD],
        seeds=[0],
    )
    config["budget"]["trials"] = plan.source_trials
    return config


def target_config(plan: Plan) -> dict[str, Any]:
    config = _common(plan)
    config.update(
        experiment=plan.target,
        task=plan.target_task,
        methods=["baseline", COLD, WARM],
        seeds=list(plan.seeds),
        search={"warmstart_from": [plan.source], "warmstart_top": plan.top},
    )
    config["budget"]["trials"] = plan.trials
    return config


def run(config: Mapping[str, Any], folder: Path, log: Path) -> float:
    """Write ``config``, prepare and run it; returns its wall-clock seconds."""
    from rich.console import Console

    from automl_bench.experiment import prepare, run_experiment

    path = folder / f"{config['experiment']}.yaml"
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    prepared = prepare(path)
    print(
        f"running {config['experiment']}: task {config['task']}, methods "
        f"{', '.join(config['methods'])}, seeds {config['seeds']}, "
        f"{config['budget']['trials']} trials x {config['budget']['epochs']} epochs "
        f"(its own output: {log})",
        flush=True,
    )
    started = time.perf_counter()
    with log.open("a") as f:
        run_experiment(prepared, console=Console(file=f, width=150), live=False)
    return time.perf_counter() - started


def _collect(into: list[dict[str, Any]]) -> Callable[[dict[str, Any], Path | None], None]:
    def report(metrics: dict[str, Any], model_dir: Path | None) -> None:
        into.append(metrics)

    return report


def baseline_val(plan: Plan) -> dict[int, float]:
    """The baseline's validation accuracy per seed, trained exactly as a search trial is (the
    train split, scored on the validation split, the same epochs and seeding): the experiment's
    own baseline is a final training (train + validation, tested once), with no validation
    score. Written to runs/bench-warmstart/<target>/baseline_val.json."""
    import json

    from automl_bench.cost.prices import Prices
    from automl_bench.cost.window import Unmetered
    from automl_bench.space import load_search_space
    from automl_bench.trial import SEARCH, TrialContext, TrialJob, run_trial

    path = OUT / plan.target / "baseline_val.json"
    space = load_search_space(SPACE)
    ctx = TrialContext(
        task=plan.target_task,
        cache_dir=str(OUT / "cache"),
        spaces={space.name: str(SPACE)},
        epochs=plan.epochs,
        cpus_per_trial=1,
        gpus_per_trial=0,
        prices=Prices(0.0, 0.0, 0.0, 0.0, 0.0),
        report_interval_s=3600.0,  # one report: the closing one
    )
    out: dict[int, float] = {}
    for seed in plan.seeds:
        reports: list[dict[str, Any]] = []
        job = TrialJob("baseline-val", "baseline", seed, SEARCH, space.name, dict(space.baseline))
        run_trial(job, ctx, _collect(reports), Unmetered())
        out[seed] = float(reports[-1]["val_accuracy"])
    path.write_text(json.dumps({str(k): v for k, v in out.items()}, indent=2) + "\n")
    return out


# -- the analysis -------------------------------------------------------------------------------


def _lines(name: str) -> list[dict[str, Any]]:
    from automl_bench.results import read_trials

    path = OUT / name / "trials.jsonl"
    if not path.is_file():
        sys.exit(f"{path} is not there: run the benchmark first (without --analyse)")
    return read_trials(path)


def _rows(name: str) -> list[dict[str, Any]]:
    from automl_bench.results import read_results

    return read_results(OUT / name / "results.csv")


def _spent(
    lines: Sequence[Mapping[str, Any]], method: str, phases: Sequence[str]
) -> dict[str, float]:
    from automl_bench.analysis.curves import trial_cost

    chosen = [x for x in lines if x.get("method") == method and x.get("phase") in phases]
    return {k: math.fsum(trial_cost(x, k) for x in chosen) for k in COSTS}


@dataclass
class Seed:
    seed: int
    target: float  # the baseline's validation accuracy
    best: dict[str, float | None]  # method -> best validation accuracy of its search
    reach: dict[str, dict[str, float | None]]  # method -> cost kind -> cost to reach the target
    total: dict[str, dict[str, float]]  # method -> cost kind -> its search trials' total
    test: dict[str, float | None]  # method -> the final model's test accuracy


def per_seed(plan: Plan) -> list[Seed]:
    import json

    from automl_bench.analysis.curves import reach_cost, study_curves

    lines, rows = _lines(plan.target), _rows(plan.target)
    path = OUT / plan.target / "baseline_val.json"
    if not path.is_file():
        sys.exit(f"{path} is not there: run the benchmark first (without --analyse)")
    targets = {int(k): float(v) for k, v in json.loads(path.read_text()).items()}
    out = []
    for seed, target in sorted(targets.items()):
        mine = [x for x in lines if x.get("seed") == seed]
        curves = study_curves(mine)
        best = {
            m: (curves[(m, seed)][-1][1] if (m, seed) in curves else None) for m in (COLD, WARM)
        }
        reach = {m: {} for m in (COLD, WARM)}  # type: dict[str, dict[str, float | None]]
        for kind in COSTS:
            found = reach_cost(mine, target, kind)
            for m in (COLD, WARM):
                reach[m][kind] = found.get(m, {}).get(seed)
        total = {m: _spent(mine, m, ("search",)) for m in (COLD, WARM)}
        test = {str(r["method"]): r["test_metric"] for r in rows if r["seed"] == seed}
        out.append(Seed(seed, target, best, reach, total, test))
    return out


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2e}" if kind == "energy_kwh" else f"{value:.1f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 or a <= 0 else a / b


def _ci(values: Sequence[float], kind: str) -> str:
    from automl_bench.stats import mean_ci

    if not values:
        return "- (0 seeds)"
    s = mean_ci(list(values))
    ci = "" if s["ci95"] is None else f" [{_fmt(s['ci95'][0], kind)}, {_fmt(s['ci95'][1], kind)}]"
    return f"{_fmt(s['mean'], kind)}{ci} ({s['n']})"


def _ratio_ci(ratios: Sequence[float]) -> str:
    """Geometric mean of ratios with a t interval on their logs."""
    from automl_bench.stats import mean_ci

    if not ratios:
        return "- (0 seeds)"
    s = mean_ci([math.log(r) for r in ratios])
    ci = (
        ""
        if s["ci95"] is None
        else f" [{math.exp(s['ci95'][0]):.2f}, {math.exp(s['ci95'][1]):.2f}]"
    )
    return f"{math.exp(s['mean']):.2f}x{ci} ({s['n']})"


def report(plan: Plan, timings: Mapping[str, float]) -> None:
    source_lines = _lines(plan.source)
    source = _spent(source_lines, COLD, ("search", "decide"))
    source_best = max(
        (
            x["val_metric"]
            for x in source_lines
            if x.get("phase") == "search"
            and x.get("status") == "ok"
            and x.get("val_metric") is not None
        ),
        default=None,
    )
    seeds = per_seed(plan)
    print()
    print(
        f"## Warm start vs cold start: {plan.target_task} from {plan.source_task}, "
        f"space mlp, {plan.trials} trials x {plan.epochs} epochs per study, "
        f"seeds {list(plan.seeds)}"
    )
    if plan.suffix:
        print(f"\n**{plan.suffix[1:]}: far too small a budget to answer anything.**")
    print(
        f"\nSource `{plan.source}`: tpe on {plan.source_task}, {plan.source_trials} trials, best "
        f"val {_pct(source_best)}; its search cost (trials + sampler): "
        f"{source['energy_kwh']:.2e} kWh, {source['wall_s']:.1f} trial-s. Target per seed: "
        "the baseline's **validation** accuracy at that seed. Cost to reach: cumulative search "
        "energy / trial-seconds (each trial's own seconds summed) when the best validation "
        "accuracy so far first reaches the target; `> X`: never reached, X is all its search spent "
        "(a lower bound), and a ratio with it is a bound."
    )
    print()
    kinds: dict[str, dict[str, list[float]]] = {
        k: {"cold": [], "warm": [], "warm+src": []} for k in COSTS
    }
    ratios: dict[str, dict[str, list[float]]] = {k: {"warm": [], "warm+src": []} for k in COSTS}
    for kind in COSTS:
        unit = "kWh" if kind == "energy_kwh" else "trial-seconds"
        head = [
            "seed",
            "target: baseline val",
            "best val: cold / warm",
            f"{unit} to reach: cold (tpe)",
            "warm (warmstart)",
            "warm + source",
            "warm / cold",
            "(warm + source) / cold",
        ]
        print()
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for s in seeds:
            cold, warm = s.reach[COLD][kind], s.reach[WARM][kind]
            with_src = None if warm is None else warm + source[kind]
            # never reached: more than the whole search spent (a censored value)
            cold_at = Reach(cold, s.total[COLD][kind])
            warm_at = Reach(warm, s.total[WARM][kind])
            src_at = Reach(with_src, s.total[WARM][kind] + source[kind])
            cells = [str(s.seed), _pct(s.target), f"{_pct(s.best[COLD])} / {_pct(s.best[WARM])}"]
            cells += [cold_at.text(kind), warm_at.text(kind), src_at.text(kind)]
            cells += [warm_at.over(cold_at), src_at.over(cold_at)]
            print("| " + " | ".join(cells) + " |")
            if cold is not None and warm is not None and with_src is not None:
                kinds[kind]["cold"].append(cold)
                kinds[kind]["warm"].append(warm)
                kinds[kind]["warm+src"].append(with_src)
                ratios[kind]["warm"].append(warm / cold)
                ratios[kind]["warm+src"].append(with_src / cold)
    n = len(seeds)
    reached = {
        m: sum(1 for s in seeds if s.reach[m]["energy_kwh"] is not None) for m in (COLD, WARM)
    }
    print()
    print(
        f"Reached the baseline's validation accuracy: cold (tpe) {reached[COLD]}/{n} seeds, "
        f"warm (warmstart) {reached[WARM]}/{n}."
    )
    print()
    print("| mean [95% t CI] (seeds where both reached) | kWh | trial-seconds |")
    print("|---|---|---|")
    for label, key in (("cold (tpe)", "cold"), ("warm", "warm"), ("warm + source", "warm+src")):
        print(
            f"| {label} | {_ci(kinds['energy_kwh'][key], 'energy_kwh')} | "
            f"{_ci(kinds['wall_s'][key], 'wall_s')} |"
        )
    for label, key in (("warm / cold", "warm"), ("(warm + source) / cold", "warm+src")):
        print(
            f"| {label} (geometric mean) | {_ratio_ci(ratios['energy_kwh'][key])} | "
            f"{_ratio_ci(ratios['wall_s'][key])} |"
        )
    print()
    print("| per study, mean over seeds | cold (tpe) | warm (warmstart) |")
    print("|---|---|---|")
    for kind, label in (("energy_kwh", "search kWh (all trials)"), ("wall_s", "search trial-s")):
        cold_totals = [s.total[COLD][kind] for s in seeds]
        warm_totals = [s.total[WARM][kind] for s in seeds]
        print(f"| {label} | {_ci(cold_totals, kind)} | {_ci(warm_totals, kind)} |")
    for label, values in (
        ("best val % of the search", {m: [s.best[m] for s in seeds] for m in (COLD, WARM)}),
        (
            "final test % (retrained best)",
            {m: [s.test.get(m) for s in seeds] for m in (COLD, WARM)},
        ),
    ):
        cells = [_ci([100 * v for v in values[m] if v is not None], "wall_s") for m in (COLD, WARM)]
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    base_test = [100 * v for v in (s.test.get("baseline") for s in seeds) if v is not None]
    print(f"| baseline final test % | {_ci(base_test, 'wall_s')} | |")
    box_report(plan)
    measured = sorted(
        {json.dumps(x["cost"].get("measured"), sort_keys=True) for x in _lines(plan.target)}
    )
    print()
    print(f"Energy as measured by the node meter: {', '.join(measured)}.")
    if timings:
        print()
        print(
            "Wall-clock of the runs (Ray start, trials two at a time, deploy, report): "
            + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
        )


@dataclass(frozen=True)
class Reach:
    """A cost to reach the target, or (``at`` None) more than ``spent``, all the search spent."""

    at: float | None
    spent: float

    def text(self, kind: str) -> str:
        return _fmt(self.at, kind) if self.at is not None else f"> {_fmt(self.spent, kind)}"

    def over(self, other: Reach) -> str:
        """This against ``other`` as a ratio; a bound where one never reached the target."""
        if self.at is not None and other.at is not None:
            return _ratio_text(_ratio(self.at, other.at))
        if self.at is not None and other.spent > 0:
            return f"< {self.at / other.spent:.2f}x"
        if other.at is not None and other.at > 0:
            return f"> {self.spent / other.at:.2f}x"
        return "-"


def box_report(plan: Plan) -> None:
    """What warm start started from, and whether the cold searches' best configurations lie
    inside its box (the box is a hard limit: what lies outside it, warm start never tries)."""
    from automl_bench.methods.warmstart import Bound, load_warmstart
    from automl_bench.space import load_search_space

    space = load_search_space(SPACE)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "target.yaml"
        path.write_text(yaml.safe_dump(target_config(plan), sort_keys=False))
        from automl_bench.config import load_config

        warm = load_warmstart(load_config(path), path, space)

    def show(name: str, bound: Bound) -> str:
        if bound.numeric and len(bound.seen) > 1 and name not in ("batch_size", "weight_decay"):
            return f"{name} [{bound.low:.3g}, {bound.high:.3g}]"
        return f"{name} {{{', '.join(str(v) for v in bound.seen)}}}"

    print()
    print(
        f"Warm start: the source's top {len(warm.top)} configurations (val "
        f"{', '.join(_pct(c.value) for c in warm.top)}) enqueued; the box: "
        + "; ".join(show(k, b) for k, b in warm.box.items())
        + "."
    )
    best: dict[int, tuple[float, dict[str, Any]]] = {}
    for x in _lines(plan.target):
        if x.get("method") == COLD and x.get("phase") == "search" and x.get("status") == "ok":
            value = x.get("val_metric")
            if value is not None and (x["seed"] not in best or value > best[x["seed"]][0]):
                best[int(x["seed"])] = (float(value), x["config"])
    verdicts = []
    for seed, (value, config) in sorted(best.items()):
        off = outside(space.space, warm.box, config)
        where = f"outside: {', '.join(off)}" if off else "inside"
        verdicts.append(f"seed {seed} ({_pct(value)}) {where}")
    off = outside(space.space, warm.box, space.baseline)
    verdicts.append(f"the baseline {'outside: ' + ', '.join(off) if off else 'inside'}")
    print(
        f"Cold (tpe) search's best configuration per seed against the box: {'; '.join(verdicts)}."
    )


class _Recorder:
    """A trial that answers with ``config``'s values and notes those outside what it was offered
    (the narrowed space's ranges and choices)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.outside: list[str] = []

    def suggest_float(self, name: str, low: float, high: float, **_: Any) -> Any:
        return self._number(name, low, high)

    def suggest_int(self, name: str, low: int, high: int, **_: Any) -> Any:
        return self._number(name, low, high)

    def _number(self, name: str, low: float, high: float) -> Any:
        value = self.config[name]
        if not low <= value <= high:
            self.outside.append(f"{name}={value:.3g} not in [{low:.3g}, {high:.3g}]")
        return value

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        value = self.config[name]
        if not any(value == c and type(value) is type(c) for c in choices):
            self.outside.append(f"{name}={value} not in {{{', '.join(map(str, choices))}}}")
        return value


def outside(space_fn: Any, box: Any, config: Mapping[str, Any]) -> list[str]:
    """The parameters of ``config`` that lie outside the warm start's box."""
    from automl_bench.methods.warmstart import narrowed

    recorder = _Recorder(config)
    narrowed(space_fn, box)(recorder)  # type: ignore[arg-type]
    return recorder.outside


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _ratio_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Warm start vs cold start: energy and wall-clock to reach the baseline's "
        "validation accuracy on mnist1d, TPE from scratch against TPE started from TPE on digits."
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (about 2.5 minutes)")
    parser.add_argument(
        "--smoke", action="store_true", help="2 trials x 1 epoch, 1 seed: checks that it runs"
    )
    parser.add_argument(
        "--analyse", action="store_true", help="only print the tables from the finished runs"
    )
    parser.add_argument(
        "--reuse-source",
        action="store_true",
        help="keep a finished source experiment instead of running it again",
    )
    parser.add_argument("--trials", type=int, help="search trials per target study")
    parser.add_argument("--source-trials", type=int, help="search trials of the source study")
    parser.add_argument("--epochs", type=int, help="epochs per trial")
    parser.add_argument("--seeds", type=int, help="target seeds: 0 .. N-1")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    changes: dict[str, Any] = {}
    for name in ("trials", "source_trials", "epochs"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.seeds is not None:
        changes["seeds"] = tuple(range(args.seeds))
    if changes:
        plan = replace(plan, suffix=plan.suffix or "_custom", **changes)
    timings: dict[str, float] = {}
    if not args.analyse:
        OUT.mkdir(parents=True, exist_ok=True)
        log = OUT / f"log{plan.suffix}.txt"
        log.write_text("")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if not (args.reuse_source and (OUT / plan.source / "trials.jsonl").is_file()):
                timings["source"] = run(source_config(plan), folder, log)
            timings["target"] = run(target_config(plan), folder, log)
        started = time.perf_counter()
        baseline_val(plan)
        timings["baseline validation"] = time.perf_counter() - started
    report(plan, timings)


if __name__ == "__main__":
    main()
