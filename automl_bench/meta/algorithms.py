"""MAML, first-order MAML and the pretrain-then-fine-tune baseline, on torch.func; Reptile and
ANIL at the end of the module.

Parameters are plain dicts of tensors (``Params``) run through ``torch.func.functional_call``;
a meta-batch of tasks runs at once under ``torch.func.vmap``, with one copy of the parameters per
task. The inner loop is SGD on MSE through ``torch.autograd.grad``:

- second-order MAML keeps the inner gradients in the graph (``create_graph=True``), so the outer
  gradient flows through them (Hessian-vector products);
- first-order MAML (FOMAML) treats the inner gradients as constants: the outer gradient is the
  query-loss gradient at the adapted parameters.

The baseline every MAML paper compares with: one network regressed on all training tasks' data
jointly (the mixture), then fine-tuned on a new task's support set with the same inner SGD, at a
step size chosen on meta-validation tasks (``evaluate.choose_finetune_lr``), as the paper tuned it.
Settings of the paper (Finn et al. 2017, appendix C): MLP 1-40-40-1 ReLU, inner lr 0.01, one inner
step with K = 10 during meta-training, Adam lr 1e-3, meta-batch 25 (70,000 iterations there).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, vmap

from automl_bench.errors import ConfigError
from automl_bench.meta.checks import count, rate
from automl_bench.meta.sinusoid import META_TRAIN_SEED, TaskBatch, sample_tasks

Params = dict[str, torch.Tensor]

HIDDEN = 40


def make_mlp() -> nn.Sequential:
    """The network of the paper: 1 -> 40 -> 40 -> 1 with ReLU."""
    return nn.Sequential(
        nn.Linear(1, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1)
    )


_TEMPLATE = make_mlp()  # only its structure is used: functional_call replaces every parameter
_WEIGHT_DIM = 2  # a Linear weight; one more with a leading task dimension (per-task parameters)


def init_params(seed: int) -> Params:
    """Fresh parameters (PyTorch's default init), leaf tensors that require grad."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_mlp()
    return {name: p.detach().clone().requires_grad_(True) for name, p in model.named_parameters()}


def _forward_one(params: Params, x: torch.Tensor) -> torch.Tensor:
    out: torch.Tensor = functional_call(_TEMPLATE, params, (x,))
    return out


def forward(params: Params, x: torch.Tensor) -> torch.Tensor:
    """Predictions for x of shape (n, k, 1): batched parameters (leading n) run one per task;
    unbatched parameters are shared by all tasks."""
    batched = params["0.weight"].dim() == _WEIGHT_DIM + 1
    if batched:
        out: torch.Tensor = vmap(_forward_one)(params, x)
        return out
    return _forward_one(params, x)


def task_mse(params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MSE per task, shape (n,)."""
    return ((forward(params, x) - y) ** 2).mean(dim=(1, 2))


def _per_task(params: Params, n: int) -> Params:
    return {k: p.unsqueeze(0).expand(n, *p.shape) for k, p in params.items()}


def adapt(
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    inner_lr: float,
    first_order: bool,
) -> Params:
    """``steps`` SGD steps on each task's MSE over (x, y) of shape (n, k, 1).

    ``params`` are shared (expanded to one copy per task) or already per task (leading n). The
    result is per task. With ``first_order=False`` the graph is kept through the inner gradients
    (create_graph) so a meta-gradient can flow through them; with True they are constants.
    Parameters that do not require grad (evaluation) are adapted on detached copies.
    """
    n = int(x.shape[0])
    if params["0.weight"].dim() == _WEIGHT_DIM:
        params = _per_task(params, n)
    with torch.enable_grad():
        if not all(p.requires_grad for p in params.values()):
            params = {k: p.detach().clone().requires_grad_(True) for k, p in params.items()}
        for _ in range(steps):
            # Sum of per-task losses: each task's copy gets exactly its own task's gradient.
            loss = task_mse(params, x, y).sum()
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
            params = {k: p - inner_lr * g for (k, p), g in zip(params.items(), grads, strict=True)}
    return params


@dataclass(frozen=True)
class MetaSettings:
    """One meta-training run. Defaults: the paper's sinusoid settings (iterations reduced)."""

    iterations: int = 70_000
    meta_batch: int = 25
    k_shot: int = 10
    inner_lr: float = 0.01
    inner_steps: int = 1
    outer_lr: float = 1e-3
    first_order: bool = False

    def __post_init__(self) -> None:
        for name in ("iterations", "meta_batch", "k_shot", "inner_steps"):
            count(name, getattr(self, name))
        for name in ("inner_lr", "outer_lr"):
            rate(name, getattr(self, name))
        if not isinstance(self.first_order, bool):
            raise ConfigError("first_order", f"must be true or false, got {self.first_order!r}")


AdaptFn = Callable[[Params, torch.Tensor, torch.Tensor, int, float, bool], Params]


def meta_loss(
    params: Params, batch: TaskBatch, settings: MetaSettings, inner: AdaptFn | None = None
) -> torch.Tensor:
    """Mean query MSE after adapting on each task's support set (the MAML objective); ``inner``:
    the inner loop (``adapt``, every parameter; ANIL passes ``adapt_head``)."""
    adapted = (inner or adapt)(
        params,
        batch.support_x,
        batch.support_y,
        settings.inner_steps,
        settings.inner_lr,
        settings.first_order,
    )
    return task_mse(adapted, batch.query_x, batch.query_y).mean()


def maml_step(
    params: Params,
    optimizer: torch.optim.Optimizer,
    batch: TaskBatch,
    settings: MetaSettings,
    inner: AdaptFn | None = None,
) -> float:
    """One meta-iteration (second- or first-order per ``settings.first_order``); the loss before."""
    optimizer.zero_grad(set_to_none=True)
    loss = meta_loss(params, batch, settings, inner)
    loss.backward()  # type: ignore[no-untyped-call]
    optimizer.step()
    return float(loss.detach())


@dataclass(frozen=True)
class TrainResult:
    params: Params
    seconds_per_iteration: float  # median over iterations, task sampling excluded
    losses: list[float]


# told each meta-iteration's index (from 1) and its loss: the training curve
OnIteration = Callable[[int, float], None]


def _train(
    settings: MetaSettings,
    seed: int,
    task_seed: int,
    step: Callable[[Params, torch.optim.Optimizer, TaskBatch], float],
    on_iteration: OnIteration | None = None,
) -> TrainResult:
    params = init_params(seed)
    optimizer = torch.optim.Adam(list(params.values()), lr=settings.outer_lr)
    gen = torch.Generator().manual_seed(task_seed)
    times: list[float] = []
    losses: list[float] = []
    for i in range(settings.iterations):
        batch = sample_tasks(settings.meta_batch, settings.k_shot, settings.k_shot, gen)
        start = time.perf_counter()
        losses.append(step(params, optimizer, batch))
        times.append(time.perf_counter() - start)
        if on_iteration is not None:
            on_iteration(i + 1, losses[-1])
    times.sort()
    frozen = {k: p.detach().clone() for k, p in params.items()}
    return TrainResult(frozen, times[len(times) // 2], losses)


def meta_train(
    settings: MetaSettings,
    seed: int = 0,
    task_seed: int = META_TRAIN_SEED,
    on_iteration: OnIteration | None = None,
) -> TrainResult:
    """MAML (or FOMAML with ``first_order``) on the meta-train stream; K support + K query."""
    return _train(
        settings, seed, task_seed, lambda p, o, b: maml_step(p, o, b, settings), on_iteration
    )


def joint_mse(params: Params, batch: TaskBatch) -> torch.Tensor:
    """MSE of one network on all the batch's points (support and query) pooled: the mixture."""
    x = torch.cat([batch.support_x, batch.query_x], dim=1).reshape(-1, 1)
    y = torch.cat([batch.support_y, batch.query_y], dim=1).reshape(-1, 1)
    return ((_forward_one(params, x) - y) ** 2).mean()


def pretrain_step(params: Params, optimizer: torch.optim.Optimizer, batch: TaskBatch) -> float:
    """One step of joint regression on all the batch's points (support and query): the mixture."""
    optimizer.zero_grad(set_to_none=True)
    loss = joint_mse(params, batch)
    loss.backward()  # type: ignore[no-untyped-call]
    optimizer.step()
    return float(loss.detach())


def pretrain(
    settings: MetaSettings,
    seed: int = 0,
    task_seed: int = META_TRAIN_SEED,
    on_iteration: OnIteration | None = None,
) -> TrainResult:
    """The baseline: the same tasks, iterations, batch and Adam, regressed jointly; fine-tune it
    afterwards with ``adapt`` as MAML is adapted, at the step size ``choose_finetune_lr`` picks
    on meta-validation tasks."""
    return _train(settings, seed, task_seed, pretrain_step, on_iteration)


def graph_bytes(params: Params, batch: TaskBatch, settings: MetaSettings) -> int:
    """Bytes of the tensors one meta-iteration's graph still holds when ``backward`` starts
    (distinct storages; buffers the inner loop already freed are not counted).

    A CPU proxy for the peak memory of a meta-iteration: the graph is at its largest just before
    ``backward``, and on CPU the allocator offers no peak counter. Second-order MAML keeps the
    inner loop's backward graph too, so it holds more than FOMAML, and more with each inner step.
    """
    return saved_bytes(lambda: meta_loss(params, batch, settings))


def saved_bytes(loss_fn: Callable[[], torch.Tensor]) -> int:
    """Bytes of the distinct storages the autograd graph of ``loss_fn()`` holds for backward."""
    saved: list[weakref.ref[torch.Tensor]] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(weakref.ref(t))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = loss_fn()
    storages: dict[int, int] = {}
    for ref in saved:
        t = ref()
        if t is not None:
            storage = t.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
    del loss
    return sum(storages.values())


# --- Reptile (Nichol et al. 2018) -------------------------------------------------------------


@dataclass(frozen=True)
class ReptileSettings:
    """One Reptile run: ``inner_steps`` SGD steps (lr ``inner_lr``) on each task's support set,
    then ``params += step_size * mean over tasks of (adapted - params)``: the batched version of
    the paper's update, a plain interpolation (no Adam). No query set is used for training.
    ``step_size`` 1.0 (the paper's starting outer step size): at 1,000-1,500 iterations 0.1
    learnt too slowly to beat pretraining on the sinusoid (10-step MSE 2.55 against 1.81)."""

    iterations: int = 70_000
    meta_batch: int = 25
    k_shot: int = 10
    inner_lr: float = 0.01
    inner_steps: int = 5
    step_size: float = 1.0

    def __post_init__(self) -> None:
        for name in ("iterations", "meta_batch", "k_shot", "inner_steps"):
            count(name, getattr(self, name))
        for name in ("inner_lr", "step_size"):
            rate(name, getattr(self, name))
        if self.step_size > 1:
            raise ConfigError("step_size", f"must be at most 1, got {self.step_size!r}")


def reptile_step(params: Params, batch: TaskBatch, settings: ReptileSettings) -> float:
    """One Reptile meta-iteration, in place on ``params``; the mean query MSE after adaptation
    (a diagnostic only: the query set does not enter the update)."""
    shared = {k: p.detach() for k, p in params.items()}
    adapted = adapt(
        shared, batch.support_x, batch.support_y, settings.inner_steps, settings.inner_lr, True
    )
    adapted = {k: p.detach() for k, p in adapted.items()}
    with torch.no_grad():
        for k, p in params.items():
            p.add_(settings.step_size * (adapted[k].mean(dim=0) - p))
        return float(task_mse(adapted, batch.query_x, batch.query_y).mean())


def reptile_train(
    settings: ReptileSettings,
    seed: int = 0,
    task_seed: int = META_TRAIN_SEED,
    on_iteration: OnIteration | None = None,
) -> TrainResult:
    """Reptile on the meta-train stream (same tasks, seeds and budget as ``meta_train``)."""
    # _train's Adam is never stepped here: Reptile's outer update is the interpolation above.
    loop = MetaSettings(
        iterations=settings.iterations,
        meta_batch=settings.meta_batch,
        k_shot=settings.k_shot,
        inner_lr=settings.inner_lr,
        inner_steps=settings.inner_steps,
    )
    return _train(loop, seed, task_seed, lambda p, o, b: reptile_step(p, b, settings), on_iteration)


# --- ANIL (Raghu et al. 2020) -----------------------------------------------------------------

HEAD = (
    "4.weight",
    "4.bias",
)  # the last Linear of make_mlp: the only layer ANIL's inner loop adapts


def adapt_head(
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    inner_lr: float,
    first_order: bool,
) -> Params:
    """Like ``adapt``, but only the head (``HEAD``) takes inner SGD steps; the body's per-task
    copies are the shared body (expanded views), so the body is learned in the outer loop only.
    With ``first_order=False`` the graph is kept through the head's inner gradients."""
    n = int(x.shape[0])
    if params["0.weight"].dim() == _WEIGHT_DIM:
        params = _per_task(params, n)
    with torch.enable_grad():
        if not all(params[k].requires_grad for k in HEAD):
            params = {
                k: p.detach().clone().requires_grad_(True) if k in HEAD else p.detach()
                for k, p in params.items()
            }
        for _ in range(steps):
            loss = task_mse(params, x, y).sum()
            grads = torch.autograd.grad(
                loss, [params[k] for k in HEAD], create_graph=not first_order
            )
            params = dict(params)
            for k, g in zip(HEAD, grads, strict=True):
                params[k] = params[k] - inner_lr * g
    return params


def anil_loss(params: Params, batch: TaskBatch, settings: MetaSettings) -> torch.Tensor:
    """Mean query MSE after adapting only the head on each task's support set."""
    return meta_loss(params, batch, settings, adapt_head)


def anil_step(
    params: Params, optimizer: torch.optim.Optimizer, batch: TaskBatch, settings: MetaSettings
) -> float:
    """One ANIL meta-iteration (all parameters updated by Adam); the loss before."""
    return maml_step(params, optimizer, batch, settings, adapt_head)


def anil_train(
    settings: MetaSettings,
    seed: int = 0,
    task_seed: int = META_TRAIN_SEED,
    on_iteration: OnIteration | None = None,
) -> TrainResult:
    """ANIL on the meta-train stream, with MAML's settings (``first_order`` included)."""
    return _train(
        settings, seed, task_seed, lambda p, o, b: anil_step(p, o, b, settings), on_iteration
    )
