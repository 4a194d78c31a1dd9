"""The live progress display: trials done / total, best so far, energy so far."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from automl_bench.metric import ACCURACY, Metric, infer_metric
from automl_bench.outcome import TrialOutcome
from automl_bench.trial_job import SEARCH, TrialJob


def _label(job: TrialJob) -> str:
    return job.study.split("/", 1)[0]


class Progress:
    """Counts per method; re-rendered by rich twice a second (``__rich__``).

    ``metric``: the experiment's (best so far by its direction); None: the first one the
    trials' results report (accuracy until one does)."""

    def __init__(
        self,
        total_trials: int,
        console: Console,
        enabled: bool = True,
        metric: Metric | None = None,
    ) -> None:
        self.metric = metric
        self.total = total_trials
        self.console = console
        self.started = time.monotonic()
        self.done: dict[str, int] = defaultdict(int)
        self.failed: dict[str, int] = defaultdict(int)
        self.running: dict[str, int] = defaultdict(int)
        self.energy_kwh: dict[str, float] = defaultdict(float)
        self.best_val: dict[str, float] = {}
        self.tests: dict[str, list[float]] = defaultdict(list)
        self._live = (
            Live(self, console=console, refresh_per_second=2, transient=True) if enabled else None
        )

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def trial_started(self, job: TrialJob) -> None:
        self.running[_label(job)] += 1

    def trial_finished(self, outcome: TrialOutcome) -> None:
        label = _label(outcome.job)
        self.running[label] = max(0, self.running[label] - 1)
        self.done[label] += 1
        self.failed[label] += 1 if outcome.failed else 0
        self.energy_kwh[label] += outcome.cost.energy_kwh
        if self.metric is None:
            self.metric = infer_metric([outcome.result])
        metric = self._metric
        val, test = outcome.val_metric(metric), outcome.test_metric(metric)
        if outcome.job.phase == SEARCH and val is not None:
            best = self.best_val.get(label)
            self.best_val[label] = val if best is None else metric.best([best, val])
        if test is not None:
            self.tests[label].append(test)
        if outcome.failed:
            self.console.print(
                f"trial {outcome.trial_id} ({outcome.job.study}, {outcome.job.phase}) failed: "
                f"{outcome.reason}",
                markup=False,
                highlight=False,
            )

    @property
    def _metric(self) -> Metric:
        return self.metric or ACCURACY

    def __rich__(self) -> Group:
        done = sum(self.done.values())
        energy = sum(self.energy_kwh.values())
        head = Text(
            f"automl-bench: {done} / {self.total} trials done, {sum(self.failed.values())} "
            f"failed, {energy * 1000:.3f} Wh so far, {time.monotonic() - self.started:.0f} s"
        )
        table = Table(show_edge=False)
        short = "acc" if self._metric.name == "accuracy" else self._metric.unit
        for name in (
            "method",
            "done",
            "running",
            "failed",
            f"best val {short}",
            f"test {short} (finished)",
        ):
            table.add_column(name, justify="left" if name == "method" else "right")
        for label in sorted(set(self.done) | set(self.running)):
            tests = self.tests.get(label, [])
            table.add_row(
                label,
                str(self.done[label]),
                str(self.running[label]),
                str(self.failed[label]),
                f"{self.best_val[label]:.3f}" if label in self.best_val else "-",
                f"{sum(tests) / len(tests):.3f} ({len(tests)})" if tests else "-",
            )
        return Group(head, table)
