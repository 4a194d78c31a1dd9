from __future__ import annotations

import pytest
from scipy import stats

from automl_bench.stats import mean_ci


def test_student_t_interval() -> None:
    values = [0.91, 0.93, 0.92, 0.95, 0.90]
    out = mean_ci(values)
    lo, hi = stats.t.interval(0.95, df=4, loc=stats.tmean(values), scale=stats.sem(values))
    assert out["n"] == 5
    assert out["mean"] == pytest.approx(0.922)
    assert out["ci95"] == pytest.approx([lo, hi])


def test_too_few_values_give_no_interval() -> None:
    assert mean_ci([0.5]) == {"n": 1, "mean": 0.5, "std": None, "ci95": None}
    assert mean_ci([])["mean"] is None
