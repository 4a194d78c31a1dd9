"""Moved to ``automl_bench.tasks.families``: a meta-learning family is a kind of task. Kept so
that older imports keep working; import from ``automl_bench.tasks.families``."""

from __future__ import annotations

from automl_bench.tasks.families import (
    FEWSHOT_DIGITS,
    FEWSHOT_MNIST1D,
    META_FAMILIES,
    SINUSOID,
    MetaFamily,
)

__all__ = ["FEWSHOT_DIGITS", "FEWSHOT_MNIST1D", "META_FAMILIES", "SINUSOID", "MetaFamily"]
