"""The report as Markdown: the same tables and notes, the plots as PNG files beside it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from automl_bench.report.plots import captions
from automl_bench.report.tables import TextTable
from automl_bench.report.text import METHODS_NOTE, energy_balance, heading, prices_line
from automl_bench.schema import Summary


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: TextTable, level: str = "##") -> str:
    lines = [f"{level} {table.title}", ""]
    lines.append("| " + " | ".join(_cell(h) for h in table.header) + " |")
    lines.append("|" + "---|" * len(table.header))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    if not table.rows:
        lines.append("| none |" + " |" * (len(table.header) - 1))
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines) + "\n"


def render_markdown(
    summary: Summary, tables: list[TextTable], plots: Mapping[str, Path], base: Path
) -> str:
    """``base``: the folder the Markdown file lies in (plot links are relative to it)."""
    out = [f"# {summary.experiment}: is automated model design worth it?", ""]
    out += [f"{line}  " for line in heading(summary)] + [""]
    for table in tables:
        out.append(markdown_table(table))
        if table.key == "cost":
            out += [energy_balance(summary), ""]
    out.append("## Plots\n")
    words = captions(summary)
    for name, path in plots.items():
        out += [f"![{name}]({path.relative_to(base).as_posix()})", "", words.get(name, ""), ""]
    out.append("## How each figure was computed\n")
    out += [f"- {line}" for line in METHODS_NOTE]
    out += ["", prices_line(summary), ""]
    return "\n".join(out)
