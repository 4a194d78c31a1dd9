"""Does the deploy record's latency tell a small model from a large one? Measured in one run.

Two models of very different sizes (a 40x10 linear layer, about 400 parameters; six 1024x1024
layers, about 6.3 million) go through ``deploy.measure.device_figures`` on the CPU with one
thread at batch size 64, the way a final model's deploy record is measured. It prints each
model's p50 latency and throughput and the ratios large / small. On our 2-core machines the
large model's p50 is far above 10x the small one's; a ratio near 1 would mean the timing
measures overhead, not the model.

    python benchmarks/latency_order.py [--seconds 0.5]
    python benchmarks/latency_order.py --smoke     # 0.05 s per model: checks that it runs
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from automl_bench.deploy.measure import device_figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="timing per model")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks it works")
    args = parser.parse_args()
    seconds = 0.05 if args.smoke else args.seconds
    torch.manual_seed(0)
    small = nn.Linear(40, 10)
    large = nn.Sequential(*[m for _ in range(6) for m in (nn.Linear(1024, 1024), nn.ReLU())])
    fast = device_figures(small, torch.randn(256, 40), 64, threads=1, seconds=seconds)
    slow = device_figures(large, torch.randn(256, 1024), 64, threads=1, seconds=seconds)
    for name, figures in (("small", fast), ("large", slow)):
        print(
            f"{name}: p50 {figures.latency_ms_p50:.3f} ms, "
            f"{figures.throughput_per_s:,.0f} predictions/s"
        )
    print(f"ratio large/small p50 latency: {slow.latency_ms_p50 / fast.latency_ms_p50:.1f}x")
    print(f"ratio small/large throughput: {fast.throughput_per_s / slow.throughput_per_s:.1f}x")


if __name__ == "__main__":
    main()
