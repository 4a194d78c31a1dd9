"""NASWOT: a zero-cost proxy that scores an untrained network from one mini-batch.

Mellor, Turner, Storkey and Crowley, "Neural Architecture Search without Training", ICML 2021.
At initialisation, each input of a mini-batch of N switches some rectified units on (input > 0)
and others off: its binary code c_i, concatenated over all rectifier layers (N_A units in all).
A network whose codes for different inputs differ more can tell them apart more easily, and
trains to higher accuracy more often. The score is log |det K_H|, where K_H[i, j] is the number
of units on which c_i and c_j agree (N_A minus their Hamming distance). It costs one forward
pass and no training, which is why the ``naswot`` method can rank many random architectures for
the price of training one.

This follows the authors' reference code, github.com/BayesWatch/nas-without-training:
``score_networks.py`` (``counting_forward_hook``: for each ReLU call, with x = (input > 0),
K += x @ x.T + (1 - x) @ (1 - x).T, summed over layers; the network stays in train mode, as
built) and ``scores.py`` (``hooklogdet``: the log |det| from ``slogdet``). Where it differs:

- Which layers count: the reference hooks every module whose class name contains "ReLU"; here,
  by default, instances of ``nn.ReLU``, ``nn.ReLU6``, ``nn.LeakyReLU`` and ``nn.RReLU`` (and
  their subclasses). ``torch.nn.functional.relu`` calls are not modules and cannot be hooked:
  they do not count, and a model with no such module raises ``ValueError``. Smooth
  activations (GELU, SiLU, Mish, ...) count only if named in ``activations``; their units are
  coded by the sign of their input, as the ReLU's are (an extension: the paper has only ReLUs).
- The reference runs a backward pass first and counts only ReLUs that it reached; here no
  gradient is needed (``torch.no_grad``) and every hooked module that runs counts. The two
  differ only for a rectifier whose output never reaches the model's output.
- Dropout is off while scoring (a random mask would make the score random; the reference's
  networks have no dropout unless asked). Everything else runs in train mode, as in the
  reference: BatchNorm normalises with the batch's own statistics.
- The input is read in a forward pre-hook, so ``inplace=True`` modules are coded correctly.
- A singular K_H scores exactly ``-inf``, log 0 (see :func:`naswot_score` for when it is
  singular); the reference returns whatever ``slogdet`` makes of it after rounding, often a
  finite number of either sign.
- The model is left as it was: its train/eval modes and its buffers (BatchNorm's running
  statistics, which a train-mode forward pass updates) are restored.

The score depends on the batch and the initial weights: seed torch before building the model
and pass the same batch to compare architectures fairly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn


def default_activations() -> tuple[type[nn.Module], ...]:
    """The modules that count unless told otherwise: the ReLU family of ``torch.nn``."""
    from torch import nn

    return (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.RReLU)


def naswot_kernel(
    model: nn.Module,
    x: torch.Tensor,
    *,
    activations: tuple[type[nn.Module], ...] | None = None,
) -> torch.Tensor:
    """K_H for the batch ``x`` (N inputs): an (N, N) float64 tensor on ``x``'s device whose
    entry [i, j] counts the units that inputs i and j both switch on or both leave off.

    Its diagonal holds N_A, the number of units coded. ``activations`` are the module types
    whose inputs are coded (default: :func:`default_activations`). Raises ``ValueError`` if the
    model has none of them, or none of them runs in the forward pass.
    """
    kinds = default_activations() if activations is None else tuple(activations)
    if x.dim() < 1 or x.shape[0] < 1:
        raise ValueError(
            f"`x` must be a batch of at least one input, but got shape {tuple(x.shape)}."
        )
    hooked = _rectifiers(model, kinds)
    codes = _Codes.for_batch(x)
    _forward_once(model, x, [(m, codes.hook(name)) for name, m in hooked])
    if codes.calls == 0:
        raise ValueError(
            f"NASWOT: none of the {len(hooked)} rectifier modules of {type(model).__name__} ran "
            "in the forward pass (does forward call torch.nn.functional.relu instead?)."
        )
    return codes.kernel


def _rectifiers(
    model: nn.Module, kinds: tuple[type[nn.Module], ...]
) -> list[tuple[str, nn.Module]]:
    """The model's modules whose inputs are coded, by name; ``ValueError`` if it has none."""
    hooked = [(name, m) for name, m in model.named_modules() if isinstance(m, kinds)]
    if not hooked:
        names = ", ".join(k.__name__ for k in kinds)
        raise ValueError(
            f"NASWOT codes the units of rectifier modules, but {type(model).__name__} has none "
            f"({names}); torch.nn.functional.relu calls cannot be hooked: use nn.ReLU modules, "
            "or name other activation modules in `activations`."
        )
    return hooked


@dataclass
class _Codes:
    """K_H as the hooks add each coded layer to it, and how many layers did."""

    n: int  # the batch's inputs
    kernel: torch.Tensor
    calls: int = 0

    @classmethod
    def for_batch(cls, x: torch.Tensor) -> _Codes:
        import torch

        n = x.shape[0]
        return cls(n, torch.zeros(n, n, dtype=torch.float64, device=x.device))

    def hook(self, name: str) -> Callable[[nn.Module, tuple[Any, ...]], None]:
        """A forward pre-hook that codes the input of the module ``name``."""
        import torch

        def code(module: nn.Module, args: tuple[Any, ...]) -> None:
            if not args or not isinstance(args[0], torch.Tensor):
                raise ValueError(f"NASWOT: {name!r} was called without a tensor input.")
            inp = args[0]
            if inp.dim() < 1 or inp.shape[0] != self.n:
                raise ValueError(
                    f"NASWOT: the input of {name!r} has shape {tuple(inp.shape)}, but its first "
                    f"dimension must be the batch of {self.n}."
                )
            c = (inp.detach().reshape(self.n, -1) > 0).to(torch.float64)
            self.kernel += c @ c.T + (1.0 - c) @ (1.0 - c).T
            self.calls += 1

        return code


def _forward_once(
    model: nn.Module,
    x: torch.Tensor,
    hooks: list[tuple[nn.Module, Callable[[nn.Module, tuple[Any, ...]], None]]],
) -> None:
    """One forward pass of ``x`` in train mode with dropout off and ``hooks`` in place; the
    model's modes and buffers are as they were afterwards."""
    import torch
    from torch import nn

    dropouts = (
        nn.Dropout,
        nn.Dropout1d,
        nn.Dropout2d,
        nn.Dropout3d,
        nn.AlphaDropout,
        nn.FeatureAlphaDropout,
    )
    modes = [(m, m.training) for m in model.modules()]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    handles = [m.register_forward_pre_hook(hook) for m, hook in hooks]
    try:
        model.train()
        for m in model.modules():
            if isinstance(m, dropouts):
                m.eval()
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
        for m, training in modes:
            m.training = training
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)


def naswot_score(
    model: nn.Module,
    x: torch.Tensor,
    *,
    activations: tuple[type[nn.Module], ...] | None = None,
) -> float:
    """The NASWOT score of ``model`` on the batch ``x``: log |det K_H| (higher is better).

    ``-inf`` when K_H is singular: always when two inputs share a code, and whenever the batch
    has more inputs than N_A + 1 (K_H = A A^T with A = [C, 1 - C], whose columns span at most
    the N_A codes' columns and the all-ones vector, so rank K_H <= N_A + 1); otherwise when
    ``torch.linalg.matrix_rank`` (default tolerance) finds it rank-deficient. K_H has integer
    entries, so its determinant is 0 or at least 1: a finite score is never negative, and the
    large finite numbers ``slogdet`` returns for a singular K_H are rounding, not signal. See
    :func:`naswot_kernel` for ``activations`` and the errors raised.
    """
    import torch

    kernel = naswot_kernel(model, x, activations=activations)
    n = kernel.shape[0]
    n_units = float(kernel[0, 0])
    same_code = kernel == n_units  # off the diagonal: two inputs agree on every unit
    same_code.fill_diagonal_(False)
    if n > n_units + 1 or bool(same_code.any()):
        return -math.inf
    if int(torch.linalg.matrix_rank(kernel, hermitian=True)) < n:
        return -math.inf
    return float(torch.linalg.slogdet(kernel).logabsdet)


__all__ = ["default_activations", "naswot_kernel", "naswot_score"]
