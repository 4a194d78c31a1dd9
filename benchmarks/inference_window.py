"""How long a final trial's inference phase runs against the time it is given, measured in one
run.

A final training of search_spaces/mlp.py's baseline on ``digits`` (2 epochs) runs in-process
through ``run_trial``, ``--repeats`` times, with ``inference_seconds`` = ``--seconds`` and the
deployment batch size 32, metered by a constant-power source (only the clock matters here). It
prints, per repeat and as the median, the inference window's metered wall-clock, the predictions
made and the ratio wall / seconds given. The phase predicts whole passes over the test split
until the time has passed, so the ratio is >= 1; how far above 1 depends on the machine (the
unit test holds only the lower bound).

    python benchmarks/inference_window.py [--seconds 0.3] [--repeats 5]
    python benchmarks/inference_window.py --smoke     # one repeat: checks that it runs
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]


class ConstantPower:
    """A scripted node: 30 W of CPU, whatever the load, on the real clock."""

    measured: ClassVar[dict[str, str]] = {"cpu": "constant", "gpu": "none", "ram": "none"}

    def __init__(self) -> None:
        self._last = time.monotonic()

    def read(self) -> Any:
        from automl_bench.cost.attribution import Reading

        now = time.monotonic()
        seconds, self._last = now - self._last, now
        return Reading(cpu_kwh=30 * seconds / 3.6e6)


def one_final(seconds: float, cache: Path) -> dict[str, Any]:
    """The closing report of one final training with ``inference_seconds`` = ``seconds``."""
    from automl_bench.cost.attribution import Holding
    from automl_bench.cost.node_meter import NodeMeter
    from automl_bench.cost.prices import Prices
    from automl_bench.cost.window import LocalWindowMeter
    from automl_bench.space import load_search_space
    from automl_bench.trial import TrialContext, TrialJob, run_trial

    space = ROOT / "search_spaces" / "mlp.py"
    ctx = TrialContext(
        task="digits",
        cache_dir=str(cache),
        spaces={"mlp": str(space)},
        epochs=2,
        cpus_per_trial=1,
        gpus_per_trial=0,
        prices=Prices(0.0, 0.0, 0.0, 0.0, 1.0),
        deploy_batch_size=32,
        inference_seconds=seconds,
    )
    baseline = load_search_space(space).baseline
    job = TrialJob("baseline/seed=0", "baseline", 0, "final", "mlp", baseline)
    meter = LocalWindowMeter(NodeMeter(ConstantPower(), 1.0), Holding(cpus=1.0))
    reports: list[dict[str, Any]] = []
    run_trial(job, ctx, lambda metrics, _: reports.append(metrics), meter)
    return reports[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="inference_seconds given")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one repeat")
    args = parser.parse_args()
    repeats = 1 if args.smoke else args.repeats
    ratios = []
    with tempfile.TemporaryDirectory(prefix="automl-bench-inference-") as cache:
        for i in range(repeats):
            closing = one_final(args.seconds, Path(cache))
            wall = float(closing["inference_wall_s"])
            ratios.append(wall / args.seconds)
            print(
                f"repeat {i}: inference window {wall:.3f} s for {args.seconds:g} s given, "
                f"{closing['inference_predictions']} predictions at batch "
                f"{closing['inference_batch_size']}"
            )
    print(
        f"ratio inference wall / seconds given: {statistics.median(ratios):.2f}x "
        f"(median of {repeats}; range {min(ratios):.2f}-{max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
