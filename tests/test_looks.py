"""When a run that adds seeds until decided stops, and what each look records."""

from __future__ import annotations

from typing import Any

from automl_bench.looks import (
    ENERGY_CAP,
    EVERY_CALL_DECIDED,
    MAX_SEEDS,
    WALL_CAP,
    Caps,
    Looks,
)


def _verdict(call: str, low: float = -1.0, high: float = 3.0, n: int = 3) -> dict[str, Any]:
    return {
        "call": call,
        "delta_points": {"estimate": (low + high) / 2, "ci95": [low, high], "n": n},
    }


def _look(
    looks: Looks, calls: dict[str, str], seeds: int, kwh: float = 0.0, wall: float = 0.0
) -> None:
    looks.record(
        [seeds - 1],
        ["baseline", *calls],
        {k: _verdict(c) for k, c in calls.items()},
        seeds,
        kwh,
        wall,
    )


def test_it_stops_when_every_call_is_decided() -> None:
    looks = Looks(Caps(max_seeds=10))
    _look(looks, {"tpe": "inconclusive", "defaults": "not worth it"}, 3)
    assert looks.stop_reason() is None and looks.undecided() == ["tpe"]
    _look(looks, {"tpe": "worth it", "defaults": "not worth it"}, 4)
    assert looks.stop_reason() == EVERY_CALL_DECIDED and looks.undecided() == []


def test_it_stops_at_max_seeds_and_at_the_caps() -> None:
    undecided = {"tpe": "inconclusive"}
    at_max = Looks(Caps(max_seeds=4))
    _look(at_max, undecided, 4)
    assert at_max.stop_reason() == MAX_SEEDS
    energy = Looks(Caps(max_seeds=20, max_energy_kwh=0.5))
    _look(energy, undecided, 3, kwh=0.4)
    assert energy.stop_reason() is None
    _look(energy, undecided, 4, kwh=0.6)
    assert energy.stop_reason() == ENERGY_CAP
    wall = Looks(Caps(max_seeds=20, max_wall_s=60.0))
    _look(wall, undecided, 3, wall=61.0)
    assert wall.stop_reason() == WALL_CAP


def test_a_look_records_each_call_and_interval() -> None:
    looks = Looks(Caps(max_seeds=5))
    _look(looks, {"tpe": "inconclusive"}, 3, kwh=0.1, wall=12.0)
    record = looks.to_dict()
    look = record["looks"][0]
    assert look["calls"] == {"tpe": "inconclusive"} and look["seeds_so_far"] == 3
    assert look["delta"]["tpe"] == {"estimate": 1.0, "ci95": [-1.0, 3.0], "n": 3}
    assert record["max_seeds"] == 5 and look["energy_kwh"] == 0.1 and look["wall_s"] == 12.0
