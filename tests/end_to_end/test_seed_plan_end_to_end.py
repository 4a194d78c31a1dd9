"""``seeds: {first, max}`` on the real stack (Ray Tune, an MLflow SQLite store, a CodeCarbon node
meter, training on digits): seeds are added, one look at a time, for the reference and every
undecided method only; a decided method stops; every look is in summary.json, results.csv,
the MLflow summary run (step-indexed) and the report."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from automl_bench.analysis import VerdictSettings, verdicts
from automl_bench.results import read_results

FIRST, MAX = 3, 5


def _config(out: Path, repo_root: Path) -> dict[str, Any]:
    return {
        "experiment": "until_decided",
        "task": "digits",
        "space": str(repo_root / "tests" / "fixtures" / "untrained_mlp.py"),
        "methods": ["baseline", "defaults", "random"],
        "seeds": {"first": FIRST, "max": MAX, "start": 10},
        "budget": {"trials": 2, "epochs": 3},
        "deploy": {"onnx": False},
        "cost": {"country_iso_code": "FRA"},
        "output_dir": str(out),
    }


def _look_metrics(db: Path, run_id: str) -> dict[str, list[tuple[int, float]]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT key, step, value FROM metrics WHERE run_uuid = ? AND key LIKE 'look/%'",
            (run_id,),
        ).fetchall()
    out: dict[str, list[tuple[int, float]]] = {}
    for key, step, value in rows:
        out.setdefault(key, []).append((int(step), float(value)))
    return {k: sorted(v) for k, v in out.items()}


@pytest.mark.slow
@pytest.mark.timeout(600)  # up to three looks, each its own Ray Tune run
def test_seeds_are_added_for_the_undecided_methods_only(
    tmp_path: Path, repo_root: Path, run_cli: Any
) -> None:
    out = tmp_path / "runs"
    proc = run_cli(_config(out, repo_root), tmp_path)
    exp_dir = out / "until_decided"
    summary = json.loads((exp_dir / "summary.json").read_text())
    looks = summary["looks"]
    taken = looks["looks"]
    first = taken[0]
    assert first["seeds"] == [10, 11, 12] and first["seeds_so_far"] == FIRST
    # the barely-trained defaults is far below the baseline: decided at the first look
    assert first["calls"]["defaults"] == "not worth it"
    assert summary["methods"]["defaults"]["verdict"]["call"] == "not worth it"
    assert len(summary["methods"]["defaults"]["studies"]) == FIRST
    # each later look adds one seed for the reference and the methods undecided before it
    for before, look in itertools.pairwise(taken):
        assert look["seeds"] == [10 + before["seeds_so_far"]]
        undecided = {m for m, call in before["calls"].items() if call == "inconclusive"}
        assert set(look["labels"]) == {"baseline", *undecided}
    last = taken[-1]
    if looks["stopped"] == "every call decided":
        assert "inconclusive" not in last["calls"].values()
    else:
        assert looks["stopped"] == "max seeds reached" and last["seeds_so_far"] == MAX
    assert len(summary["methods"]["baseline"]["studies"]) == last["seeds_so_far"]
    # an undecided call carries a forecast in words and in numbers
    for method in summary["methods"].values():
        verdict = method.get("verdict", {})
        if verdict.get("call") == "inconclusive":
            assert "forecast" in verdict and "seed" in verdict["forecast"]["words"]
    # the benchmark's own cost: every seed run, and the ones added after the first look
    bench = looks["benchmark"]
    assert bench["seeds"]["defaults"] == FIRST
    assert bench["all_seeds"]["energy_kwh"]["total"] >= bench["added_seeds"]["energy_kwh"]["total"]
    assert (bench["added_seeds"]["energy_kwh"]["total"] > 0) == (len(taken) > 1)
    assert "Seeds added until decided" in proc.stdout

    # results.csv says which look ran each seed, and the calls come back from it alone
    rows = read_results(exp_dir / "results.csv")
    for look in taken:
        ran = {(r["method"], r["seed"]) for r in rows if r["look"] == look["look"]}
        studies = {(label, seed) for label in look["labels"] for seed in look["seeds"]}
        assert ran == studies | {("constant", seed) for seed in look["seeds"]}
    settings = VerdictSettings(**summary["verdict_settings"])
    again = verdicts(rows, settings)
    assert {k: v["call"] for k, v in again.items()} == last["calls"]

    # the MLflow summary run holds each look as a step
    history = _look_metrics(out / "mlflow.db", summary["summary_run_id"])
    steps = [step for step, _ in history["look/random/delta_points"]]
    assert steps == list(range(len(taken)))
    assert [v for _, v in history["look/defaults/decided"]] == [1.0] * len(taken)
    assert (exp_dir / "plots" / "looks.png").is_file()
    assert "looks.png" in (exp_dir / "report.md").read_text()
