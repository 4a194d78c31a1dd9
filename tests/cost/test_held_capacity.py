"""Held seconds follow the attribution rule's scaling (issue 14): when the open windows hold more
CPUs, or more of a GPU, than the node has (the driver's decide windows come on top of trials),
their ``core_s`` and ``device_s`` are scaled down exactly as their energy is, so the windows'
held seconds never exceed the node's capacity."""

from __future__ import annotations

import pytest

from automl_bench.cost.attribution import Holding, Reading, split


def test_held_seconds_are_scaled_down_like_energy_on_an_oversubscribed_node() -> None:
    reading = Reading(cpu_kwh=1.0, ram_kwh=0.5, gpu_kwh={0: 2.0, 1: 1.0})
    holdings = {
        "trial-a": Holding(cpus=2, gpus={0: 1.0}),
        "trial-b": Holding(cpus=2, gpus={0: 0.5, 1: 0.5}),
        "decide": Holding(cpus=1),  # the driver's, on top: 5 CPUs held on a 4-CPU node
    }
    shares, idle = split(reading, 10.0, holdings, node_cpus=4, node_gpus=2)
    # CPU: 5 held on 4, every window scaled by 4/5, its core_s as its energy
    for key, h in holdings.items():
        fraction = shares[key].cpu_kwh / reading.cpu_kwh
        assert fraction == pytest.approx(h.cpus / 5)
        assert shares[key].core_s == pytest.approx(fraction * 4 * 10)
    assert sum(s.core_s for s in shares.values()) == pytest.approx(4 * 10)
    assert idle.core_s == 0.0
    # GPU 0: 1.5 held on one device, scaled by 1/1.5; GPU 1: 0.5 held, not scaled
    assert shares["trial-a"].device_s == pytest.approx(10 / 1.5)
    assert shares["trial-b"].device_s == pytest.approx(0.5 * 10 / 1.5 + 0.5 * 10)
    assert shares["trial-a"].gpu_kwh / 2.0 == pytest.approx(shares["trial-a"].device_s / 10)
    assert shares["decide"].device_s == 0.0
    held = sum(s.device_s for s in shares.values())
    assert held == pytest.approx(10 + 5)  # never past 2 GPUs x 10 s
    assert held + idle.device_s == pytest.approx(2 * 10)  # GPU 1's free half is idle


def test_held_seconds_are_what_was_held_when_the_node_has_room() -> None:
    reading = Reading(cpu_kwh=1.0, gpu_kwh={0: 1.0})
    holdings = {"a": Holding(cpus=1, gpus={0: 0.25}), "b": Holding(cpus=2, gpus={0: 0.25})}
    shares, idle = split(reading, 4.0, holdings, node_cpus=4, node_gpus=1)
    assert (shares["a"].core_s, shares["a"].device_s) == pytest.approx((4.0, 1.0))
    assert (shares["b"].core_s, shares["b"].device_s) == pytest.approx((8.0, 1.0))
    assert (idle.core_s, idle.device_s) == pytest.approx((4.0, 2.0))


def test_a_node_that_reports_no_cpus_keeps_what_its_windows_hold() -> None:
    shares, _ = split(Reading(cpu_kwh=1.0), 2.0, {"a": Holding(cpus=1)}, node_cpus=0, node_gpus=0)
    assert shares["a"].core_s == pytest.approx(2.0)
