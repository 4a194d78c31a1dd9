"""A method: how configurations are chosen. Data, not a class hierarchy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

SamplerFactory = Callable[[int, int], "optuna.samplers.BaseSampler"]


@dataclass(frozen=True)
class Method:
    """``make_sampler(seed, n_trials)`` builds the Optuna sampler of one study.

    A method without a sampler does no search: its study trains one fixed point of the space in
    the final phase only, ``fixed``: the hand-designed ``baseline`` or the untuned ``defaults``.
    """

    name: str
    description: str
    make_sampler: SamplerFactory | None = None
    fixed: str = "baseline"

    @property
    def searches(self) -> bool:
        return self.make_sampler is not None
