"""What a trial is given, and what both trial bodies share (``trial.py``, ``meta/trial.py``).

A ``TrialJob`` is one configuration of one study in one phase; a ``TrialContext`` is what every
trial of an experiment shares. The phases, the reporter's type, the time limit, the failure
reason and the saved model are here so that the training trial and the meta-learning trial use
them from below, and neither imports the other's way back.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_bench.cost.prices import Prices

if TYPE_CHECKING:
    from automl_bench.tasks.table.spec import TableSpec

SEARCH, FINAL, INFERENCE = "search", "final", "inference"
PHASES = (SEARCH, FINAL, INFERENCE)

# (metrics, directory holding the finished model or None) -> None
Reporter = Callable[[dict[str, Any], Path | None], None]


class TrialTimeout(Exception):
    """The trial ran past its time limit (``budget.trial_timeout_s``): it fails, and says so."""


def check_time(started: float, limit: float | None) -> None:
    """Raise TrialTimeout once ``limit`` seconds have passed since ``started`` (monotonic)."""
    if limit is not None:
        used = time.monotonic() - started
        if used > limit:
            raise TrialTimeout(f"ran {used:.1f} s, past its limit of {limit:g} s")


class StoppedByScheduler(Exception):
    """The scheduler stopped this trial: it ran the epochs it reported, no more."""


@dataclass(frozen=True)
class TrialJob:
    """What to train: one configuration of one study, in one phase."""

    study: str
    method: str
    seed: int
    phase: str
    space: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialContext:
    """What every trial of an experiment shares (passed to workers once)."""

    task: str
    cache_dir: str
    spaces: dict[str, str]  # space name -> file path
    epochs: int
    cpus_per_trial: float
    gpus_per_trial: float
    prices: Prices
    deploy_batch_size: int = 64
    data_dir: str | None = None  # an image task's folder
    inference_seconds: float = 1.0  # how long inference is measured for
    # Each report waits for the driver to take it: epochs shorter than this are sent in batches
    # (``epoch_history``); 0 reports every epoch on its own.
    report_interval_s: float = 1.0
    meta_budget: dict[str, Any] | None = None  # a meta-learning family's budget (config ``meta:``)
    timeout_s: float | None = None  # a trial's time limit (config budget.trial_timeout_s)
    ledger_dir: str | None = None  # where trials leave their closing results (runner/ledger.py)
    metric: str | None = None  # what trials report as val_<metric>, test_<metric>; None: the task's
    table: TableSpec | None = None  # task "table": the user's file and how to read it
    # spaces whose build gives a scikit-learn estimator (a table's reference models)
    estimators: tuple[str, ...] = ()


def context_metric(ctx: TrialContext) -> str:
    """The metric a trial reports: the context's, else its task's (accuracy, a family's own)."""
    from automl_bench.scoring import task_metric

    return ctx.metric or task_metric(ctx.task).name


def failure_reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def save_model(state: dict[str, Any], job: TrialJob, objective: Any = None) -> Path:
    """A final model's weights (``model.pt``) and configuration, in a folder of their own; for a
    regression net, also the target's mean and std that turn its output back into the target's
    units (``config.json``: ``target_mean``, ``target_std``)."""
    import torch

    out = Path(tempfile.mkdtemp(prefix="automl-bench-model-"))
    torch.save(state, out / "model.pt")
    saved: dict[str, Any] = {"space": job.space, "config": job.config}
    if objective is not None and objective.problem == "regression":
        saved.update(target_mean=objective.target_mean, target_std=objective.target_std)
    (out / "config.json").write_text(json.dumps(saved))
    return out
