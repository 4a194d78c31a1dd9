"""The live progress display: trials done / total, best so far, energy so far."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from automl_bench.outcome import TrialOutcome
from automl_bench.trial import SEARCH, TrialJob


class Progress:
    def __init__(self, total_trials: int, console: Console, enabled: bool = True) -> None:
        self.total = total_trials
        self.console = console
        self.done = 0
        self.failed = 0
        self.running = 0
        self.energy_kwh = 0.0
        self.best: dict[str, float] = defaultdict(float)
        self.started = time.monotonic()
        self._live = (
            Live(self._render(), console=console, refresh_per_second=2, transient=True)
            if enabled
            else None
        )

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def trial_started(self, job: TrialJob) -> None:
        self.running += 1
        self._refresh()

    def trial_finished(self, outcome: TrialOutcome) -> None:
        self.running = max(0, self.running - 1)
        self.done += 1
        self.failed += 0 if outcome.ok else 1
        self.energy_kwh += outcome.cost.energy_kwh
        label = outcome.job.study.split("/")[0]
        value = outcome.val_accuracy if outcome.job.phase == SEARCH else outcome.test_accuracy
        if value is not None:
            self.best[label] = max(self.best[label], value)
        self._refresh()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())

    def _render(self) -> Table:
        elapsed = time.monotonic() - self.started
        table = Table(title=f"automl-bench: {elapsed:.0f} s", show_edge=False)
        table.add_column("trials done / total")
        table.add_column("running")
        table.add_column("failed")
        table.add_column("energy so far")
        table.add_column("best so far (val in search, test once final)")
        best = ", ".join(f"{k} {v:.3f}" for k, v in sorted(self.best.items())) or "-"
        table.add_row(
            f"{self.done} / {self.total}",
            str(self.running),
            str(self.failed),
            f"{self.energy_kwh * 1000:.3f} Wh",
            best,
        )
        return table
