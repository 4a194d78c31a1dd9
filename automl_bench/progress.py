"""The live progress display: trials done / total, best so far, energy so far."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from automl_bench.outcome import TrialOutcome
from automl_bench.trial import SEARCH, TrialJob


def _label(job: TrialJob) -> str:
    return job.study.split("/", 1)[0]


class Progress:
    """Counts per method; re-rendered by rich twice a second (``__rich__``)."""

    def __init__(self, total_trials: int, console: Console, enabled: bool = True) -> None:
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
        if outcome.job.phase == SEARCH and outcome.val_accuracy is not None:
            self.best_val[label] = max(self.best_val.get(label, 0.0), outcome.val_accuracy)
        if outcome.test_accuracy is not None:
            self.tests[label].append(outcome.test_accuracy)
        if outcome.failed:
            self.console.print(
                f"trial {outcome.trial_id} ({outcome.job.study}, {outcome.job.phase}) failed: "
                f"{outcome.reason}",
                markup=False,
                highlight=False,
            )

    def __rich__(self) -> Group:
        done = sum(self.done.values())
        energy = sum(self.energy_kwh.values())
        head = Text(
            f"automl-bench: {done} / {self.total} trials done, {sum(self.failed.values())} "
            f"failed, {energy * 1000:.3f} Wh so far, {time.monotonic() - self.started:.0f} s"
        )
        table = Table(show_edge=False)
        for name in ("method", "done", "running", "failed", "best val acc", "test acc (finished)"):
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
