"""The report's renderers on a summary record built and analysed as a run does, without a run:
the report files, the console tables and the comparison read the records and agree with them."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from summary_samples import analysed_summary

from automl_bench.failures import run_failures
from automl_bench.report import write_report
from automl_bench.report.compare import compare_table
from automl_bench.report.console import print_table, print_verdicts
from automl_bench.report.rows import table_rows


def test_the_report_is_written_from_the_record(tmp_path: Path) -> None:
    summary = analysed_summary(tmp_path)
    files = write_report(tmp_path, summary)
    html, markdown = files.html.read_text(), files.markdown.read_text()
    verdict = summary.methods["random"].verdict
    assert verdict is not None
    assert f'data-method="random" class="{verdict.call.replace(" ", "-")}"' in html
    assert "| baseline |" in markdown and "| constant |" in markdown
    assert {"differences", "anytime", "cost"} <= set(files.plots)
    assert all(p.stat().st_size > 1000 for p in files.plots.values())


def test_the_console_says_what_the_record_holds(tmp_path: Path) -> None:
    summary = analysed_summary(tmp_path)
    console = Console(record=True, width=250)
    print_table(summary, console, tmp_path)
    print_verdicts(summary, console)
    text = console.export_text()
    count = run_failures(summary)
    assert count.search_failed == summary.failed_search_trials == 3
    assert f"{count.words()}; " in text  # the words the closing line on stderr uses
    verdict = summary.methods["random"].verdict
    assert verdict is not None and verdict.call in text
    rows = {r["method"]: r for r in table_rows(summary)}
    assert rows["random"]["delta_vs_baseline"] == summary.methods["random"].delta_vs_reference.mean
    assert rows["baseline"]["delta_vs_baseline"] == 0.0


def test_compare_sets_experiments_side_by_side(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = analysed_summary(tmp_path / "a")
    second = analysed_summary(tmp_path / "b").model_copy(update={"experiment": "other"})
    table = compare_table([first, second])
    assert [(r[0], r[2]) for r in table.rows] == [
        ("sample", "baseline"),
        ("sample", "random"),
        ("other", "baseline"),
        ("other", "random"),
    ]
    random = next(r for r in table.rows if r[2] == "random")
    verdict = first.methods["random"].verdict
    assert verdict is not None and random[-1] == verdict.call
    assert table.header[4] == "test acc % (mean ± sd)"
