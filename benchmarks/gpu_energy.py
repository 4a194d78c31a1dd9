"""GPU energy: does the tool's figure for a training burst match NVML's own counter?

On a machine with an NVIDIA GPU: one node meter (CodeCarbon, as in a run), one window holding the
whole GPU around a ~10 s training burst (a 32-wide CNN on CIFAR-shaped data resident on the GPU),
and NVML's total-energy counter read directly just before the window opens and just after it
closes. Target: the two agree within 2%. Prints one JSON line (and writes it to $OUT if set).

    python benchmarks/gpu_energy.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pynvml  # type: ignore[import-untyped]
import torch
from torch import nn

from automl_bench.cost.attribution import Holding
from automl_bench.cost.node_meter import NodeMeter
from automl_bench.cost.prices import Prices
from automl_bench.cost.sources import CodeCarbonSource
from automl_bench.cost.window import LocalWindowMeter, metered


def burst(seconds: float) -> int:
    device = torch.device("cuda")
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
    x = torch.randn(512, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (512,), device=device)
    steps, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        steps += 1
        if steps % 20 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    torch.zeros(1, device="cuda")  # CUDA initialised outside the window
    burst(1.0)  # warm-up
    source = CodeCarbonSource("USA", Path(tempfile.mkdtemp()))
    node = NodeMeter(source, float(os.cpu_count() or 1), source.gpu_count)
    meter = LocalWindowMeter(node, Holding(cpus=1.0, gpus={0: 1.0}))
    prices = Prices(0.0, 0.0, 0.0, 0.0, 1.0)
    before = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)  # mJ
    with metered(meter, prices) as m:
        steps = burst(args.seconds)
    after = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    nvml_j = (after - before) / 1000.0
    tool_j = m.record.energy_kwh_gpu * 3.6e6
    result = {
        "check": "gpu_burst",
        "card": torch.cuda.get_device_name(0),
        "seconds": m.record.wall_s,
        "steps": steps,
        "tool_gpu_j": tool_j,
        "nvml_delta_j": nvml_j,
        "ratio": tool_j / nvml_j,
        "mean_power_w": nvml_j / m.record.wall_s,
        "measured": dict(m.record.measured),
        "torch": torch.__version__,
        "driver": pynvml.nvmlSystemGetDriverVersion(),
    }
    line = json.dumps(result)
    print(line)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_burst.json").write_text(line + "\n")


if __name__ == "__main__":
    main()
