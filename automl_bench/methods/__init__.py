"""The methods a config can name: a registry of frozen data."""

from __future__ import annotations

from automl_bench.methods.base import Method, SamplerFactory
from automl_bench.methods.samplers import random_sampler, tpe_sampler

BASELINE = "baseline"
DEFAULTS = "defaults"

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(BASELINE, "the search space's hand-designed configuration, trained as given"),
        Method(
            DEFAULTS,
            "the search space's untuned configuration (a reference row)",
            fixed="defaults",
        ),
        Method("random", "random search over the space (Optuna RandomSampler)", random_sampler),
        Method("tpe", "tree-structured Parzen estimator (Optuna TPESampler)", tpe_sampler),
    )
}


def get_method(name: str) -> Method:
    return METHODS[name]


__all__ = ["BASELINE", "DEFAULTS", "METHODS", "Method", "SamplerFactory", "get_method"]
