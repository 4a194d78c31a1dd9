"""Regularized (aging) evolution as an Optuna sampler.

Real, Aggarwal, Huang & Le, "Regularized Evolution for Image Classifier Architecture Search",
AAAI 2019 (arXiv:1802.01548), Algorithm 1:

1. *Initial population.* The first ``P`` (``population_size``) configurations are drawn at
   random; each joins the population once its result is known.
2. *Cycles.* Each later configuration is a *child*: ``S`` (``sample_size``) members of the
   population are picked uniformly at random, the one with the best objective value (in the
   study's direction, minimize or maximize) is the *parent*, and the child is the parent with
   exactly one parameter mutated: a parameter of the parent chosen uniformly, given a different
   value (another category for a categorical; for an int or float a new draw from its
   distribution, redrawn until it differs).
3. *Aging.* When the child's result is told it joins the population and the *oldest* member
   leaves, whatever its value. The population is therefore always the last ``P`` finished
   trials, which is what "regularizes" the search: a configuration that was lucky once
   cannot stay forever, it has to be re-discovered through its descendants.

How this maps onto Optuna:

* The population is read from the study, not kept in the sampler: it is the last ``P`` trials
  in state ``COMPLETE``, ordered by completion time (then trial number). Failed and pruned
  trials never join it. A study resumed from storage, or one driven through ask/tell (Ray Tune's
  ``OptunaSearch``), therefore has the same population as one run by ``study.optimize``.
* Asynchronous use: trials may be asked before earlier ones are told. Each trial's tournament
  uses the population finished at the moment it is asked; while fewer than ``P`` trials have
  finished, trials are drawn at random (the initial population, possibly more than ``P`` trials
  when many run at once).
* Define-by-run spaces: the parent and the parameter to mutate are chosen in
  :meth:`~RegularizedEvolutionSampler.before_trial`, from the parent's parameter names. In
  :meth:`~RegularizedEvolutionSampler.sample_independent` the child copies the parent's value of
  every parameter the parent has (if it still fits the child's distribution), mutates the chosen
  one, and draws at random any parameter the parent never had (one that appears because the
  mutation changed a structural choice, such as the number of layers).
* The parent's trial number is recorded in the child's system attribute ``rea_parent`` and the
  mutated parameter's name in ``rea_mutation``; random trials have neither.
* Deviation from Algorithm 1: the ``S`` tournament members are drawn *without* replacement, so
  ``sample_size == population_size`` means "the parent is the best of the population". Ties
  on the objective go to the tied member that was drawn first (uniformly at random).

Single-objective studies only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from automl_bench.distributions import contains

__all__ = [
    "REA_MUTATION_ATTR",
    "REA_PARENT_ATTR",
    "RegularizedEvolutionSampler",
    "rea_population_size",
    "rea_sampler",
]

REA_PARENT_ATTR = "rea_parent"
"""Child trial's system attribute: the parent's trial number."""

REA_MUTATION_ATTR = "rea_mutation"
"""Child trial's system attribute: the name of the parameter mutated from the parent."""

_MAX_REDRAWS = 100
"""Numeric mutation: draws tried before giving up on finding a value unlike the parent's."""

_SEED_SPACE = 2**31 - 1


@dataclass(frozen=True)
class _Plan:
    """What a child trial inherits: its parent's parameters and the one to mutate."""

    params: dict[str, Any]
    mutate: str | None


def _check_int(name: str, value: object, low: int, high: int | None, rule: str) -> int:
    """``value`` if it is an int in ``[low, high]``, else a ValueError naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return value


class RegularizedEvolutionSampler(BaseSampler):
    """Regularized (aging) evolution, Real et al. 2019; see the module docstring.

    Args:
        population_size: ``P``, the number of most recently finished trials that make up the
            population (at least 2). The first ``P`` finished trials are random.
        sample_size: ``S``, the tournament size: how many population members are drawn
            (without replacement) to pick the best one as parent; between 1 (random parent) and
            ``population_size`` (always the best of the population).
        seed: seeds every random choice (random trials, tournaments, mutations); the same seed
            and the same objective give the same sequence of configurations.
    """

    def __init__(
        self, population_size: int = 20, sample_size: int = 5, seed: int | None = None
    ) -> None:
        self._population_size = _check_int(
            "population_size", population_size, 2, None, "an integer >= 2"
        )
        self._sample_size = _check_int(
            "sample_size",
            sample_size,
            1,
            self._population_size,
            f"an integer between 1 and population_size ({self._population_size})",
        )
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(f"seed must be an integer or None, got {seed!r}")
        self._rng = np.random.RandomState(seed)
        self._random = RandomSampler(seed=int(self._rng.randint(_SEED_SPACE)))
        self._plans: dict[int, _Plan | None] = {}  # keyed by trial id, until the trial is told

    @property
    def population_size(self) -> int:
        return self._population_size

    @property
    def sample_size(self) -> int:
        return self._sample_size

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._random.reseed_rng()

    def population(self, study: Study) -> list[FrozenTrial]:
        """The current population, oldest first: the last ``population_size`` trials of
        ``study`` to finish in state ``COMPLETE`` (fewer while the study has fewer)."""
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        complete.sort(key=lambda t: (t.datetime_complete or datetime.min, t.number))
        return complete[-self._population_size :]

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return {}

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if study._is_multi_objective():
            raise ValueError(
                f"{type(self).__name__} supports single-objective studies only; this study "
                f"has {len(study.directions)} objectives"
            )
        self._plans[trial._trial_id] = self._choose(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._plans.pop(trial._trial_id, None)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        plan = self._plans.get(trial._trial_id)  # None: a random trial
        if plan is None or param_name not in plan.params:
            return self._random.sample_independent(study, trial, param_name, param_distribution)
        inherited = plan.params[param_name]
        if param_name == plan.mutate:
            return self._mutate(study, trial, param_name, param_distribution, inherited)
        if _internal(param_distribution, inherited) is not None:
            return inherited
        # The parent's value does not fit this trial's distribution (a range that depends on
        # an earlier choice): draw it afresh.
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def _choose(self, study: Study, trial: FrozenTrial) -> _Plan | None:
        """The tournament: pick the parent and the parameter to mutate, or None (random)."""
        if "fixed_params" in trial.system_attrs:  # enqueued by hand: not a child
            return None
        population = self.population(study)
        if len(population) < self._population_size:
            return None
        picks = self._rng.choice(len(population), size=self._sample_size, replace=False)
        sign = 1.0 if study.direction == StudyDirection.MINIMIZE else -1.0
        parent = min((population[int(i)] for i in picks), key=lambda t: sign * _value(t))
        mutable = sorted(name for name, d in parent.distributions.items() if not d.single())
        mutate = mutable[int(self._rng.randint(len(mutable)))] if mutable else None
        storage = study._storage
        storage.set_trial_system_attr(trial._trial_id, REA_PARENT_ATTR, parent.number)
        storage.set_trial_system_attr(trial._trial_id, REA_MUTATION_ATTR, mutate)
        return _Plan(dict(parent.params), mutate)

    def _mutate(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        distribution: BaseDistribution,
        inherited: Any,
    ) -> Any:
        """A value of ``distribution`` different from the parent's ``inherited`` one."""
        current = _internal(distribution, inherited)
        if isinstance(distribution, CategoricalDistribution) and current is not None:
            others = [i for i in range(len(distribution.choices)) if i != int(current)]
            if others:
                return distribution.choices[others[int(self._rng.randint(len(others)))]]
        value = self._random.sample_independent(study, trial, param_name, distribution)
        for _ in range(_MAX_REDRAWS - 1):
            if current is None or distribution.to_internal_repr(value) != current:
                break
            value = self._random.sample_independent(study, trial, param_name, distribution)
        return value


def _value(trial: FrozenTrial) -> float:
    assert trial.value is not None  # COMPLETE single-objective trials have a value
    return trial.value


def _internal(distribution: BaseDistribution, value: Any) -> float | None:
    """``value`` in ``distribution``'s internal representation, None if it does not fit."""
    try:
        internal = distribution.to_internal_repr(value)
    except (ValueError, TypeError):
        return None
    return internal if contains(distribution, value) else None


def rea_population_size(n_trials: int) -> int:
    """Population for a budget of ``n_trials``: half the budget, at least 2, at most 20."""
    return min(20, max(2, n_trials // 2))


def rea_sampler(seed: int, n_trials: int) -> optuna.samplers.BaseSampler:
    """Regularized evolution (Real et al. 2019) sized for the budget.

    Population ``P = min(20, max(2, n_trials // 2))``: the random initial population takes
    about half of a small budget, leaving the other half for mutation (the paper's runs use far
    larger populations and budgets); tournament ``S = min(5, P)``, the whole population when
    ``P <= 5``.
    """
    _check_int("n_trials", n_trials, 1, None, "an integer >= 1")
    population = rea_population_size(n_trials)
    return RegularizedEvolutionSampler(
        population_size=population, sample_size=min(5, population), seed=seed
    )
