"""The yardstick's fine-tuning step size: chosen after pretraining on meta-validation tasks (never
meta-test), as the MAML paper tuned its baseline, inside the trial's window, and recorded."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from automl_bench.cost.prices import Prices
from automl_bench.cost.window import Unmetered
from automl_bench.meta import algorithms as alg
from automl_bench.meta import evaluate, learners
from automl_bench.meta.algorithms import MetaSettings, Params, adapt, pretrain, task_mse
from automl_bench.meta.configs import algorithm_config
from automl_bench.meta.evaluate import FINETUNE_LRS, choose_finetune_lr, evaluate_adaptation
from automl_bench.meta.learners import (
    META_VAL_SEED,
    MetaBudget,
    SinusoidLearner,
    meta_learn,
    stream_seed,
)
from automl_bench.meta.sinusoid import META_TEST_SEED, TaskBatch, sample_tasks
from automl_bench.meta.trial import run_meta_trial
from automl_bench.tasks.families import META_FAMILIES
from automl_bench.trial import TrialContext, TrialJob

BASE = {
    "inner_lr": 0.01,
    "inner_steps": 1,
    "meta_batch": 25,
    "outer_lr": 1e-3,
    "first_order": False,
}
SINUSOID = META_FAMILIES["sinusoid"]
PRICES = Prices(
    gpu_hour_usd=4.0,
    cpu_hour_usd=0.05,
    electricity_usd_per_kwh=0.2,
    carbon_intensity_kg_per_kwh=0.05,
    pue=1.2,
)


def _mean_or_inf(values: list[float]) -> float:
    return sum(values) / len(values) if all(math.isfinite(v) for v in values) else math.inf


def _argmin(losses: dict[float, float]) -> float:
    best = FINETUNE_LRS[0]
    for lr in FINETUNE_LRS:
        if losses[lr] < losses[best]:
            best = lr
    return best


@pytest.fixture(scope="module")
def short_pretrain() -> Params:
    """A briefly pretrained network: its best step size depends on the steps it is read after."""
    return pretrain(MetaSettings(iterations=50), seed=0, task_seed=7).params


def _record_seeds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every task generator's seed drawn from, wherever the meta package samples tasks."""
    seen: list[int] = []

    def recording(n: int, k_support: int, k_query: int, gen: torch.Generator) -> TaskBatch:
        seen.append(gen.initial_seed())
        return sample_tasks(n, k_support, k_query, gen)

    for module in (alg, evaluate, learners):
        monkeypatch.setattr(module, "sample_tasks", recording)
    return seen


def test_the_grid_is_a_log_grid_holding_the_trained_inner_lr() -> None:
    assert 0.01 in FINETUNE_LRS and tuple(sorted(FINETUNE_LRS)) == FINETUNE_LRS
    assert FINETUNE_LRS[0] == 0.001 and FINETUNE_LRS[-1] == 0.1
    ratios = [b / a for a, b in itertools.pairwise(FINETUNE_LRS)]
    assert all(1.7 < r < 1.85 for r in ratios), ratios  # quarter decades


def test_the_baseline_fine_tunes_at_the_step_size_minimising_the_validation_loss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _record_seeds(monkeypatch)
    budget = MetaBudget(iterations=50, test_tasks=600, primary_steps=10)
    learner = meta_learn(
        SINUSOID, algorithm_config("pretrain_finetune", BASE), budget, 0, lambda i, v: None, Path()
    )
    assert isinstance(learner, SinusoidLearner)
    # meta-training's stream, then the validation tasks: never a meta-test task
    assert META_TEST_SEED not in seen
    assert set(seen) == {stream_seed(0), META_VAL_SEED}
    monkeypatch.undo()
    # directly: each step size's mean query MSE on the 600 validation tasks after 10 steps
    direct = {
        lr: _mean_or_inf(
            evaluate_adaptation(learner.params, 10, 600, (10,), lr, 100, META_VAL_SEED).per_task[10]
        )
        for lr in FINETUNE_LRS
    }
    best = _argmin(direct)
    assert learner.inner_lr == best
    assert learner.figures["finetune_lr"] == best
    assert learner.figures["finetune_val_mse"] == pytest.approx(direct[best], rel=1e-6)
    assert isinstance(learner.figures["finetune_choice_s"], float)
    assert learner.figures["finetune_choice_s"] > 0
    assert "600 meta-validation tasks" in str(learner.figures["finetune_lr_chosen_by"])


@pytest.mark.parametrize("steps", [1, 10])
def test_the_choice_reads_the_loss_after_the_primary_number_of_steps(
    short_pretrain: Params, steps: int
) -> None:
    batch = sample_tasks(200, 10, 100, torch.Generator().manual_seed(META_VAL_SEED))
    direct = {}
    for lr in FINETUNE_LRS:
        adapted = adapt(short_pretrain, batch.support_x, batch.support_y, steps, lr, True)
        with torch.no_grad():
            direct[lr] = _mean_or_inf(task_mse(adapted, batch.query_x, batch.query_y).tolist())
    choice = choose_finetune_lr(short_pretrain, META_VAL_SEED, n_tasks=200, steps=steps)
    assert choice.lr == _argmin(direct)
    assert choice.losses == pytest.approx(direct, rel=1e-6)
    assert (choice.steps, choice.seed, choice.tasks) == (steps, META_VAL_SEED, 200)


def test_the_step_count_changes_the_choice(short_pretrain: Params) -> None:
    # this briefly pretrained network takes large single steps but small repeated ones: a choice
    # read at the wrong number of steps would pick a different step size
    one = choose_finetune_lr(short_pretrain, META_VAL_SEED, n_tasks=200, steps=1)
    ten = choose_finetune_lr(short_pretrain, META_VAL_SEED, n_tasks=200, steps=10)
    assert one.lr > ten.lr, (one.losses, ten.losses)


def test_meta_test_tasks_are_refused_and_diverging_step_sizes_lose(
    short_pretrain: Params,
) -> None:
    with pytest.raises(ValueError, match="never meta-test"):
        choose_finetune_lr(short_pretrain, META_TEST_SEED)
    with pytest.raises(ValueError, match="steps"):
        choose_finetune_lr(short_pretrain, META_VAL_SEED, steps=0)
    with pytest.raises(ValueError, match="lrs"):
        choose_finetune_lr(short_pretrain, META_VAL_SEED, lrs=[0.01, -1.0])
    # 50.0 blows up on every task: it scores inf and is never chosen; equals go to the first
    choice = choose_finetune_lr(short_pretrain, META_VAL_SEED, lrs=(50.0, 0.01, 0.01), n_tasks=50)
    assert choice.losses[50.0] == math.inf and choice.lr == 0.01


def test_only_the_sinusoid_baseline_chooses_a_step_size(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def choose(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return choose_finetune_lr(*args, **kwargs)

    monkeypatch.setattr(learners, "choose_finetune_lr", choose)
    maml = meta_learn(
        SINUSOID,
        algorithm_config("maml", BASE),
        MetaBudget(iterations=5),
        0,
        lambda i, v: None,
        Path(),
    )
    assert isinstance(maml, SinusoidLearner)
    assert maml.inner_lr == 0.01 and maml.figures == {} and not calls


class _RecordingMeter(Unmetered):
    def __init__(self, events: list[str]) -> None:
        super().__init__(cpus=1.0)
        self.events = events

    def open(self, window: str) -> None:
        self.events.append("open")
        super().open(window)

    def close(self, window: str) -> Any:
        self.events.append("close")
        return super().close(window)


def test_the_trial_charges_and_records_the_choice_and_adapts_at_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events: list[str] = []
    scored_at: list[tuple[int, float]] = []  # (seed, inner lr) of each scoring

    def choose(*args: Any, **kwargs: Any) -> Any:
        events.append("choose")
        return choose_finetune_lr(*args, **kwargs)

    def evaluate_at(params: Params, k: int, n: int, steps: Any, lr: float, *rest: Any) -> Any:
        scored_at.append((rest[1], lr))
        return evaluate_adaptation(params, k, n, steps, lr, *rest)

    monkeypatch.setattr(learners, "choose_finetune_lr", choose)
    monkeypatch.setattr(learners, "evaluate_adaptation", evaluate_at)
    ctx = TrialContext(
        task="sinusoid",
        cache_dir=str(tmp_path),
        spaces={},
        epochs=1,
        cpus_per_trial=1,
        gpus_per_trial=0,
        prices=PRICES,
        report_interval_s=0,
        meta_budget={"iterations": 20, "log_every": 10, "test_tasks": 600},
    )
    job = TrialJob(
        "pretrain_finetune/seed=0",
        "pretrain_finetune",
        0,
        "final",
        "maml",
        algorithm_config("pretrain_finetune", BASE),
    )
    reports: list[dict[str, Any]] = []

    def report(metrics: dict[str, Any], model_dir: Path | None) -> None:
        reports.append(metrics)

    run_meta_trial(job, ctx, report, _RecordingMeter(events))
    closing = reports[-1]
    assert closing["trial_status"] == "ok", closing
    # chosen inside the trial's own window (its cost is the method's), before meta-test is seen
    assert events == ["open", "choose", "close", "open", "close"]
    chosen = closing["meta_finetune_lr"]
    assert chosen in FINETUNE_LRS
    assert math.isfinite(closing["meta_finetune_val_mse"])
    assert closing["meta_finetune_choice_s"] > 0
    assert "after 10 step(s)" in closing["meta_finetune_lr_chosen_by"]
    # the meta-test tasks are adapted at the chosen step size, and only scored, never chosen on
    assert scored_at == [(META_TEST_SEED, chosen)]
    # it lands in the study's meta block of the summary (every ``meta_`` key does)
    from automl_bench.meta_summary import meta_block
    from automl_bench.metric import MSE

    block = meta_block(closing, MSE)
    assert block is not None and block.figures["finetune_lr"] == chosen
