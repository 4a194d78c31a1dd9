"""Optuna's distributions read through their public attributes (automl_bench.distributions)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from automl_bench.distributions import contains, describe

INT = IntDistribution(16, 64, log=True)
STEPPED = IntDistribution(0, 10, step=5)
FLOAT = FloatDistribution(1e-4, 3e-2, log=True)
GRID = FloatDistribution(0.0, 0.5, step=0.1)
CHOICE = CategoricalDistribution([0.0, 1e-5, "adam", None, False])


@pytest.mark.parametrize(
    ("distribution", "value", "inside"),
    [
        (INT, 16, True),
        (INT, 64, True),
        (INT, 65, False),
        (INT, 15, False),
        (INT, 16.0, False),  # a float is not an int parameter's value
        (INT, "16", False),
        (INT, True, False),
        (STEPPED, 5, True),
        (STEPPED, 6, False),
        (FLOAT, 1e-3, True),
        (FLOAT, 1, False),
        (FLOAT, math.nan, False),
        (FLOAT, math.inf, False),
        (FLOAT, True, False),
        (GRID, 0.3, True),  # 0.30000000000000004 steps: on the grid within its tolerance
        (GRID, 0.25, False),
        (CHOICE, 0, True),  # 0 and 0.0 are one choice, as Optuna's choices.index finds it
        (CHOICE, "adam", True),
        (CHOICE, None, True),
        (CHOICE, False, True),
        (CHOICE, 0.5, False),
        (CHOICE, "adamw", False),
        (CHOICE, True, False),
    ],
)
def test_contains(distribution: Any, value: Any, inside: bool) -> None:
    assert contains(distribution, value) is inside


def test_a_bool_choice_is_not_a_number() -> None:
    assert not contains(CategoricalDistribution([0, 1]), False)
    assert not contains(CategoricalDistribution([True]), 1)


def test_describe_says_what_a_distribution_allows() -> None:
    assert describe(INT) == "an integer from 16 to 64 (log scale)"
    assert describe(STEPPED) == "an integer from 0 to 10 (in steps of 5)"
    assert describe(FLOAT) == "a number from 0.0001 to 0.03 (log scale)"
    assert describe(GRID) == "a number from 0 to 0.5 (in steps of 0.1)"
    assert describe(CategoricalDistribution(["relu", "tanh"])) == "one of ['relu', 'tanh']"
