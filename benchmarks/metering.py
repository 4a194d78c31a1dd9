"""What metering costs a trial, measured in one run on a local Ray (target: <= 1% of a 10 s trial).

A trial pays for metering in three ways, each measured here:

1. its own calls: finding its node's meter (once per trial) and opening and closing a window (two
   calls to the meter actor, each a CodeCarbon reading), timed inside Ray tasks holding one CPU;
2. the meter's background work while the trial runs (CodeCarbon's 1 s utilisation sampling in the
   meter actor), as the actor process's CPU seconds over a 10 s trial;
3. end to end: the same fixed amount of training timed with and without a window around it,
   alternating, the median ratio of the pairs (noisy on a shared machine; the two figures above
   are the precise ones).

For comparison it also times what the slice did: starting a CodeCarbon tracker per worker
(2-3 s of hardware probing), and what one reading of a started tracker costs (about 1 ms).

    python benchmarks/metering.py [--pairs 5] [--trial-s 10]
    python benchmarks/metering.py --smoke     # one pair of 1 s trials, 3 calls: checks it runs
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from automl_bench.runner import ray_cluster, start_node_meters

TRIAL_S = 10.0


def _work(seconds: float) -> int:
    """Training-like work (a small MLP on random data) for about ``seconds``; returns steps."""
    import torch

    torch.set_num_threads(1)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(256, 64), torch.randint(0, 10, (256,))
    steps, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        steps += 1
    return steps


def _fixed_work(steps: int) -> None:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(256, 64), torch.randint(0, 10, (256,))
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _seconds_per_reading(source: Any, calls: int) -> float:
    """The median time of one ``read()`` of a started CodeCarbon source."""
    source.read()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        source.read()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--trial-s", type=float, default=TRIAL_S)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="one pair of 1 s trials, 3 calls")
    args = parser.parse_args()
    if args.smoke:
        args.pairs, args.trial_s, args.calls = 1, 1.0, 3

    import ray

    from automl_bench.cost.prices import Prices
    from automl_bench.cost.sources import CodeCarbonSource
    from automl_bench.cost.window import metered
    from automl_bench.runner.meters import RayWindowMeter

    prices = Prices(0.0, 0.0, 0.0, 0.0, 1.0)

    @ray.remote(num_cpus=1)
    def trial_calls(n: int) -> dict[str, float]:
        t0 = time.perf_counter()
        meter = RayWindowMeter(1.0, 0.0)
        lookup = time.perf_counter() - t0
        opens, closes = [], []
        for i in range(n):
            t0 = time.perf_counter()
            meter.open(f"w{i}")
            t1 = time.perf_counter()
            meter.close(f"w{i}")
            opens.append(t1 - t0)
            closes.append(time.perf_counter() - t1)
        return {
            "lookup_s": lookup,
            "open_s": statistics.median(opens),
            "close_s": statistics.median(closes),
            "max_open_close_s": max(o + c for o, c in zip(opens, closes, strict=True)),
        }

    @ray.remote(num_cpus=0)
    class Idle:
        def pid(self) -> int:
            import os

            return os.getpid()

    @ray.remote(num_cpus=1)
    def calibrate(seconds: float) -> int:
        return _work(seconds)

    @ray.remote(num_cpus=1)
    def timed(steps: int, with_meter: bool) -> float:
        t0 = time.perf_counter()
        if with_meter:
            with metered(RayWindowMeter(1.0, 0.0), prices):
                _fixed_work(steps)
        else:
            _fixed_work(steps)
        return time.perf_counter() - t0

    tmp = Path(tempfile.mkdtemp(prefix="automl-bench-metering-"))
    t0 = time.perf_counter()
    source = CodeCarbonSource("USA", tmp)
    tracker_start_s = time.perf_counter() - t0
    read_s = _seconds_per_reading(source, args.calls)

    with ray_cluster(None):
        meters = start_node_meters("USA")
        actor = next(iter(meters.actors.values()))
        meter_pid = ray.get(actor.__ray_call__.remote(lambda self: __import__("os").getpid()))
        calls = ray.get(trial_calls.remote(args.calls))
        # the meter's own CPU while a trial runs, next to an idle Ray actor's (Ray's baseline)
        idle = Idle.remote()  # type: ignore[attr-defined]
        proc, idle_proc = psutil.Process(meter_pid), psutil.Process(ray.get(idle.pid.remote()))
        cpu0, idle0 = sum(proc.cpu_times()[:2]), sum(idle_proc.cpu_times()[:2])
        steps = ray.get(calibrate.remote(args.trial_s))
        meter_cpu_s = sum(proc.cpu_times()[:2]) - cpu0
        idle_cpu_s = sum(idle_proc.cpu_times()[:2]) - idle0
        ratios = []
        for _ in range(args.pairs):
            bare = ray.get(timed.remote(steps, False))
            with_meter = ray.get(timed.remote(steps, True))
            ratios.append(with_meter / bare)

    per_trial_s = calls["lookup_s"] + calls["open_s"] + calls["close_s"]
    rows: list[tuple[str, Any]] = [
        ("trial finds its node's meter, ms", 1000 * calls["lookup_s"]),
        ("open a window, ms (median)", 1000 * calls["open_s"]),
        ("close a window, ms (median)", 1000 * calls["close_s"]),
        ("open + close, slowest of the calls, ms", 1000 * calls["max_open_close_s"]),
        (
            f"a trial's own metering calls, % of a {args.trial_s:.0f} s trial",
            100 * per_trial_s / args.trial_s,
        ),
        (
            f"meter actor CPU during a {args.trial_s:.0f} s trial, % of one core",
            100 * meter_cpu_s / args.trial_s,
        ),
        ("  an idle Ray actor beside it, % of one core", 100 * idle_cpu_s / args.trial_s),
        (
            f"with meter / without, same work, median of {args.pairs} pairs",
            statistics.median(ratios),
        ),
        ("  the pairs", ", ".join(f"{r:.3f}" for r in ratios)),
        ("for comparison: one CodeCarbon tracker start (per worker before), s", tracker_start_s),
        (f"  as % of a {args.trial_s:.0f} s trial", 100 * tracker_start_s / args.trial_s),
        (f"one reading of a started tracker, ms (median of {args.calls})", 1000 * read_s),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {text}")
    label = "a trial's metering overhead (its own calls), %"
    print(f"{label:<{width}}  {100 * per_trial_s / args.trial_s:.3f}  (target <= 1)")
    print(
        "The meter's background CPU is per node, on a core no trial holds when one is free, and\n"
        "shared by every trial on the node; its energy is in the node's measured energy."
    )


if __name__ == "__main__":
    main()
