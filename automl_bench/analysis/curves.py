"""Anytime curves and Pareto fronts, from results.csv rows and trials.jsonl lines.

- Anytime: per study, the best validation metric so far (by the metric's direction: the lowest
  MSE, the highest accuracy) against the cumulative energy of its
  search (failed trials add cost, never a value), read on a fixed grid of energies shared by every
  method of the experiment; the mean and standard error over seeds at each grid point where at
  least one seed has a value (with how many had). The same against another cost of the trials'
  records: ``cost="wall_s"`` sums the trials' own wall-clock seconds (trial-seconds: two trials
  running side by side add both), in the same order.
- Cost to reach a target: per study, the cumulative cost at which its best-so-far first reaches
  a value (``reach_cost``); and where the mean over a method's seeds first reaches it
  (``mean_reach_cost``).
- Pareto fronts over methods (their means over seeds): the test metric (by its direction) against
  a cost (lower is better): energy of search + final training, p95 latency on the CPU, search USD.
  The constant predictor, a reference that costs nothing, is left out.

Trials are taken in the order they ended. A trial a scheduler stopped is recorded as ending when
the runner settles it, after all trials have run, so for it the order uses its start plus its
own wall-clock instead (else a multi-fidelity study's stopped trials would all count last).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from automl_bench.metric import ACCURACY, Metric
from automl_bench.tasks.constant import CONSTANT

GRID_POINTS = 25


def _energy(r: Mapping[str, Any]) -> float | None:
    return float(r["search_energy_kwh"] + r["final_energy_kwh"])


def _latency(r: Mapping[str, Any]) -> float | None:
    value = r.get("deploy_latency_ms_p95_cpu")
    return None if value is None else float(value)


def _search_usd(r: Mapping[str, Any]) -> float | None:
    return float(r["search_usd"])


FRONTS: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "energy_kwh": _energy,
    "latency_ms_p95_cpu": _latency,
    "search_usd": _search_usd,
}


# The costs a curve can be drawn against: figures of a trial's cost record.
COSTS = ("energy_kwh", "wall_s", "cpu_s", "core_s", "device_s", "co2_kg", "usd")
# Tolerance when comparing a best-so-far with a target (a mean of values can be off by rounding).
REACH_TOLERANCE = 1e-9


def _check_cost(cost: str) -> None:
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {', '.join(COSTS)}, not {cost!r}")


def trial_cost(line: Mapping[str, Any], cost: str = "energy_kwh") -> float:
    """A trial line's figure ``cost``: energy's total for ``energy_kwh``, else the number."""
    _check_cost(cost)
    value = line["cost"][cost]
    return float(value["total"] if isinstance(value, Mapping) else value)


def _ended(line: Mapping[str, Any]) -> str:
    """When a trial ended, as an ISO time that sorts: its recorded end; for a trial a scheduler
    stopped (recorded when the runner settles it, after every trial) its start + its wall-clock."""
    start, wall = line.get("start"), (line.get("cost") or {}).get("wall_s")
    if line.get("status") == "stopped" and start and wall is not None:
        try:
            began = datetime.fromisoformat(str(start))
        except ValueError:
            return str(line.get("end") or "")
        return (began + timedelta(seconds=float(wall))).isoformat(timespec="microseconds")
    return str(line.get("end") or "")


def best_so_far(
    trials: Sequence[Mapping[str, Any]], cost: str = "energy_kwh", metric: Metric = ACCURACY
) -> list[tuple[float, float | None]]:
    """(cumulative cost, best value so far) after each search trial, in the order they ended
    (``cost``: a figure of the trials' cost records, energy's total for ``energy_kwh``; best by
    ``metric``'s direction)."""
    _check_cost(cost)
    out: list[tuple[float, float | None]] = []
    spent, best = 0.0, None
    for t in sorted(trials, key=_ended):
        spent += trial_cost(t, cost)
        value = t.get("val_metric")
        if t["status"] == "ok" and value is not None:
            best = value if best is None else metric.best([best, value])
        out.append((spent, best))
    return out


def _at(curve: Sequence[tuple[float, float | None]], x: float) -> float | None:
    value = None
    for spent, best in curve:
        if spent > x:
            break
        value = best
    return value


def study_curves(
    lines: Sequence[Mapping[str, Any]], cost: str = "energy_kwh", metric: Metric = ACCURACY
) -> dict[tuple[str, int], list[tuple[float, float | None]]]:
    """(method, seed) -> its search trials' best-so-far curve against cumulative ``cost``."""
    by_study: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for line in lines:
        if line.get("phase") == "search":
            by_study.setdefault((line["method"], line["seed"]), []).append(line)
    return {key: best_so_far(trials, cost, metric) for key, trials in by_study.items()}


def anytime(
    lines: Sequence[Mapping[str, Any]],
    points: int = GRID_POINTS,
    cost: str = "energy_kwh",
    metric: Metric = ACCURACY,
) -> dict[str, Any]:
    """Method -> {"cost", "grid", "spent", "mean", "stderr", "seeds"} over its studies' search
    trials, against cumulative ``cost`` on a grid from 0 to the largest study's total, shared by
    every method ("spent": the most any of this method's studies spent). For ``energy_kwh`` the
    grid is also under "grid_kwh"."""
    curves = study_curves(lines, cost, metric)
    top = max((c[-1][0] for c in curves.values() if c), default=0.0)
    grid = [top * i / (points - 1) for i in range(points)] if top > 0 else []
    out: dict[str, Any] = {}
    for method in sorted({m for m, _ in curves}):
        seeds = [c for (m, _), c in curves.items() if m == method]
        mean: list[float | None] = []
        stderr: list[float | None] = []
        counts: list[int] = []
        for x in grid:
            values = [v for v in (_at(c, x) for c in seeds) if v is not None]
            counts.append(len(values))
            if not values:
                mean.append(None)
                stderr.append(None)
                continue
            mu = math.fsum(values) / len(values)
            mean.append(mu)
            if len(values) < 2:
                stderr.append(None)
            else:
                var = math.fsum((v - mu) ** 2 for v in values) / (len(values) - 1)
                stderr.append(math.sqrt(var / len(values)))
        # the most this method's studies spent: past it the curve only carries its last value
        curve: dict[str, Any] = {"cost": cost, "grid": grid, "spent": max(c[-1][0] for c in seeds)}
        if cost == "energy_kwh":
            curve["grid_kwh"] = grid
        curve.update({"mean": mean, "stderr": stderr, "seeds": counts})
        out[method] = curve
    return out


def _reached(best: float | None, target: float, metric: Metric = ACCURACY) -> bool:
    """``best`` is at least as good as ``target`` (by ``metric``'s direction)."""
    return best is not None and metric.sign * (best - target) >= -REACH_TOLERANCE


def reach_cost(
    lines: Sequence[Mapping[str, Any]],
    target: float,
    cost: str = "energy_kwh",
    metric: Metric = ACCURACY,
) -> dict[str, dict[int, float | None]]:
    """Method -> seed -> the cumulative search ``cost`` at which the study's best validation
    value so far first reaches ``target`` (at or above it for accuracy, at or below it for MSE;
    None if it never does)."""
    out: dict[str, dict[int, float | None]] = {}
    for (method, seed), curve in sorted(study_curves(lines, cost, metric).items()):
        out.setdefault(method, {})[seed] = next(
            (spent for spent, best in curve if _reached(best, target, metric)), None
        )
    return out


def mean_reach_cost(
    lines: Sequence[Mapping[str, Any]],
    target: float,
    cost: str = "energy_kwh",
    metric: Metric = ACCURACY,
) -> dict[str, float | None]:
    """Method -> the cumulative search ``cost`` at which the mean over its seeds of the best
    value so far first reaches ``target`` (None if it never does). The mean is taken only where
    every seed has a value; a study that has spent its budget keeps its last value."""
    by_method: dict[str, list[list[tuple[float, float | None]]]] = {}
    for (method, _), curve in sorted(study_curves(lines, cost, metric).items()):
        by_method.setdefault(method, []).append(curve)
    out: dict[str, float | None] = {}
    for method, curves in by_method.items():
        out[method] = None
        for x in sorted({spent for curve in curves for spent, _ in curve}):
            values = [_at(curve, x) for curve in curves]
            known = [v for v in values if v is not None]
            mean = math.fsum(known) / len(known) if known else None
            if len(known) == len(values) and _reached(mean, target, metric):
                out[method] = x
                break
    return out


def pareto_front(points: Mapping[str, tuple[float, float]], maximize: bool = True) -> list[str]:
    """Names whose (metric, cost) no other point beats: at least as good and as cheap, better in
    one (``maximize``: higher metric is better, else lower). Sorted by cost."""
    if not maximize:
        flipped = {name: (-value, cost) for name, (value, cost) in points.items()}
        return pareto_front(flipped)
    front = [
        name
        for name, (acc, cost) in points.items()
        if not any(
            (a >= acc and c <= cost) and (a > acc or c < cost)
            for other, (a, c) in points.items()
            if other != name
        )
    ]
    return sorted(front, key=lambda n: points[n][1])


def pareto_fronts(rows: Sequence[Mapping[str, Any]], metric: Metric = ACCURACY) -> dict[str, Any]:
    """Cost name -> {"points": method -> [test metric, cost] (means over seeds), "front": [...]}
    (the front by ``metric``'s direction)."""
    by_method: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if row["test_metric"] is not None and row["method"] != CONSTANT:
            by_method.setdefault(str(row["method"]), []).append(row)
    out: dict[str, Any] = {}
    for name, cost_of in FRONTS.items():
        points: dict[str, tuple[float, float]] = {}
        for method, method_rows in by_method.items():
            costs = [cost_of(r) for r in method_rows]
            known = [c for c in costs if c is not None]
            if len(known) < len(costs):
                continue
            accuracy = math.fsum(r["test_metric"] for r in method_rows) / len(method_rows)
            points[method] = (accuracy, math.fsum(known) / len(known))
        out[name] = {
            "points": {m: [a, c] for m, (a, c) in points.items()},
            "front": pareto_front(points, metric.sign > 0),
        }
    return out
