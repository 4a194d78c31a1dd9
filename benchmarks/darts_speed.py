"""DARTS' second-order epoch against its first-order one, in seconds, measured in one run: the
NB-201 supernet (4 channels, one cell per stage) on ``digits`` as 1x8x8 images.

Each repeat runs one epoch of each order on the first ``--examples`` training examples (and as
many validation examples),
interleaved (first, second, first, ...), each from the same seed, after a warm-up epoch of each
order on 16 examples, on one thread; it prints the median seconds
per epoch of each order, their range, and the ratio of the medians (the unrolled step makes the
second order slower; about 1.5x to 2x on a CPU). The unit tests hold what does not depend on the
clock: the second-order gradient matches the exact unrolled one.

    python benchmarks/darts_speed.py [--repeats 3] [--examples 384]
    python benchmarks/darts_speed.py --smoke     # one repeat on 64 examples: checks that it runs
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"channels": 4, "cells_per_stage": 1}


def epoch_seconds(order: int, examples: int, cache: Path) -> float:
    """The wall-clock of one DARTS epoch of ``order`` on ``examples`` training examples."""
    from automl_bench import load_search_space
    from automl_bench.methods.darts import DartsSettings, darts_search
    from automl_bench.tasks import load_task

    space = load_search_space(ROOT / "search_spaces" / "nb201.py")
    data = load_task("digits_image", 0, cache)
    assert space.supernet is not None, "nb201.py defines a supernet"
    torch.manual_seed(0)
    net = space.supernet({**space.baseline, **SMALL}, data.info)
    x, y = data.x_train[:examples], data.y_train[:examples]
    xv, yv = data.x_val[:examples], data.y_val[:examples]
    result = darts_search(net, x, y, xv, yv, DartsSettings(epochs=1, order=order), 0)
    return float(result.history[0].wall_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--examples", type=int, default=384, help="training examples per epoch")
    parser.add_argument("--smoke", action="store_true", help="one repeat on 64 examples")
    args = parser.parse_args()
    repeats, examples = (1, 64) if args.smoke else (args.repeats, args.examples)
    torch.set_num_threads(1)
    times: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="automl-bench-darts-") as cache:
        for order in (1, 2):
            epoch_seconds(order, 16, Path(cache))  # warm-up: data, imports, first calls
        for _ in range(repeats):
            for order in (1, 2):
                times[order].append(epoch_seconds(order, examples, Path(cache)))
    for order, name in ((2, "second order"), (1, "first order")):
        figures = times[order]
        print(
            f"{name}: {statistics.median(figures):.3f} s per epoch on {examples} examples "
            f"(range {min(figures):.3f}-{max(figures):.3f} over {repeats} repeats)"
        )
    ratio = statistics.median(times[2]) / statistics.median(times[1])
    print(f"ratio second/first-order time per epoch: {ratio:.2f}x")


if __name__ == "__main__":
    main()
