"""An experiment's summary files: summary.json (from the ``Summary`` record, see ``schema``)
and summary.csv (one row per method)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from automl_bench.files import archive_previous, atomic_write
from automl_bench.report.rows import table_rows
from automl_bench.schema import Summary, write_summary_json


def summary_csv(summary: Summary) -> str:
    rows = table_rows(summary)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["method"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_summary(summary: Summary, exp_dir: Path, archive: bool = True) -> None:
    """summary.json and summary.csv; an earlier run's files move to history/ (``archive``, or
    ``archive_previous`` before), never overwritten."""
    exp_dir.mkdir(parents=True, exist_ok=True)
    if archive:
        archive_previous(exp_dir)
    write_summary_json(summary, exp_dir / "summary.json")
    atomic_write(exp_dir / "summary.csv", summary_csv(summary))
