"""The cost-benefit analysis: intervals that hold with few seeds, and the verdict per method.

It reads only the long-format results (results.csv), so a user can recompute every figure.
"""

from __future__ import annotations

from automl_bench.analysis.verdict import VerdictSettings, verdicts

__all__ = ["VerdictSettings", "verdicts"]
