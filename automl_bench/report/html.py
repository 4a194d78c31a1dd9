"""The report as one self-contained HTML file: styles inline, plots embedded as base64 PNG, no
script and no link to anything outside the file, so it opens anywhere without a network."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from pathlib import Path

from automl_bench.report.plots import captions
from automl_bench.report.tables import TextTable
from automl_bench.report.text import METHODS_NOTE, energy_balance, heading, prices_line
from automl_bench.schema import Summary

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222;
       padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.call { font-weight: bold; white-space: nowrap; }
tr.worth-it td.call { color: #146c2e; } tr.not-worth-it td.call { color: #a4161a; }
tr.inconclusive td.call { color: #8a6d00; } tr.not-deployable td.call { color: #6a1b9a; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption, p.note { font-size: 0.85em; color: #555; max-width: 60em; }
"""


def _table(table: TextTable) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    body = []
    for row in table.rows:
        cells = []
        for i, cell in enumerate(row):
            css = ' class="call"' if table.key == "verdict" and i == 1 else ""
            cells.append(f"<td{css}>{escape(cell)}</td>")
        css_row = f' class="{row[1].replace(" ", "-")}"' if table.key == "verdict" else ""
        body.append(f'<tr data-method="{escape(row[0])}"{css_row}>{"".join(cells)}</tr>')
    if not body:
        body.append(f'<tr><td colspan="{len(table.header)}">none</td></tr>')
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return (
        f'<h2 id="{table.key}-title">{escape(table.title)}</h2>\n'
        f'<table id="{table.key}"><thead><tr>{head}</tr></thead>\n'
        f"<tbody>{''.join(body)}</tbody></table>\n{note}"
    )


def _figure(name: str, png: Path, words: Mapping[str, str]) -> str:
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    caption = escape(words.get(name, ""))
    return (
        f'<figure id="figure-{name}"><img class="plot" id="plot-{name}" alt="{name}" '
        f'src="data:image/png;base64,{data}"><figcaption>{caption}</figcaption></figure>'
    )


def render_html(summary: Summary, tables: list[TextTable], plots: Mapping[str, Path]) -> str:
    by_key = {t.key: t for t in tables}
    words = captions(summary)
    title = f"{summary.experiment}: is automated model design worth it?"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        *(f'<p class="meta">{escape(line)}</p>' for line in heading(summary)),
        _table(by_key["verdict"]),
        _figure("differences", plots["differences"], words),
        *([_figure("looks", plots["looks"], words)] if "looks" in plots else []),
        _table(by_key["accuracy"]),
        *([_table(by_key["meta"])] if "meta" in by_key else []),
        _table(by_key["cost"]),
        _figure("cost", plots["cost"], words),
        f'<p class="note">{escape(energy_balance(summary))}</p>',
        '<h2 id="anytime-title">Anytime performance</h2>',
        _figure("anytime", plots["anytime"], words),
        '<h2 id="pareto-title">Pareto fronts</h2>',
        *(_figure(name, path, words) for name, path in plots.items() if name.startswith("pareto_")),
        _table(by_key["failures"]),
        '<h2 id="methods-title">How each figure was computed</h2><ul id="methods">',
        *(f"<li>{escape(line)}</li>" for line in METHODS_NOTE),
        "</ul>",
        f'<p class="note">{escape(prices_line(summary))}</p>',
        f'<p class="note">Recompute: every figure here comes from results.csv and '
        f"trials.jsonl beside this file (automl-bench report {escape(summary.experiment)})."
        "</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
