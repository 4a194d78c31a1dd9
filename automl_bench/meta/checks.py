"""The argument checks the meta-learners' settings share: each refusal names its field."""

from __future__ import annotations

import math

from automl_bench.errors import ConfigError


def count(name: str, value: object) -> int:
    """An integer >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(name, f"must be an integer >= 1, got {value!r}")
    return value


def rate(name: str, value: object) -> float:
    """A finite number > 0 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(name, f"must be a number > 0, got {value!r}")
    if math.isinf(value):
        raise ConfigError(name, f"must be finite, got {value!r}")
    return float(value)
