"""``automl-bench report EXPERIMENT``: runs/<experiment>/report.html (self-contained), report.md and
plots/*.png, recomputed from results.csv and trials.jsonl with the settings the run used, and
logged as artifacts of the experiment's summary run in MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_bench.analysis.experiment import RESULTS, TRIALS, analyse, with_analysis
from automl_bench.analysis.verdict import VerdictSettings
from automl_bench.errors import ConfigError
from automl_bench.files import atomic_write
from automl_bench.report.html import render_html
from automl_bench.report.markdown import render_markdown
from automl_bench.report.plots import write_plots
from automl_bench.report.tables import tables
from automl_bench.schema import Summary, load_summary

HTML, MARKDOWN, PLOTS = "report.html", "report.md", "plots"


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    markdown: Path
    plots: dict[str, Path]

    def all(self) -> list[Path]:
        return [self.html, self.markdown, *self.plots.values()]


def experiment_dir(name_or_path: str | Path, runs_dir: Path = Path("runs")) -> Path:
    """An experiment's folder from its name (under ``runs_dir``) or its path; ConfigError when it
    holds no finished run."""
    given = Path(name_or_path)
    folder = given if (given / "summary.json").exists() else runs_dir / str(name_or_path)
    for needed in ("summary.json", RESULTS):
        if not (folder / needed).is_file():
            raise ConfigError(
                "EXPERIMENT",
                f"no {needed} in {str(folder)!r}: name an experiment under {str(runs_dir)!r} "
                "(see --runs-dir) or its folder, after a finished run",
            )
    return folder


def recomputed_summary(exp_dir: Path) -> Summary:
    """summary.json with its analysis recomputed from results.csv and trials.jsonl, with the
    verdict settings the run used."""
    summary = load_summary(exp_dir / "summary.json")
    settings = summary.verdict_settings
    used = VerdictSettings(**settings.model_dump()) if settings else VerdictSettings()
    return with_analysis(summary, analyse(exp_dir, used))


def write_report(exp_dir: Path, summary: Summary | None = None) -> ReportFiles:
    """Write the report's files into ``exp_dir``; ``summary``: the run's own (else read back)."""
    summary = summary if summary is not None else recomputed_summary(exp_dir)
    plots = write_plots(summary, exp_dir / PLOTS)
    text_tables = tables(summary)
    html, markdown = exp_dir / HTML, exp_dir / MARKDOWN
    atomic_write(html, render_html(summary, text_tables, plots))
    atomic_write(markdown, render_markdown(summary, text_tables, plots, exp_dir))
    return ReportFiles(html, markdown, plots)


def log_report(tracking: Any, run_id: str, files: ReportFiles, exp_dir: Path) -> None:
    """The report, its plots and the long-format results as artifacts of the summary run."""
    for path in (files.html, files.markdown, exp_dir / RESULTS, exp_dir / TRIALS):
        if path.exists():
            tracking.log_artifact(run_id, path, "report")
    for path in files.plots.values():
        tracking.log_artifact(run_id, path, "report/plots")
