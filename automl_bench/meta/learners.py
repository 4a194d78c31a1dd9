"""A meta-learning method's training and evaluation on one family, behind one small interface.

``meta_learn(family, config, budget, seed, on_iteration, cache_dir)`` meta-trains (or pretrains)
the configuration's ``algorithm`` and returns a ``Learner`` that can be scored on validation or
meta-test tasks and saved. The trial (``meta/trial.py``) meters it; nothing here knows of Ray.

Seeds. The study seed fixes the network's initialisation and the meta-training task stream;
meta-validation tasks (search trials) come from ``META_VAL_SEED`` and meta-test tasks from
``META_TEST_SEED``, the same for every method and study seed, so methods are scored on the same
tasks (per task pairs), and no meta-test task is ever drawn for training: the sinusoid streams
are independent generators, the few-shot families split classes *and* examples.

The baseline's step size. On the sinusoid family ``pretrain_finetune`` fine-tunes at the step
size it picks after pretraining, as the MAML paper tuned its baseline: the one of
``FINETUNE_LRS`` with the lowest mean query MSE after ``meta.primary_steps`` steps on the
``meta.test_tasks`` meta-validation tasks (``META_VAL_SEED``, with the meta-test tasks' shots),
never on meta-test tasks. The choice runs inside ``meta_learn``, so inside the trial's metered
window: its compute is part of the method's cost. It is recorded in ``Learner.figures``, which the
trial reports as ``meta_<figure>``. The few-shot baseline (nearest class centroid) has no step.

Memory. On CPU there is no peak-allocation counter; a meta-iteration's peak is its autograd
graph just before ``backward`` (``saved_bytes``): the tensors one step's loss holds. That is the
figure reported, ``autograd-graph``, for every algorithm alike.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from automl_bench.meta.algorithms import (
    MetaSettings,
    Params,
    ReptileSettings,
    adapt,
    adapt_head,
    anil_train,
    joint_mse,
    meta_loss,
    meta_train,
    pretrain,
    reptile_train,
    saved_bytes,
    task_mse,
)
from automl_bench.meta.evaluate import FINETUNE_LRS, choose_finetune_lr, evaluate_adaptation
from automl_bench.meta.sinusoid import sample_tasks
from automl_bench.tasks.families import SINUSOID, MetaFamily

META_VAL_SEED = 2_000_029  # meta-validation tasks: neither a training stream nor the test seed
FEWSHOT_QUERY = 15  # query examples per class in a few-shot episode (ProtoNets' setting)
SINUSOID_QUERY = 100  # query points per sinusoid task at evaluation


@dataclass(frozen=True)
class MetaBudget:
    """The config's ``meta:`` section, as the trial sees it."""

    iterations: int = 2000
    k_shot: int = 10
    test_k_shot: int | None = None  # support examples of a meta-test task (None: k_shot)
    n_way: int = 5
    test_tasks: int = 600
    eval_steps: tuple[int, ...] = (1, 5, 10)
    primary_steps: int = 10
    tasks_served: int | None = None
    log_every: int = 100

    @classmethod
    def from_config(cls, meta: Mapping[str, Any]) -> MetaBudget:
        values = dict(meta)
        values["eval_steps"] = tuple(values.get("eval_steps", cls.eval_steps))
        return cls(**values)

    @property
    def eval_k_shot(self) -> int:
        return self.test_k_shot or self.k_shot

    @property
    def served(self) -> int:
        return self.tasks_served or self.test_tasks


def stream_seed(study_seed: int) -> int:
    """The meta-training task stream of a study seed: an independent generator (SeedSequence),
    so no two study seeds, and no training stream and the fixed val / test seeds, share tasks."""
    return int(np.random.SeedSequence([study_seed, 0x5EED]).generate_state(1)[0])


@dataclass(frozen=True)
class Scores:
    """A metric read after each number of adaptation steps: (mean, low, high) over tasks."""

    per_steps: dict[int, tuple[float, float, float]]
    tasks: int
    predictions: int  # query predictions made, every reading counted
    # tasks whose adaptation diverged (a non-finite query MSE), per reading: left out of the
    # mean and reported (SGD at the trained inner lr can blow up on a rare ill-conditioned
    # support set, more often with fewer shots than meta-training had)
    diverged: dict[int, int] = field(default_factory=dict)


def _interval(values: list[float]) -> tuple[float, float, float]:
    from automl_bench.analysis.intervals import t_interval

    iv = t_interval(values)
    return (iv.estimate, iv.low if iv.low is not None else iv.estimate, iv.high or iv.estimate)


class Learner:
    """What meta-training produced: scored on tasks, saved, described."""

    seconds_per_iteration: float
    graph_bytes: int
    time_measured: str
    # what else the trial reports, as ``meta_<key>`` (the baseline's chosen step size...)
    figures: dict[str, float | str]

    def score(self, seed: int, n_tasks: int, steps: tuple[int, ...]) -> Scores:
        raise NotImplementedError

    def state(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class SinusoidLearner(Learner):
    def __init__(self, params: Params, algorithm: str, k_shot: int, inner_lr: float) -> None:
        self.params, self.algorithm = params, algorithm
        self.k_shot, self.inner_lr = k_shot, inner_lr
        self.time_measured = "median meta-iteration, task sampling excluded"
        self.figures = {}

    def score(self, seed: int, n_tasks: int, steps: tuple[int, ...]) -> Scores:
        inner = adapt_head if self.algorithm == "anil" else adapt  # ANIL adapts its head only
        result = evaluate_adaptation(
            self.params, self.k_shot, n_tasks, steps, self.inner_lr, SINUSOID_QUERY, seed, inner
        )
        finite = {s: [x for x in v if math.isfinite(x)] for s, v in result.per_task.items()}
        per = {s: _interval(v) for s, v in finite.items() if v}
        diverged = {s: n_tasks - len(v) for s, v in finite.items()}
        return Scores(per, n_tasks, n_tasks * SINUSOID_QUERY * len(per), diverged)

    def state(self) -> dict[str, torch.Tensor]:
        return dict(self.params)


class FewShotLearner(Learner):
    """An embedding scored by nearest prototype (ProtoNets) or nearest class centroid of the
    pretrained embedding (the baseline): no gradient steps, so its one reading is at 0 steps."""

    def __init__(self, model: torch.nn.Module, family: str, budget: MetaBudget, cache: Path):
        self.model, self.family, self.budget, self.cache = model, family, budget, cache
        self.time_measured = "mean meta-iteration, episode sampling included"
        self.figures = {}

    def score(self, seed: int, n_tasks: int, steps: tuple[int, ...]) -> Scores:
        from automl_bench.meta.protonet import protonet_evaluate

        test_budget = replace(self.budget, k_shot=self.budget.eval_k_shot)
        sampler = _fewshot_split(self.family, test_budget, self.cache, seed).meta_test
        result = protonet_evaluate(self.model, sampler, n_tasks)
        n = self.budget.n_way * FEWSHOT_QUERY
        return Scores({0: _interval(result.per_episode)}, n_tasks, n_tasks * n)

    def state(self) -> dict[str, torch.Tensor]:
        return dict(self.model.state_dict())


def _fewshot_split(family: str, budget: MetaBudget, cache: Path, seed: int) -> Any:
    from automl_bench.meta.fewshot import digits_split, mnist1d_split

    if family == "fewshot_mnist1d":
        return mnist1d_split(cache, budget.n_way, budget.k_shot, FEWSHOT_QUERY, seed=seed)
    return digits_split(budget.n_way, budget.k_shot, FEWSHOT_QUERY, seed=seed)


def meta_learn(
    family: MetaFamily,
    config: Mapping[str, Any],
    budget: MetaBudget,
    seed: int,
    on_iteration: Callable[[int, float], None],
    cache_dir: Path,
) -> Learner:
    """Meta-train ``config["algorithm"]`` (``maml`` when a search leaves it out) on ``family``."""
    algorithm = str(config.get("algorithm", "maml"))
    if algorithm not in family.algorithms and not (algorithm == "maml" and family.name == SINUSOID):
        raise ValueError(f"{algorithm} does not run on {family.name}")
    if family.name == SINUSOID:
        return _sinusoid(algorithm, config, budget, seed, on_iteration)
    return _fewshot(family.name, algorithm, config, budget, seed, on_iteration, cache_dir)


def _sinusoid(
    algorithm: str,
    config: Mapping[str, Any],
    budget: MetaBudget,
    seed: int,
    on_iteration: Callable[[int, float], None],
) -> Learner:
    settings = MetaSettings(
        iterations=budget.iterations,
        meta_batch=int(config.get("meta_batch", 25)),
        k_shot=budget.k_shot,
        inner_lr=float(config.get("inner_lr", 0.01)),
        inner_steps=int(config.get("inner_steps", 1)),
        outer_lr=float(config.get("outer_lr", 1e-3)),
        first_order=bool(config.get("first_order", False)),
    )
    tasks = stream_seed(seed)
    if algorithm == "reptile":
        reptile = ReptileSettings(
            iterations=settings.iterations,
            meta_batch=settings.meta_batch,
            k_shot=settings.k_shot,
            inner_lr=settings.inner_lr,
            inner_steps=settings.inner_steps,
            step_size=float(config.get("step_size", 1.0)),
        )
        result = reptile_train(reptile, seed, tasks, on_iteration)
    elif algorithm == "anil":
        result = anil_train(settings, seed, tasks, on_iteration)
    elif algorithm == "pretrain_finetune":
        result = pretrain(settings, seed, tasks, on_iteration)
    else:
        result = meta_train(settings, seed, tasks, on_iteration)
    learner = SinusoidLearner(result.params, algorithm, budget.eval_k_shot, settings.inner_lr)
    if algorithm == "pretrain_finetune" and budget.primary_steps > 0:
        _choose_step_size(learner, budget)
    learner.seconds_per_iteration = result.seconds_per_iteration
    learner.graph_bytes = _sinusoid_graph(algorithm, result.params, settings, tasks)
    return learner


def _choose_step_size(learner: SinusoidLearner, budget: MetaBudget) -> None:
    """The baseline's fine-tuning step size, chosen on meta-validation tasks (see the module's
    docstring); recorded in ``learner.figures``."""
    start = time.perf_counter()
    choice = choose_finetune_lr(
        learner.params,
        META_VAL_SEED,
        FINETUNE_LRS,
        budget.eval_k_shot,
        budget.test_tasks,
        budget.primary_steps,
        SINUSOID_QUERY,
    )
    learner.inner_lr = choice.lr
    learner.figures.update(
        {
            "finetune_lr": choice.lr,
            "finetune_val_mse": choice.losses[choice.lr],
            "finetune_choice_s": time.perf_counter() - start,
            "finetune_lr_chosen_by": choice.describe(),
        }
    )


def _sinusoid_graph(algorithm: str, params: Params, settings: MetaSettings, tasks: int) -> int:
    """One meta-iteration's graph at its largest, on a fresh meta-batch."""
    batch = sample_tasks(
        settings.meta_batch, settings.k_shot, settings.k_shot, torch.Generator().manual_seed(tasks)
    )
    live = {k: p.detach().clone().requires_grad_(True) for k, p in params.items()}
    if algorithm == "pretrain_finetune":
        return saved_bytes(lambda: joint_mse(live, batch))
    if algorithm == "reptile":  # its graph: one inner step's loss on each task's copy
        copies = adapt(live, batch.support_x, batch.support_y, 0, settings.inner_lr, True)
        return saved_bytes(lambda: task_mse(copies, batch.support_x, batch.support_y).sum())
    inner = adapt_head if algorithm == "anil" else adapt
    return saved_bytes(lambda: meta_loss(live, batch, settings, inner))


def _fewshot(
    family: str,
    algorithm: str,
    config: Mapping[str, Any],
    budget: MetaBudget,
    seed: int,
    on_iteration: Callable[[int, float], None],
    cache_dir: Path,
) -> Learner:
    from automl_bench.meta.protonet import (
        ProtoSettings,
        pretrain_classifier,
        proto_logits,
        protonet_train,
    )

    settings = ProtoSettings(
        iterations=budget.iterations,
        meta_batch=int(config.get("meta_batch", 4)),
        lr=float(config.get("lr", 1e-3)),
        batch_size=int(config.get("batch_size", 64)),
    )
    # meta-train episodes from the study's stream; meta-test ones are drawn in ``score``
    sampler = _fewshot_split(family, budget, cache_dir, stream_seed(seed)).meta_train
    if algorithm == "protonet":
        result = protonet_train(settings, sampler, seed, on_iteration)
    else:
        result = pretrain_classifier(settings, sampler, seed, on_iteration)
    learner = FewShotLearner(result.model, family, budget, cache_dir)
    learner.seconds_per_iteration = result.seconds / settings.iterations
    model = result.model
    model.train()
    if algorithm == "protonet":
        ep = sampler.sample(settings.meta_batch)
        n_way = sampler.n_way

        def loss() -> torch.Tensor:
            logits = proto_logits(model, ep.support_x, ep.support_y, ep.query_x, n_way)
            return F.cross_entropy(logits.reshape(-1, n_way), ep.query_y.reshape(-1))

        learner.graph_bytes = saved_bytes(loss)
    else:  # the embedding's graph on one minibatch (the linear head's is negligible)
        x, _ = sampler.examples()
        learner.graph_bytes = saved_bytes(lambda: model(x[: settings.batch_size]).sum())
    model.eval()
    return learner
