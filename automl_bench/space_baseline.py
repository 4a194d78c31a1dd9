"""Is a space's baseline a point of the space? Replay it through ``space`` and say what is off.

The baseline is replayed through ``space`` on a :class:`BaselineTrial`, Optuna's ``FixedTrial``
that stops at the first parameter the baseline lacks or holds outside its distribution (a
``FixedTrial`` raises on the first in Optuna's words and only warns about the second). What
comes back must be the baseline: no key the space neither suggests nor returns, no constant that
differs. Each problem is said in our words, naming the parameter and what the space allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from automl_bench.distributions import contains, describe
from automl_bench.space_errors import BaselineOffSpace


class BaselineTrial(optuna.trial.FixedTrial):
    """``FixedTrial(baseline)`` that raises :class:`BaselineOffSpace` for a parameter the
    baseline lacks, or holds outside the distribution ``space`` suggests it from."""

    def __init__(self, baseline: Mapping[str, Any]) -> None:
        super().__init__(dict(baseline))
        self._baseline = dict(baseline)

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        self._check(name, FloatDistribution(low, high, log=log, step=step))
        return super().suggest_float(name, low, high, step=step, log=log)

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        self._check(name, IntDistribution(low, high, log=log, step=step))
        return super().suggest_int(name, low, high, step=step, log=log)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self._check(name, CategoricalDistribution(choices=choices))
        return super().suggest_categorical(name, choices)

    def _check(self, name: str, distribution: BaseDistribution) -> None:
        if name not in self._baseline:
            raise BaselineOffSpace(
                f"the baseline has no value for {name!r}, which space suggests "
                f"({describe(distribution)})"
            )
        value = self._baseline[name]
        if not contains(distribution, value):
            raise BaselineOffSpace(
                f"the baseline's {name}={value!r} is outside the space: space suggests {name!r} "
                f"as {describe(distribution)}"
            )


def replay_baseline(
    space: Callable[[Any], object], baseline: Mapping[str, Any]
) -> tuple[dict[str, Any], object]:
    """What ``space`` suggests for the baseline, and what it returns (its constants, unchecked).

    Raises :class:`BaselineOffSpace` for a parameter the baseline lacks or holds outside its
    distribution, and lets any other exception of ``space`` through.
    """
    trial = BaselineTrial(baseline)
    constants = space(trial)
    return dict(trial.params), constants


def baseline_mismatch(baseline: Mapping[str, Any], replayed: Mapping[str, Any]) -> str | None:
    """What differs between the baseline and its replay through ``space`` (None: nothing)."""
    for name, value in baseline.items():
        if name not in replayed:
            return (
                f"the baseline holds {name}={value!r}, which space neither suggests nor returns "
                "for the baseline"
            )
        if replayed[name] != value:
            return (
                f"the baseline holds {name}={value!r}, but space returns the constant "
                f"{name}={replayed[name]!r}"
            )
    return None
