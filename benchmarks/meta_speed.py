"""MAML's second-order meta-iteration against first-order MAML's (FOMAML), in seconds, measured
in one run on the sinusoid family (meta-batch, K and inner steps at MetaSettings' defaults).

Each side: a warm-up step, then ``--repeats`` timings of ``--steps`` steps on the same task
batches; it prints the median seconds per step of each side, the spread over repeats, and the
ratio of the medians (the second-order graph makes it > 1; about 1.2x to 2x on a CPU). The unit
tests hold what does not depend on the clock: the second-order graph holds more memory.

    python benchmarks/meta_speed.py [--repeats 5] [--steps 20]
    python benchmarks/meta_speed.py --smoke     # one repeat of two steps: checks that it runs
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from automl_bench.meta import MetaSettings, init_params, maml_step, sample_tasks


def seconds_per_step(settings: MetaSettings, repeats: int, steps: int) -> list[float]:
    """Seconds per meta-iteration, one figure per repeat, each from a fresh initialisation."""
    gen = torch.Generator().manual_seed(0)
    batches = [
        sample_tasks(settings.meta_batch, settings.k_shot, settings.k_shot, gen)
        for _ in range(steps)
    ]
    figures = []
    for _ in range(repeats):
        params = init_params(0)
        optimizer = torch.optim.Adam(list(params.values()), lr=settings.outer_lr)
        maml_step(params, optimizer, batches[0], settings)  # warm-up
        start = time.perf_counter()
        for batch in batches:
            maml_step(params, optimizer, batch, settings)
        figures.append((time.perf_counter() - start) / steps)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20, help="meta-iterations per timing")
    parser.add_argument("--smoke", action="store_true", help="one repeat of two steps")
    args = parser.parse_args()
    repeats, steps = (1, 2) if args.smoke else (args.repeats, args.steps)
    torch.set_num_threads(1)
    second = seconds_per_step(MetaSettings(iterations=1, first_order=False), repeats, steps)
    first = seconds_per_step(MetaSettings(iterations=1, first_order=True), repeats, steps)
    for name, figures in (("second order (MAML)", second), ("first order (FOMAML)", first)):
        print(
            f"{name}: {1e3 * statistics.median(figures):.2f} ms per iteration "
            f"(range {1e3 * min(figures):.2f}-{1e3 * max(figures):.2f} over {repeats} repeats)"
        )
    ratio = statistics.median(second) / statistics.median(first)
    print(f"ratio second/first-order time per iteration: {ratio:.2f}x")


if __name__ == "__main__":
    main()
