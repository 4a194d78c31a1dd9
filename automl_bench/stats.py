"""A mean over seeds as the summary keeps it: kept for scripts that import it from here; the
one implementation is ``automl_bench.analysis.intervals.mean_ci``."""

from __future__ import annotations

from automl_bench.analysis.intervals import mean_ci

__all__ = ["mean_ci"]
