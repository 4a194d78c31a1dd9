"""DARTS: differentiable architecture search (Liu, Simonyan & Yang, ICLR 2019).

The algorithm. A supernet mixes every candidate op on every edge with the softmax of
architecture parameters alpha. Weights w and alpha are fitted as a bilevel problem: alpha
minimises the validation loss L_val(w*(alpha), alpha), where w*(alpha) minimises the training loss.
DARTS alternates one step of each, per training batch:

1. alpha, on a validation batch, with Adam:
   - first order (``order=1``, "DARTS-V1" in NB-201): the gradient of L_val(w, alpha) at the
     current weights;
   - second order (``order=2``, "DARTS-V2"), the paper's eq. 7-8: with one virtual SGD step
     w' = w - xi grad_w L_train(w, alpha), xi the current weight learning rate, the gradient is
     grad_alpha L_val(w', alpha)
     - xi (grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)) / (2 eps),
     where w+- = w +- eps grad_w' L_val(w', alpha) and eps = 0.01 / ||grad_w' L_val(w', alpha)||
     (the Hessian-vector product by central finite differences). The virtual step is the paper's
     plain gradient step; the reference code also adds the momentum buffer and weight decay to it.
2. w, on the training batch, with SGD (momentum, weight decay, gradient-norm clipping); the
   learning rate anneals along a cosine from ``w_lr`` to ``w_lr_min`` over the epochs.

After the search the discrete architecture is ``supernet.derive()`` (in NB-201: the argmax op per
edge); it is then trained from scratch like any other configuration (the final phase).

The settings' sources: DARTS, section 3.1.1 and appendix A.1.1 (and its code, ``train_search.py``):
SGD for w at lr 0.025 cosine-annealed to 0.001, momentum 0.9, weight decay 3e-4, gradient clipping
at norm 5, batch size 64; Adam for alpha at lr 3e-4, betas (0.5, 0.999), weight decay 1e-3; 50
epochs. NB-201 ran DARTS on its space with these settings.

The data: ``x_train`` fits w and ``x_val`` fits alpha, so both are search data (DARTS splits
CIFAR-10's training set in halves); the test split must stay out of the search. The supernet's
validation accuracy in the history is measured on ``x_val``: a search signal, not an estimate of
the derived model's accuracy. The search runs in float32 (no bf16 autocast: the finite-difference
Hessian product needs the precision).

The known failure, which this method must report and not tune away: on NAS-Bench-201-like spaces
DARTS collapses towards skip connections and other parameter-free ops. In NB-201 (Dong & Yang,
ICLR 2020) both DARTS-V1 and DARTS-V2 ended with cells of only skip connections, at
54.30% CIFAR-10 test accuracy against about 94% for the ResNet cell. Every epoch's record carries
the derived cell and its number of ``skip_connect`` edges so that reports show the collapse.

The supernet is any ``torch.nn.Module`` that provides (see ``Supernet``)::

    arch_parameters() -> list[nn.Parameter]     # alpha
    weight_parameters() -> list[nn.Parameter]   # w: disjoint from alpha, together all parameters
    derive() -> dict[str, Any]                  # the discrete configuration alpha picks now

and, optionally, ``edge_names`` and ``op_names``, naming the rows and columns of its architecture
parameters (the rows of all of them, flattened to (-1, ops), in order), for the history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

import torch
from torch import nn
from torch.func import functional_call

from automl_bench.train import TrainingDiverged, evaluate

SKIP_CONNECT = "skip_connect"


@runtime_checkable
class Supernet(Protocol):
    """What ``darts_search`` needs of a supernet, besides being an ``nn.Module``."""

    def arch_parameters(self) -> list[nn.Parameter]: ...

    def weight_parameters(self) -> list[nn.Parameter]: ...

    def derive(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DartsSettings:
    """DARTS's settings; defaults from the DARTS paper (see the module docstring).

    ``order`` 1 is first-order DARTS (DARTS-V1), 2 the unrolled second-order one (DARTS-V2).
    ``fd_radius`` is the 0.01 in eps = 0.01 / ||grad_w' L_val|| (second order only).
    """

    epochs: int
    order: int
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    alpha_lr: float = 3e-4
    alpha_betas: tuple[float, float] = (0.5, 0.999)
    alpha_weight_decay: float = 1e-3
    batch_size: int = 64
    grad_clip: float = 5.0
    fd_radius: float = 0.01

    def __post_init__(self) -> None:
        def bad(name: str, must: str) -> ValueError:
            return ValueError(f"DartsSettings.{name} must be {must}, got {getattr(self, name)!r}")

        def is_int(v: object) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v: object) -> bool:
            return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

        if not is_int(self.epochs) or self.epochs < 1:
            raise bad("epochs", "an integer >= 1")
        if not is_int(self.order) or self.order not in (1, 2):
            raise bad("order", "1 (first order) or 2 (second order)")
        if not is_int(self.batch_size) or self.batch_size < 1:
            raise bad("batch_size", "an integer >= 1")
        for name in ("w_lr", "alpha_lr", "grad_clip", "fd_radius"):
            if not is_num(getattr(self, name)) or getattr(self, name) <= 0:
                raise bad(name, "a finite number > 0")
        for name in ("w_weight_decay", "alpha_weight_decay"):
            if not is_num(getattr(self, name)) or getattr(self, name) < 0:
                raise bad(name, "a finite number >= 0")
        if not is_num(self.w_lr_min) or not 0 <= self.w_lr_min <= self.w_lr:
            raise bad("w_lr_min", f"a number in [0, w_lr = {self.w_lr}]")
        if not is_num(self.w_momentum) or not 0 <= self.w_momentum < 1:
            raise bad("w_momentum", "a number in [0, 1)")
        betas = self.alpha_betas
        if (
            not isinstance(betas, tuple | list)
            or len(betas) != 2
            or not all(is_num(b) and 0 <= b < 1 for b in betas)
        ):
            raise bad("alpha_betas", "two numbers in [0, 1)")


@dataclass(frozen=True)
class DartsEpoch:
    """One epoch of the search. ``alpha_softmax``: edge -> op -> weight (each edge sums to 1);
    ``config``: the configuration ``derive()`` gave after the epoch."""

    epoch: int  # 1-based
    train_loss: float  # mean over the epoch's weight steps
    val_loss: float  # the supernet on the whole of x_val, after the epoch
    val_accuracy: float
    alpha_softmax: dict[str, dict[str, float]]
    config: dict[str, Any]
    skip_connect_edges: int  # values of ``config`` equal to "skip_connect"
    w_lr: float  # the weight learning rate (and xi) used in this epoch
    wall_s: float  # this epoch's wall-clock time, validation included

    def to_dict(self) -> dict[str, float]:
        """The numeric metrics, named as the trainer's are (for tracking)."""
        return {
            "epoch": float(self.epoch),
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "skip_connect_edges": float(self.skip_connect_edges),
            "w_lr": self.w_lr,
            "wall_s": self.wall_s,
        }


@dataclass(frozen=True)
class DartsResult:
    config: dict[str, Any]  # supernet.derive() after the last epoch
    history: list[DartsEpoch]
    alphas: list[torch.Tensor] = field(default_factory=list)  # final alpha, detached, on CPU


def alpha_softmax(supernet: Supernet) -> dict[str, dict[str, float]]:
    """The softmax of every row of the architecture parameters, named by the supernet's
    ``edge_names`` / ``op_names`` where it has them (else ``alpha_<k>`` / ``op_<k>``)."""
    rows: list[list[float]] = []
    for p in supernet.arch_parameters():
        flat = p.detach().float().reshape(-1, p.shape[-1] if p.dim() else 1)
        rows += torch.softmax(flat, dim=-1).cpu().tolist()
    edges = _names(getattr(supernet, "edge_names", None), len(rows), "alpha")
    out: dict[str, dict[str, float]] = {}
    for edge, row in zip(edges, rows, strict=True):
        ops = _names(getattr(supernet, "op_names", None), len(row), "op")
        out[edge] = dict(zip(ops, row, strict=True))
    return out


def _names(names: object, n: int, prefix: str) -> list[str]:
    if isinstance(names, Sequence) and not isinstance(names, str) and len(names) == n:
        return [str(x) for x in names]
    return [f"{prefix}_{k}" for k in range(n)]


def _check_supernet(supernet: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    if not isinstance(supernet, nn.Module) or not isinstance(supernet, Supernet):
        raise TypeError(
            "DARTS needs an nn.Module with arch_parameters(), weight_parameters() and derive(), "
            f"got {type(supernet).__name__}"
        )
    arch, weights = list(supernet.arch_parameters()), list(supernet.weight_parameters())
    if not arch:
        raise ValueError("the supernet has no architecture parameters")
    ids_a, ids_w = {id(p) for p in arch}, {id(p) for p in weights}
    if ids_a & ids_w:
        raise ValueError("the supernet's arch_parameters and weight_parameters overlap")
    if ids_a | ids_w != {id(p) for p in supernet.parameters()}:
        raise ValueError(
            "the supernet's arch_parameters and weight_parameters together must be all its "
            "parameters"
        )
    return arch, weights


class _Cycle:
    """Endless shuffled index batches of ``range(n)``, reshuffled after each pass."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, device: torch.device):
        self.n, self.batch_size, self.generator, self.device = n, batch_size, generator, device
        self.order = torch.empty(0, dtype=torch.long, device=device)
        self.pos = n

    def next(self) -> torch.Tensor:
        if self.pos >= self.n:
            self.order = torch.randperm(self.n, device=self.device, generator=self.generator)
            self.pos = 0
        idx = self.order[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        return idx


def _grads(loss: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """d loss / d params, zeros for parameters the loss does not use."""
    grads = torch.autograd.grad(loss, list(params), allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]


def _loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    return nn.functional.cross_entropy(logits, y)


def _first_order(
    net: nn.Module, arch: list[nn.Parameter], xv: torch.Tensor, yv: torch.Tensor
) -> tuple[list[torch.Tensor], torch.Tensor]:
    loss = _loss(net(xv), yv)
    return _grads(loss, arch), loss.detach()


def _second_order(
    net: nn.Module,
    arch: list[nn.Parameter],
    weights: list[nn.Parameter],
    names: list[str],
    batches: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    xi: float,
    radius: float,
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """grad_alpha L_val(w', alpha) - xi * (Hessian-vector product), DARTS eq. 7-8."""
    xt, yt, xv, yv = batches
    g_train = _grads(_loss(net(xt), yt), weights)
    unrolled = [
        (w.detach() - xi * g).requires_grad_() for w, g in zip(weights, g_train, strict=True)
    ]
    loss_val = _loss(functional_call(net, dict(zip(names, unrolled, strict=True)), (xv,)), yv)
    grads = _grads(loss_val, [*arch, *unrolled])
    d_alpha, d_unrolled = grads[: len(arch)], grads[len(arch) :]
    norm = torch.cat([g.reshape(-1) for g in d_unrolled]).norm()
    eps = radius / norm.clamp_min(1e-12)  # a zero gradient gives w+ = w- and no correction

    def grad_alpha_at(sign: float) -> list[torch.Tensor]:
        moved = {
            n: w.detach() + sign * eps * d
            for n, w, d in zip(names, weights, d_unrolled, strict=True)
        }
        return _grads(_loss(functional_call(net, moved, (xt,)), yt), arch)

    plus, minus = grad_alpha_at(1.0), grad_alpha_at(-1.0)
    hvp = [(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)]
    return [d - xi * h for d, h in zip(d_alpha, hvp, strict=True)], loss_val.detach()


def darts_search(
    supernet: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    settings: DartsSettings,
    seed: int,
    on_epoch: Callable[[DartsEpoch], None] | None = None,
) -> DartsResult:
    """Search with DARTS on ``supernet`` (in place: its weights and alpha are trained).

    Tensors are already on the device; batches are index slices, shuffled by a generator seeded
    with ``seed`` (the supernet's initialisation is the caller's: seed torch before building it).
    Raises ``TrainingDiverged`` when a loss or alpha stops being finite.
    """
    arch, weights = _check_supernet(supernet)
    net = cast(Supernet, supernet)
    if len(x_train) == 0 or len(x_val) == 0:
        raise ValueError("DARTS needs non-empty training and validation data")
    search = _search_state(supernet, arch, weights, settings, seed, len(x_val), x_train.device)
    history: list[DartsEpoch] = []
    for epoch in range(1, settings.epochs + 1):
        start = time.perf_counter()
        xi = float(search.w_opt.param_groups[0]["lr"])
        train_loss, search_val_sum = _search_epoch(search, x_train, y_train, x_val, y_val, xi)
        search.schedule.step()
        _check_finite(epoch, train_loss, search_val_sum, arch)
        val_loss_full, val_accuracy = evaluate(supernet, x_val, y_val)
        config = net.derive()
        record = DartsEpoch(
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss_full,
            val_accuracy=val_accuracy,
            alpha_softmax=alpha_softmax(net),
            config=config,
            skip_connect_edges=sum(1 for v in config.values() if v == SKIP_CONNECT),
            w_lr=xi,
            wall_s=time.perf_counter() - start,
        )
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
    return DartsResult(
        config=net.derive(),
        history=history,
        alphas=[p.detach().cpu().clone() for p in arch],
    )


@dataclass(frozen=True)
class _Search:
    """What every step of one search uses: the supernet, its two parameter sets and their
    optimisers, the weights' learning-rate schedule, and the seeded batch order."""

    supernet: nn.Module
    arch: list[nn.Parameter]
    weights: list[nn.Parameter]
    weight_names: list[str]  # the weights' names in the supernet (for functional_call)
    settings: DartsSettings
    w_opt: torch.optim.SGD
    schedule: torch.optim.lr_scheduler.CosineAnnealingLR
    a_opt: torch.optim.Adam
    generator: torch.Generator
    val_batches: _Cycle


def _search_state(
    supernet: nn.Module,
    arch: list[nn.Parameter],
    weights: list[nn.Parameter],
    settings: DartsSettings,
    seed: int,
    n_val: int,
    device: torch.device,
) -> _Search:
    name_of = {id(p): n for n, p in supernet.named_parameters()}
    w_opt = torch.optim.SGD(
        weights,
        lr=settings.w_lr,
        momentum=settings.w_momentum,
        weight_decay=settings.w_weight_decay,
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        w_opt, T_max=settings.epochs, eta_min=settings.w_lr_min
    )
    a_opt = torch.optim.Adam(
        arch,
        lr=settings.alpha_lr,
        betas=(float(settings.alpha_betas[0]), float(settings.alpha_betas[1])),
        weight_decay=settings.alpha_weight_decay,
    )
    generator = torch.Generator(device=device).manual_seed(seed)
    val_batches = _Cycle(n_val, settings.batch_size, generator, device)
    names = [name_of[id(p)] for p in weights]
    return _Search(
        supernet, arch, weights, names, settings, w_opt, schedule, a_opt, generator, val_batches
    )


def _search_epoch(
    search: _Search,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    xi: float,
) -> tuple[float, float]:
    """One pass over the training split: per batch, one alpha step then one weight step.
    Returns the mean training loss and the sum of the alpha steps' validation losses."""
    n, batch_size, device = len(x_train), search.settings.batch_size, x_train.device
    search.supernet.train()
    order = torch.randperm(n, device=device, generator=search.generator)
    train_sum = torch.zeros((), device=device)
    search_val_sum = torch.zeros((), device=device)
    for i in range(0, n, batch_size):
        idx, vidx = order[i : i + batch_size], search.val_batches.next()
        batches = (x_train[idx], y_train[idx], x_val[vidx], y_val[vidx])
        search_val_sum += _alpha_step(search, batches, xi)
        train_sum += _weight_step(search, batches[0], batches[1]) * len(idx)
    return float(train_sum) / n, float(search_val_sum)  # one device sync per epoch, not per step


def _alpha_step(
    search: _Search,
    batches: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    xi: float,
) -> torch.Tensor:
    """1. alpha on the validation batch; returns that batch's loss (detached)."""
    _, _, xv, yv = batches
    if search.settings.order == 1:
        d_alpha, val_loss = _first_order(search.supernet, search.arch, xv, yv)
    else:
        d_alpha, val_loss = _second_order(
            search.supernet,
            search.arch,
            search.weights,
            search.weight_names,
            batches,
            xi,
            search.settings.fd_radius,
        )
    for p, g in zip(search.arch, d_alpha, strict=True):
        p.grad = g
    search.a_opt.step()
    search.a_opt.zero_grad(set_to_none=True)
    return val_loss


def _weight_step(search: _Search, xt: torch.Tensor, yt: torch.Tensor) -> torch.Tensor:
    """2. w on the training batch; returns its loss (detached)."""
    loss = _loss(search.supernet(xt), yt)
    for p, g in zip(search.weights, _grads(loss, search.weights), strict=True):
        p.grad = g
    nn.utils.clip_grad_norm_(search.weights, search.settings.grad_clip)
    search.w_opt.step()
    search.w_opt.zero_grad(set_to_none=True)
    return loss.detach()


def _check_finite(
    epoch: int, train_loss: float, search_val_sum: float, arch: list[nn.Parameter]
) -> None:
    finite_alpha = all(bool(torch.isfinite(p).all()) for p in arch)
    if not (math.isfinite(train_loss) and math.isfinite(search_val_sum) and finite_alpha):
        raise TrainingDiverged(
            f"DARTS diverged in epoch {epoch}: training loss {train_loss}, "
            f"validation-step loss sum {search_val_sum}, alpha finite: {finite_alpha}"
        )
