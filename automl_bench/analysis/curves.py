"""Anytime curves and Pareto fronts, from results.csv rows and trials.jsonl lines.

- Anytime: per study, the best validation metric so far against the cumulative energy of its
  search (failed trials add cost, never a value), read on a fixed grid of energies shared by every
  method of the experiment; the mean and standard error over seeds at each grid point where at
  least one seed has a value (with how many had).
- Pareto fronts over methods (their means over seeds): test accuracy (higher is better) against a
  cost (lower is better): energy of search + final training, p95 latency on the CPU, search USD.
  The constant predictor, a reference that costs nothing, is left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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


def best_so_far(trials: Sequence[Mapping[str, Any]]) -> list[tuple[float, float | None]]:
    """(cumulative kWh, best value so far) after each search trial, in the order they ended."""
    out: list[tuple[float, float | None]] = []
    spent, best = 0.0, None
    for t in sorted(trials, key=lambda t: t["end"] or ""):
        spent += float(t["cost"]["energy_kwh"]["total"])
        value = t.get("val_metric")
        if t["status"] == "ok" and value is not None:
            best = value if best is None else max(best, value)
        out.append((spent, best))
    return out


def _at(curve: Sequence[tuple[float, float | None]], x: float) -> float | None:
    value = None
    for spent, best in curve:
        if spent > x:
            break
        value = best
    return value


def anytime(lines: Sequence[Mapping[str, Any]], points: int = GRID_POINTS) -> dict[str, Any]:
    """Method -> {"grid_kwh", "mean", "stderr", "seeds"} over its studies' search trials."""
    by_study: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for line in lines:
        if line.get("phase") == "search":
            by_study.setdefault((line["method"], line["seed"]), []).append(line)
    curves = {key: best_so_far(trials) for key, trials in by_study.items()}
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
        out[method] = {"grid_kwh": grid, "mean": mean, "stderr": stderr, "seeds": counts}
    return out


def pareto_front(points: Mapping[str, tuple[float, float]]) -> list[str]:
    """Names whose (accuracy, cost) no other point beats: at least as accurate and as cheap,
    better in one. Sorted by cost."""
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


def pareto_fronts(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Cost name -> {"points": method -> [accuracy, cost] (means over seeds), "front": [...]}."""
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
            "front": pareto_front(points),
        }
    return out
