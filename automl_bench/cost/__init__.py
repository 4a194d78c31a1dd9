"""Cost accounting: records, and the meter that yields them."""

from __future__ import annotations

from automl_bench.cost.record import METRIC_NAMES, CostRecord, total

__all__ = ["METRIC_NAMES", "CostRecord", "total"]
