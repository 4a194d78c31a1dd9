"""The attribution rule: how a node's measured energy is shared between the windows that ran on it.

A node meter reads the node's energy at every window boundary (a trial or phase opening or
closing), so between two readings the set of open windows does not change. The energy of each
such interval is shared like this:

- CPU and RAM energy: each open window gets the fraction ``cpus held / node CPUs``. When the
  windows hold more CPUs than the node has (the driver's own windows come on top of trials), the
  fractions are scaled down to sum to one.
- GPU energy, per device: each window gets ``its share of that GPU`` (0.25 for a quarter GPU);
  scaled down the same way if the shares on a device exceed one.
- What no window held (CPUs or GPU shares left free, intervals with no window open: start-up,
  workers between trials, the driver's bookkeeping) is **idle / overhead**, a line of its own.

By construction the windows' energy plus idle / overhead equals the node's measured energy.
Capacity-seconds follow the same rule: a window holds ``cpus x seconds`` (``core_s``) and
``GPU share x seconds`` (``device_s``), scaled down exactly as its energy is when the windows
hold more than the node has, so that the windows' held seconds never exceed the node's capacity
(``node CPUs x seconds``, ``1 x seconds`` per GPU); what nobody held is idle capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Holding:
    """What a window holds on its node: logical CPUs, and a share of each GPU by device index."""

    cpus: float
    gpus: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Reading:
    """A node's energy since the previous reading: CPU, RAM, and each GPU by device index."""

    cpu_kwh: float = 0.0
    ram_kwh: float = 0.0
    gpu_kwh: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Energy:
    """Energy and held capacity over a stretch of time (a window's share, idle, or a node)."""

    wall_s: float = 0.0
    core_s: float = 0.0
    device_s: float = 0.0
    cpu_kwh: float = 0.0
    gpu_kwh: float = 0.0
    ram_kwh: float = 0.0

    @property
    def kwh(self) -> float:
        return self.cpu_kwh + self.gpu_kwh + self.ram_kwh

    def __add__(self, other: Energy) -> Energy:
        return Energy(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def split(
    reading: Reading,
    seconds: float,
    holdings: Mapping[str, Holding],
    node_cpus: float,
    node_gpus: int,
) -> tuple[dict[str, Energy], Energy]:
    """Share one interval's energy between the windows open in it; returns (shares, idle)."""
    held_cpus = sum(h.cpus for h in holdings.values())
    cpu_scale = 1.0 / max(node_cpus, held_cpus) if max(node_cpus, held_cpus) > 0 else 0.0
    devices = set(range(node_gpus)) | set(reading.gpu_kwh)
    for h in holdings.values():
        devices |= set(h.gpus)
    gpu_held = {d: sum(h.gpus.get(d, 0.0) for h in holdings.values()) for d in devices}
    # held CPUs past the node's count are scaled down like the energy (a node that reports no
    # CPUs has no capacity to scale to: its windows keep what they hold)
    core_scale = node_cpus / held_cpus if 0 < node_cpus < held_cpus else 1.0
    shares: dict[str, Energy] = {}
    for key, h in holdings.items():
        cpu_fraction = h.cpus * cpu_scale
        gpu_kwh = sum(
            reading.gpu_kwh.get(d, 0.0) * share / max(1.0, gpu_held[d])
            for d, share in h.gpus.items()
        )
        shares[key] = Energy(
            wall_s=seconds,
            core_s=h.cpus * core_scale * seconds,
            device_s=sum(share / max(1.0, gpu_held[d]) for d, share in h.gpus.items()) * seconds,
            cpu_kwh=reading.cpu_kwh * cpu_fraction,
            gpu_kwh=gpu_kwh,
            ram_kwh=reading.ram_kwh * cpu_fraction,
        )
    gpu_total = sum(reading.gpu_kwh.values())
    idle = Energy(
        wall_s=seconds,
        core_s=max(0.0, node_cpus - held_cpus) * seconds,
        device_s=sum(max(0.0, 1.0 - gpu_held.get(d, 0.0)) for d in range(node_gpus)) * seconds,
        cpu_kwh=reading.cpu_kwh - sum(s.cpu_kwh for s in shares.values()),
        gpu_kwh=gpu_total - sum(s.gpu_kwh for s in shares.values()),
        ram_kwh=reading.ram_kwh - sum(s.ram_kwh for s in shares.values()),
    )
    return shares, idle
