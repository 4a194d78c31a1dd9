"""The report's plots of a run in which nothing finished: drawn, empty, and with no library
warning (matplotlib's, on an empty axis or a legend with nothing in it)."""

from __future__ import annotations

import warnings
from pathlib import Path

from summary_samples import sample_summary

from automl_bench.report.plots import anytime_plot, differences_plot
from automl_bench.schema import AnalysisBlock, AnytimeCurve


def test_plots_with_nothing_to_draw_raise_no_warning(tmp_path: Path) -> None:
    summary = sample_summary(seeds=2)
    assert all(m.verdict is None for m in summary.methods.values())  # no difference to draw
    nothing = AnytimeCurve(  # every search trial failed: no best value at any energy
        cost="energy_kwh", grid=[0.0, 1.0], spent=1.0, mean=[None, None], stderr=[None, None],
        seeds=[0, 0],
    )
    analysis = AnalysisBlock(anytime={"random": nothing}, pareto={})
    summary = summary.model_copy(update={"analysis": analysis})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        plots = [
            differences_plot(summary, tmp_path / "differences.png"),
            anytime_plot(summary, tmp_path / "anytime.png"),
        ]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in plots)
