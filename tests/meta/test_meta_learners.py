"""The meta-learning trial's pieces: seeds that keep meta-test tasks out of meta-training, the
training curve, and the memory proxy per algorithm."""

from __future__ import annotations

from pathlib import Path

import torch

from automl_bench.meta.configs import algorithm_config
from automl_bench.meta.learners import (
    META_VAL_SEED,
    MetaBudget,
    SinusoidLearner,
    meta_learn,
    stream_seed,
)
from automl_bench.meta.sinusoid import META_TEST_SEED, sample_tasks
from automl_bench.tasks.families import META_FAMILIES

BASE = {
    "inner_lr": 0.01,
    "inner_steps": 1,
    "meta_batch": 25,
    "outer_lr": 1e-3,
    "first_order": False,
}


def _tasks(seed: int, n: int) -> set[tuple[float, float]]:
    batch = sample_tasks(n, 1, 1, torch.Generator().manual_seed(seed))
    return set(zip(batch.amplitude.tolist(), batch.phase.tolist(), strict=True))


def test_no_meta_test_or_validation_task_is_drawn_in_meta_training() -> None:
    held_out = _tasks(META_TEST_SEED, 600) | _tasks(META_VAL_SEED, 600)
    seeds = {stream_seed(s) for s in range(20)}
    assert len(seeds) == 20 and not seeds & {META_TEST_SEED, META_VAL_SEED}
    for s in range(3):
        # 2,000 iterations of meta-batch 25: every task a study's meta-training draws
        training = _tasks(stream_seed(s), 50_000)
        assert not training & held_out
    assert stream_seed(3) == stream_seed(3)


def test_the_curve_is_logged_every_log_every_iterations_and_the_last() -> None:
    seen: list[tuple[int, float]] = []
    budget = MetaBudget(iterations=30, log_every=10)
    family = META_FAMILIES["sinusoid"]
    meta_learn(
        family,
        algorithm_config("maml", BASE),
        budget,
        0,
        lambda i, v: seen.append((i, v)),
        Path("."),
    )
    assert [i for i, _ in seen] == list(range(1, 31))
    assert all(v > 0 for _, v in seen)


def test_scores_carry_an_interval_per_step_and_second_order_holds_more_graph() -> None:
    family = META_FAMILIES["sinusoid"]
    budget = MetaBudget(iterations=20)
    learners = {
        m: meta_learn(family, algorithm_config(m, BASE), budget, 0, lambda i, v: None, Path("."))
        for m in ("maml", "fomaml", "anil", "pretrain_finetune", "reptile")
    }
    assert learners["maml"].graph_bytes > learners["fomaml"].graph_bytes
    assert learners["maml"].graph_bytes > learners["anil"].graph_bytes
    scores = learners["maml"].score(META_TEST_SEED, 600, (1, 5, 10))
    assert scores.tasks == 600 and scores.predictions == 600 * 100 * 3
    for mean, low, high in scores.per_steps.values():
        assert low < mean < high
    # the same meta-test tasks for everyone: pretraining scored twice gives the same figures
    again = learners["pretrain_finetune"].score(META_TEST_SEED, 600, (10,))
    assert again == learners["pretrain_finetune"].score(META_TEST_SEED, 600, (10,))


def test_meta_test_tasks_can_have_fewer_shots_than_meta_training() -> None:
    # the MAML paper meta-trains with K = 10 and reports K = 5
    budget = MetaBudget(iterations=5, k_shot=10, test_k_shot=5)
    assert budget.eval_k_shot == 5 and MetaBudget(k_shot=10).eval_k_shot == 10
    family = META_FAMILIES["sinusoid"]
    learner = meta_learn(
        family, algorithm_config("maml", BASE), budget, 0, lambda i, v: None, Path(".")
    )
    assert isinstance(learner, SinusoidLearner) and learner.k_shot == 5


def test_tasks_whose_adaptation_diverges_are_counted_and_left_out_of_the_mean() -> None:
    family = META_FAMILIES["sinusoid"]
    learner = meta_learn(
        family,
        algorithm_config("maml", BASE),
        MetaBudget(iterations=5),
        0,
        lambda i, v: None,
        Path("."),
    )
    assert isinstance(learner, SinusoidLearner)
    learner.inner_lr = 50.0  # SGD at this rate blows up on every task
    scores = learner.score(META_TEST_SEED, 600, (0, 10))
    assert scores.diverged == {0: 0, 10: 600}
    assert set(scores.per_steps) == {0}  # nothing finite left to average after 10 steps
    mean, low, high = scores.per_steps[0]
    assert low < mean < high
