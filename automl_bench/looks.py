"""Seeds added until every call is decided: the looks of a run, and when it stops.

A run with ``seeds: {first, max}`` looks at its verdicts after its first seeds, and after every
seed it adds. Each look adds one seed for the reference method and for every method whose call
is still inconclusive (the pairing is kept: a method's seed always has the reference's beside
it); a decided method stops. The run stops when every call is decided, at ``max`` seeds, or at
a cap of ``verdict:`` (energy the nodes used, wall-clock), checked before a seed is added.

The seed interval the calls rest on is anytime-valid (``analysis.intervals``), so reading it
at every look does not erode its coverage. A run with a list of seeds has one look.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from automl_bench.analysis.verdict import INCONCLUSIVE

if TYPE_CHECKING:
    from automl_bench.schema import Summary

EVERY_CALL_DECIDED = "every call decided"
MAX_SEEDS = "max seeds reached"
ENERGY_CAP = "energy cap reached"
WALL_CAP = "wall-clock cap reached"
ONE_LOOK = "a fixed list of seeds"


@dataclass(frozen=True)
class Look:
    """One look: the seeds run by then, and each judged method's interval and call."""

    index: int
    seeds: list[int]  # the seeds added at this look
    labels: list[str]  # the study labels that ran at this look
    seeds_so_far: int  # the reference's seeds after this look
    calls: dict[str, str]  # label -> call, every judged label
    delta: dict[str, dict[str, Any]]  # label -> {"estimate", "ci95", "n"} of delta_points
    energy_kwh: float  # what the nodes had used by the end of this look
    wall_s: float  # since the run started

    def to_dict(self) -> dict[str, Any]:
        return {
            "look": self.index,
            "seeds": self.seeds,
            "labels": self.labels,
            "seeds_so_far": self.seeds_so_far,
            "calls": self.calls,
            "delta": self.delta,
            "energy_kwh": self.energy_kwh,
            "wall_s": self.wall_s,
        }


@dataclass(frozen=True)
class Caps:
    max_seeds: int
    max_energy_kwh: float | None = None
    max_wall_s: float | None = None


@dataclass
class Looks:
    """The looks so far, and the stop."""

    caps: Caps
    taken: list[Look] = field(default_factory=list)
    stopped: str | None = None

    def record(
        self,
        seeds: Sequence[int],
        labels: Sequence[str],
        verdicts: Mapping[str, Mapping[str, Any]],
        seeds_so_far: int,
        energy_kwh: float,
        wall_s: float,
    ) -> Look:
        look = Look(
            len(self.taken),
            list(seeds),
            list(labels),
            seeds_so_far,
            {label: str(v["call"]) for label, v in verdicts.items()},
            {
                label: {
                    "estimate": v["delta_points"]["estimate"],
                    "ci95": v["delta_points"]["ci95"],
                    "n": v["delta_points"]["n"],
                }
                for label, v in verdicts.items()
                if "delta_points" in v
            },
            energy_kwh,
            wall_s,
        )
        self.taken.append(look)
        return look

    def undecided(self) -> list[str]:
        """The labels whose call at the last look is inconclusive."""
        if not self.taken:
            return []
        return [label for label, call in self.taken[-1].calls.items() if call == INCONCLUSIVE]

    def stop_reason(self) -> str | None:
        """Why no seed is added after the last look, or None: add one."""
        last = self.taken[-1]
        caps = self.caps
        if not self.undecided():
            return EVERY_CALL_DECIDED
        if last.seeds_so_far >= caps.max_seeds:
            return MAX_SEEDS
        if caps.max_energy_kwh is not None and last.energy_kwh >= caps.max_energy_kwh:
            return ENERGY_CAP
        if caps.max_wall_s is not None and last.wall_s >= caps.max_wall_s:
            return WALL_CAP
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_seeds": self.caps.max_seeds,
            "max_energy_kwh": self.caps.max_energy_kwh,
            "max_wall_s": self.caps.max_wall_s,
            "stopped": self.stopped,
            "looks": [look.to_dict() for look in self.taken],
        }


def looks_words(summary: Summary) -> str | None:
    """A run that added seeds until decided: how far it went, why it stopped, and what finding
    out cost (the benchmark's own cost); None for a fixed list of seeds."""
    looks = summary.looks
    if looks is None:
        return None
    bench = looks.benchmark
    seeds = ", ".join(f"{label} {n}" for label, n in bench.seeds.items())
    every, added = bench.all_seeds, bench.added_seeds
    node = summary.cost.node
    limits = [f"max {looks.max_seeds} seeds"]
    if looks.max_energy_kwh is not None:
        limits.append(f"{looks.max_energy_kwh:g} kWh")
    if looks.max_wall_s is not None:
        limits.append(f"{looks.max_wall_s:g} s")
    return (
        f"Seeds added until decided: {len(looks.looks)} looks, stopped: {looks.stopped} "
        f"(limits: {', '.join(limits)}). Seeds per method: {seeds}. Finding out took "
        f"{summary.wall_s:.0f} s; the nodes used {node.energy_kwh.total:.3g} kWh "
        f"(USD {node.usd:.3g}) in all, the studies' training {every.energy_kwh.total:.3g} "
        f"kWh, of which the seeds added after the first look {added.energy_kwh.total:.3g} "
        f"kWh (USD {added.usd:.3g})."
    )
