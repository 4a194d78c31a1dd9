"""The report people read: a self-contained HTML file, a Markdown summary and PNG plots per
experiment, and experiments set side by side (``compare``)."""

from __future__ import annotations

from automl_bench.report.build import (
    ReportFiles,
    experiment_dir,
    log_report,
    recomputed_summary,
    write_report,
)

__all__ = ["ReportFiles", "experiment_dir", "log_report", "recomputed_summary", "write_report"]
