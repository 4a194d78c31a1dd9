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

    Search trials are scored by validation accuracy after training, unless the method has a
    ``proxy`` (``naswot``: a score at initialisation, no training). A method without a sampler
    does no search: its study trains one fixed point of the space in
    the final phase only, ``fixed``: the hand-designed ``baseline`` or the untuned ``defaults``.
    """

    name: str
    description: str
    make_sampler: SamplerFactory | None = None
    fixed: str = "baseline"
    # multi-fidelity: a Ray Tune scheduler ("asha", "hyperband") stops poor trials early, with
    # epochs as the fidelity; a stopped trial is charged for the epochs it ran
    fidelity: str | None = None
    # multi-objective: validation accuracy and the config's cost objective (search.cost_objective)
    multi_objective: bool = False
    # a zero-cost proxy scores configurations at initialisation instead of training them
    proxy: str | None = None
    # one-shot weight sharing: DARTS of this order (1 or 2) on the space's supernet, one search
    # trial that trains the supernet and derives the discrete configuration
    one_shot: int | None = None
    # meta-learning: the algorithm this method runs on a meta-learning family's tasks (its
    # study meta-trains once, in the final phase, with the algorithm's settings)
    meta: str | None = None
    # warm start: the study begins from earlier studies' best configurations (enqueued) and
    # searches the bounding box around them (config: search.warmstart_from)
    warmstart: bool = False

    @property
    def searches(self) -> bool:
        return self.make_sampler is not None or self.one_shot is not None
