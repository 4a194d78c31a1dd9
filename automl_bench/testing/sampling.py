"""How many configurations the checks draw, and why that many.

A ``build`` that fails on a share ``p`` of the space passes ``n`` independent random
configurations with probability ``(1 - p) ** n``. The checks draw enough to catch a build that
fails on ``FAILING_SHARE`` (5 %) of the space with probability at least ``DETECTION`` (95 %):
``n >= log(1 - 0.95) / log(1 - 0.05)``, so ``N_RANDOM = 59`` (``1 - 0.95 ** 59 = 0.9515``).

The draws come from Optuna's ``RandomSampler`` (each parameter independent and uniform over its
distribution, log-uniform on a log scale); a configuration drawn twice is checked once.
"""

from __future__ import annotations

import math

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
