"""Optuna's distributions read through their public attributes, in our words.

``contains`` says whether a value lies inside a distribution (a range, a grid, a set of choices);
``describe`` says what a distribution allows, for a message. Both read only the public attributes
``low``, ``high``, ``step``, ``log`` and ``choices``, never Optuna's private methods.
"""

from __future__ import annotations

import math
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

GRID_TOLERANCE = 1e-8  # how far from a step of the grid a float may lie (in steps)


def contains(distribution: BaseDistribution, value: Any) -> bool:
    """True when ``value`` is a point of ``distribution``: an int inside an int range and on its
    grid, a finite number inside a float range (and on its grid when it has a step), or one of
    a categorical's choices (a bool never stands for a number, nor a number for a bool)."""
    if isinstance(distribution, CategoricalDistribution):
        return any(_same_choice(choice, value) for choice in distribution.choices)
    if isinstance(distribution, IntDistribution):
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return distribution.low <= value <= distribution.high and (
            (value - distribution.low) % distribution.step == 0
        )
    if isinstance(distribution, FloatDistribution):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value):
            return False
        if not distribution.low <= value <= distribution.high:
            return False
        if distribution.step is None:
            return True
        steps = (value - distribution.low) / distribution.step
        return abs(steps - round(steps)) < GRID_TOLERANCE
    return False  # a distribution we do not know: nothing is known to lie inside it


def describe(distribution: BaseDistribution) -> str:
    """What ``distribution`` allows, in words: ``an integer from 16 to 64 (log scale)``."""
    if isinstance(distribution, CategoricalDistribution):
        return f"one of {list(distribution.choices)!r}"
    if isinstance(distribution, IntDistribution | FloatDistribution):
        kind = "an integer" if isinstance(distribution, IntDistribution) else "a number"
        notes = []
        if distribution.step is not None and distribution.step != 1:
            notes.append(f"in steps of {distribution.step:g}")
        if distribution.log:
            notes.append("log scale")
        said = f" ({', '.join(notes)})" if notes else ""
        return f"{kind} from {distribution.low:g} to {distribution.high:g}{said}"
    return type(distribution).__name__


def _same_choice(choice: Any, value: Any) -> bool:
    """The same choice: equal numbers (0 and 0.0, as Optuna's ``choices.index`` finds them, NaN
    and NaN), or equal values of one type; a bool is never a number here."""
    if isinstance(choice, bool) != isinstance(value, bool):
        return False
    numbers = (int, float)
    if isinstance(choice, numbers) and isinstance(value, numbers):
        both_nan = isinstance(choice, float) and isinstance(value, float)
        return choice == value or (both_nan and math.isnan(choice) and math.isnan(value))
    return type(choice) is type(value) and bool(choice == value)
