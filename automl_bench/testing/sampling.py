"""How many configurations the checks draw, and why that many.

A ``build`` that fails on a share ``p`` of the space passes ``n`` independent random
configurations with probability ``(1 - p) ** n``. The checks draw enough to catch a build that
fails on ``FAILING_SHARE`` (5 %) of the space with probability at least ``DETECTION`` (95 %):
``n >= log(1 - 0.95) / log(1 - 0.05)``, so ``N_RANDOM = 59`` (``1 - 0.95 ** 59 = 0.9515``).

The draws come from Optuna's ``RandomSampler`` (each parameter independent and uniform over its
distribution, log-uniform on a log scale); a configuration drawn twice is checked once. A small
discrete space is checked whole instead: when every parameter the draws met is categorical or
an integer (or a float on a grid), each with one distribution, and their product has at most
``ENUMERATE_UP_TO`` points, every point is replayed through ``space`` (see ``grid``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

FAILING_SHARE = 0.05  # a build that fails on this share of the space ...
DETECTION = 0.95  # ... is caught with at least this probability


def configs_needed(failing_share: float, detection: float) -> int:
    """The fewest independent random configurations that include, with probability at least
    ``detection``, one from a part of the space of share ``failing_share``."""
    if not 0 < failing_share < 1 or not 0 < detection < 1:
        raise ValueError(
            "`failing_share` and `detection` must lie strictly between 0 and 1, but got "
            f"{failing_share=} and {detection=}."
        )
    n = math.ceil(math.log1p(-detection) / math.log1p(-failing_share))
    while 1 - (1 - failing_share) ** n < detection:  # guard the rounding of the logarithms
        n += 1
    return n


def detection_probability(failing_share: float, n: int) -> float:
    """The probability that ``n`` independent random configurations include a failing one."""
    return 1 - (1 - failing_share) ** n


N_RANDOM = configs_needed(FAILING_SHARE, DETECTION)  # 59
ENUMERATE_UP_TO = 100  # a discrete space with at most this many points is checked whole


def grid(distributions: Mapping[str, BaseDistribution]) -> list[dict[str, Any]] | None:
    """Every combination of the parameters' values, when each is discrete and there are at most
    ``ENUMERATE_UP_TO``; None otherwise (a continuous parameter, or too many points)."""
    names, values = list(distributions), []
    size = 1
    for name in names:
        points = _points(distributions[name])
        if points is None:
            return None
        size *= len(points)
        if size > ENUMERATE_UP_TO:
            return None
        values.append(points)
    combinations = itertools.product(*values)
    return [dict(zip(names, combination, strict=True)) for combination in combinations]


def _points(distribution: BaseDistribution) -> list[Any] | None:
    """A discrete distribution's values (at most ENUMERATE_UP_TO + 1 of them); None otherwise."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return list(distribution.choices)
    if isinstance(distribution, IntDistribution | FloatDistribution) and distribution.step:
        count = math.floor((distribution.high - distribution.low) / distribution.step + 1e-9) + 1
        if count > ENUMERATE_UP_TO:
            return None
        points = [distribution.low + i * distribution.step for i in range(count)]
        if isinstance(distribution, FloatDistribution):
            return [float(p) for p in points]
        return [int(p) for p in points]
    return None
