from __future__ import annotations

import pytest

from automl_bench.analysis.intervals import mean_ci, seed_interval


def test_the_mean_carries_the_seed_interval_clipped_to_its_bounds() -> None:
    values = [0.91, 0.93, 0.92, 0.95, 0.99]
    out = mean_ci(values, (0.0, 1.0))
    interval = seed_interval(values)
    assert out["n"] == 5 and out["interval"] == "anytime-valid"
    assert out["mean"] == pytest.approx(0.94)
    assert interval.high is not None and interval.high > 1.0  # clipped: no accuracy above 100 %
    assert out["ci95"] == pytest.approx([interval.low, 1.0])


def test_too_few_values_give_no_interval() -> None:
    assert mean_ci([0.5]) == {"n": 1, "mean": 0.5, "std": None, "ci95": None, "interval": None}
    assert mean_ci([])["mean"] is None
