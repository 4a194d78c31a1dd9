"""The attribution rule and the node meter, driven by a scripted power source and clock."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from automl_bench.cost.attribution import Energy, Holding, Reading, split
from automl_bench.cost.node_meter import NodeMeter

J_PER_KWH = 3.6e6


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ScriptedPower:
    """Constant power per part (watts), GPU per device; energy = power x time on ``clock``."""

    def __init__(self, clock: Clock, cpu_w: float, ram_w: float, gpu_w: dict[int, float]) -> None:
        self.clock, self.cpu_w, self.ram_w, self.gpu_w = clock, cpu_w, ram_w, gpu_w
        self.last = clock()

    @property
    def measured(self) -> Mapping[str, str]:
        return {"cpu": "tdp-estimate", "gpu": "nvml", "ram": "estimate"}

    def read(self) -> Reading:
        seconds, self.last = self.clock() - self.last, self.clock()
        return Reading(
            cpu_kwh=self.cpu_w * seconds / J_PER_KWH,
            ram_kwh=self.ram_w * seconds / J_PER_KWH,
            gpu_kwh={d: w * seconds / J_PER_KWH for d, w in self.gpu_w.items()},
        )


def kwh(watts: float, seconds: float) -> float:
    return watts * seconds / J_PER_KWH


def test_overlapping_windows_share_by_what_they_hold() -> None:
    clock = Clock()
    power = ScriptedPower(clock, cpu_w=100, ram_w=20, gpu_w={0: 300})
    meter = NodeMeter(power, node_cpus=4, node_gpus=1, clock=clock)
    meter.open("a", Holding(cpus=2, gpus={0: 0.5}))  # t=0
    clock.now = 10
    meter.open("b", Holding(cpus=2, gpus={0: 0.25}))
    clock.now = 20
    a = meter.close("a")
    clock.now = 30
    b = meter.close("b")
    clock.now = 40
    totals = meter.totals()

    # a: alone for 10 s, then 10 s beside b; half the CPUs all along, half the GPU
    assert a.cpu_kwh == pytest.approx(kwh(100, 20) / 2)
    assert a.ram_kwh == pytest.approx(kwh(20, 20) / 2)
    assert a.gpu_kwh == pytest.approx(kwh(300, 20) * 0.5)
    assert (a.wall_s, a.core_s, a.device_s) == pytest.approx((20, 40, 10))
    # b: 20 s at half the CPUs and a quarter of the GPU
    assert b.cpu_kwh == pytest.approx(kwh(100, 20) / 2)
    assert b.gpu_kwh == pytest.approx(kwh(300, 20) * 0.25)
    assert (b.wall_s, b.core_s, b.device_s) == pytest.approx((20, 40, 5))
    # idle: the free half of the CPUs in 0-10 and 20-30, everything in 30-40; free GPU shares
    assert totals.idle.cpu_kwh == pytest.approx(kwh(100, 10) / 2 * 2 + kwh(100, 10))
    assert totals.idle.gpu_kwh == pytest.approx(
        kwh(300, 10) * 0.5 + kwh(300, 10) * 0.25 + kwh(300, 10) * 0.75 + kwh(300, 10)
    )
    assert totals.idle.core_s == pytest.approx(2 * 10 + 0 + 2 * 10 + 4 * 10)
    # the invariant: windows plus idle are the node's measured energy, exactly
    assert totals.node.kwh == pytest.approx(kwh(100 + 20 + 300, 40))
    assert totals.windows.kwh + totals.idle.kwh == pytest.approx(totals.node.kwh, rel=1e-12)
    assert totals.windows.kwh == pytest.approx(a.kwh + b.kwh)
    assert totals.open_count == 0 and totals.unaccounted_kwh == pytest.approx(0, abs=1e-15)


def test_an_oversubscribed_node_is_shared_without_creating_energy() -> None:
    reading = Reading(cpu_kwh=3.0, ram_kwh=0.3, gpu_kwh={0: 1.0})
    holdings = {
        "t1": Holding(1, {0: 0.75}),
        "t2": Holding(1, {0: 0.75}),
        "driver": Holding(1),  # the driver's sampler on top of two 1-CPU trials on 2 CPUs
    }
    shares, idle = split(reading, 1.0, holdings, node_cpus=2, node_gpus=1)
    assert [s.cpu_kwh for s in shares.values()] == pytest.approx([1.0, 1.0, 1.0])
    assert shares["t1"].gpu_kwh == pytest.approx(0.5)  # 0.75 / 1.5 of the device
    assert shares["driver"].gpu_kwh == 0
    assert idle.kwh == pytest.approx(0, abs=1e-12)
    assert sum(s.kwh for s in shares.values()) == pytest.approx(4.3)


def test_each_gpu_is_shared_between_the_windows_on_it() -> None:
    reading = Reading(cpu_kwh=0.0, gpu_kwh={0: 2.0, 1: 1.0})
    holdings = {"on0": Holding(1, {0: 1.0}), "on1a": Holding(1, {1: 0.5})}
    shares, idle = split(reading, 10.0, holdings, node_cpus=8, node_gpus=2)
    assert shares["on0"].gpu_kwh == pytest.approx(2.0)
    assert shares["on1a"].gpu_kwh == pytest.approx(0.5)
    assert idle.gpu_kwh == pytest.approx(0.5)
    assert idle.device_s == pytest.approx(5.0)  # half of GPU 1 for 10 s
    assert idle.core_s == pytest.approx(60.0)


def test_a_window_never_closed_is_its_own_line_not_idle() -> None:
    clock = Clock()
    meter = NodeMeter(ScriptedPower(clock, 50, 0, {}), node_cpus=1, clock=clock)
    clock.now = 5
    meter.open("lost", Holding(1))
    clock.now = 15
    totals = meter.totals()
    assert totals.open_count == 1
    assert totals.open_windows.cpu_kwh == pytest.approx(kwh(50, 10))
    assert totals.idle.cpu_kwh == pytest.approx(kwh(50, 5))
    assert totals.unaccounted_kwh == pytest.approx(0, abs=1e-15)


def test_windows_are_named_once() -> None:
    meter = NodeMeter(ScriptedPower(Clock(), 1, 1, {}), node_cpus=1, clock=Clock())
    meter.open("w", Holding(1))
    with pytest.raises(ValueError, match="already open"):
        meter.open("w", Holding(1))
    meter.close("w")
    with pytest.raises(ValueError, match="not open"):
        meter.close("w")


def test_energy_adds_up_field_by_field() -> None:
    e = Energy(1, 2, 3, 4, 5, 6) + Energy(1, 1, 1, 1, 1, 1)
    assert e == Energy(2, 3, 4, 5, 6, 7) and e.kwh == 18
