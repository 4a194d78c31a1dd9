"""Optuna samplers with every argument pinned (Optuna 5.0 changed several defaults)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna


def random_sampler(seed: int, n_trials: int) -> optuna.samplers.BaseSampler:
    """Random search (Li & Talwalkar 2019): the baseline every search method must beat."""
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def tpe_startup_trials(n_trials: int) -> int:
    """Random trials before TPE models the space: a third of the budget, at least 2, at most 10."""
    return max(2, min(10, n_trials // 3))


def tpe_sampler(seed: int, n_trials: int) -> optuna.samplers.BaseSampler:
    """TPE (Bergstra et al. 2011), multivariate, with the constant liar for parallel trials."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # group=True
        return optuna.samplers.TPESampler(
            n_startup_trials=tpe_startup_trials(n_trials),
            n_ei_candidates=24,
            seed=seed,
            multivariate=True,
            group=True,  # conditional spaces (depth decides which widths exist)
            constant_liar=True,
        )


def nsga2_sampler(seed: int, n_trials: int) -> optuna.samplers.BaseSampler:
    """NSGA-II (Deb et al. 2002), multi-objective; the population a quarter of the budget
    (at least 4, at most 50), so that small budgets still see several generations."""
    from automl_bench.methods.picklable import NSGAIISampler

    return NSGAIISampler(population_size=max(4, min(50, n_trials // 4)), seed=seed)


def motpe_sampler(seed: int, n_trials: int) -> optuna.samplers.BaseSampler:
    """Multi-objective TPE (Ozaki et al. 2020): Optuna's TPE on several objectives."""
    import optuna

    return optuna.samplers.TPESampler(
        n_startup_trials=tpe_startup_trials(n_trials), seed=seed, constant_liar=True
    )
