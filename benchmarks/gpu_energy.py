"""GPU energy: does the tool's figure for a training burst match NVML's own counter?

On a machine with an NVIDIA GPU: one node meter (CodeCarbon, as in a run), one window holding the
whole GPU around a ~10 s training burst (a 32-wide CNN on CIFAR-shaped data resident on the GPU),
and NVML's total-energy counter read directly just before the window opens and just after it
closes. Target: the two agree within 2%. Prints one JSON line (and writes it to $OUT if set).

``--smoke-on-cpu`` measures nothing about a GPU: it runs the same code path (the node meter, the
window, the record's fields) around a 0.5 s burst of the same network on the CPU, without NVML,
so that a renamed field or API fails here rather than on the next GPU machine.

    python benchmarks/gpu_energy.py [--seconds 10]
    python benchmarks/gpu_energy.py --smoke-on-cpu
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automl_bench.cost.attribution import Holding
from automl_bench.cost.node_meter import NodeMeter
from automl_bench.cost.prices import Prices
from automl_bench.cost.sources import CodeCarbonSource
from automl_bench.cost.window import LocalWindowMeter, metered


def burst(seconds: float, device: torch.device) -> int:
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    ).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    n = 512 if device.type == "cuda" else 32
    x = torch.randn(n, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (n,), device=device)
    steps, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        steps += 1
        if steps % 20 == 0 and device.type == "cuda":
            torch.cuda.synchronize()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps


def window_meter(device: torch.device) -> LocalWindowMeter:
    """A node meter (CodeCarbon, started: its 2-3 s of probing are done) and a window on it
    holding the whole device and one CPU, as a trial's is."""
    source = CodeCarbonSource("USA", Path(tempfile.mkdtemp()))
    node = NodeMeter(source, float(os.cpu_count() or 1), source.gpu_count)
    gpus = {0: 1.0} if device.type == "cuda" else {}
    return LocalWindowMeter(node, Holding(cpus=1.0, gpus=gpus))


def metered_burst(meter: LocalWindowMeter, seconds: float, device: torch.device) -> tuple[Any, int]:
    """(the window's cost record, the steps run) of a burst."""
    with metered(meter, Prices(0.0, 0.0, 0.0, 0.0, 1.0)) as m:
        steps = burst(seconds, device)
    return m.record, steps


def smoke_on_cpu() -> None:
    """The code path of the GPU check on the CPU: it says nothing about a GPU."""
    cpu = torch.device("cpu")
    record, steps = metered_burst(window_meter(cpu), 0.5, cpu)
    result = {
        "check": "gpu_burst_smoke_on_cpu",
        "seconds": record.wall_s,
        "steps": steps,
        "tool_gpu_j": record.energy_kwh_gpu * 3.6e6,
        "tool_cpu_j": record.energy_kwh_cpu * 3.6e6,
        "measured": dict(record.measured),
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--smoke-on-cpu", action="store_true", help="the code path on the CPU, no GPU measured"
    )
    args = parser.parse_args()
    if args.smoke_on_cpu:
        smoke_on_cpu()
        return
    import pynvml  # type: ignore[import-untyped]

    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    cuda = torch.device("cuda")
    torch.zeros(1, device=cuda)  # CUDA initialised outside the window
    burst(1.0, cuda)  # warm-up
    meter = window_meter(cuda)
    before = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)  # mJ
    record, steps = metered_burst(meter, args.seconds, cuda)
    after = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    nvml_j = (after - before) / 1000.0
    tool_j = record.energy_kwh_gpu * 3.6e6
    result = {
        "check": "gpu_burst",
        "card": torch.cuda.get_device_name(0),
        "seconds": record.wall_s,
        "steps": steps,
        "tool_gpu_j": tool_j,
        "nvml_delta_j": nvml_j,
        "ratio": tool_j / nvml_j,
        "mean_power_w": nvml_j / record.wall_s,
        "measured": dict(record.measured),
        "torch": torch.__version__,
        "driver": pynvml.nvmlSystemGetDriverVersion(),
    }
    line = json.dumps(result)
    print(line)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_burst.json").write_text(line + "\n")


if __name__ == "__main__":
    main()
