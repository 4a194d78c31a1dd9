"""summary.json is written from the Summary record and read back through it: the same objects
come back, the file keeps the keys scripts read, an older file (no schema_version) is converted
in one place, and a newer one is refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from summary_samples import analysed_summary, sample_summary

from automl_bench.errors import ConfigError
from automl_bench.outputs import write_summary
from automl_bench.schema import SCHEMA_VERSION, Summary, load_summary
from automl_bench.schema.files import summary_json


def test_write_then_read_gives_the_same_summary(tmp_path: Path) -> None:
    summary = analysed_summary(tmp_path)
    assert summary.methods["random"].verdict is not None  # the analysis is in it
    write_summary(summary, tmp_path, archive=False)
    back = load_summary(tmp_path / "summary.json")
    # equal objects (a verdict's ratio over no pairs is NaN, which equals nothing: those
    # compare as written)
    assert back.cost == summary.cost and back.analysis == summary.analysis
    assert all(back.methods[k].studies == m.studies for k, m in summary.methods.items())
    assert summary_json(back) == summary_json(summary)
    assert back.schema_version == SCHEMA_VERSION


def test_the_file_keeps_the_keys_scripts_read(tmp_path: Path) -> None:
    write_summary(analysed_summary(tmp_path), tmp_path, archive=False)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    random = data["methods"]["random"]
    assert random["verdict"]["call"] and random["verdict"]["delta_points"]["estimate"] > 0
    assert random["delta_vs_baseline"] == random["delta_vs_reference"]
    band = random["cost"]["search"]["energy_kwh"]["band"]
    assert len(band) == 2 and band[0] <= random["cost"]["search"]["energy_kwh"]["total"]
    study = random["studies"][0]
    assert {"seed", "best_config", "trials", "failed", "search", "final", "test_metric"} <= set(
        study
    )
    assert "meta" not in study and "pareto_front" not in study  # left out, not null
    assert data["reference"]["constant"]["test_metric"] == pytest.approx(0.1)
    assert data["cost"]["attribution"]["ratio"] is not None


def _older(summary: Summary) -> dict[str, Any]:
    """The file as automl-bench wrote it before schema_version: no version, the metric as one
    mapping, the difference under delta_vs_baseline only, cost records without the
    electricity bill's band."""
    data: dict[str, Any] = json.loads(json.dumps(summary.model_dump()))
    del data["schema_version"]
    data["metric"] = {
        "name": data["metric"],
        "direction": data.pop("direction"),
        "scale": data.pop("metric_scale"),
        "unit": data.pop("metric_unit"),
    }
    for method in data["methods"].values():
        del method["delta_vs_reference"]
        for phase in ("search", "final", "inference_per_1k"):
            del method["cost"][phase]["usd_energy_band"]
    return data


def test_a_file_without_a_version_is_converted(tmp_path: Path) -> None:
    summary = sample_summary()
    (tmp_path / "summary.json").write_text(json.dumps(_older(summary)))
    back = load_summary(tmp_path / "summary.json")
    assert back.schema_version == SCHEMA_VERSION
    assert (back.metric, back.direction, back.metric_scale, back.metric_unit) == (
        summary.metric,
        summary.direction,
        summary.metric_scale,
        summary.metric_unit,
    )
    random = back.methods["random"]
    assert random.delta_vs_reference == summary.methods["random"].delta_vs_reference
    # the electricity bill's band from the USD band, as a file written before billing reads
    search = summary.methods["random"].cost.search
    expected = tuple(b - search.usd_compute for b in search.usd_band)
    assert random.cost.search.usd_energy_band == pytest.approx(expected)


def test_a_newer_version_is_refused_in_one_line(tmp_path: Path) -> None:
    data = json.loads(json.dumps(sample_summary().model_dump()))
    data["schema_version"] = SCHEMA_VERSION + 1
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as caught:
        load_summary(path)
    message = str(caught.value)
    assert message.startswith("schema_version:") and "\n" not in message
    assert f"schema_version {SCHEMA_VERSION + 1}" in message
    assert f"reads {SCHEMA_VERSION}" in message


def test_a_broken_file_names_the_field(tmp_path: Path) -> None:
    data = json.loads(json.dumps(sample_summary().model_dump()))
    del data["methods"]["random"]["test_metric"]
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"methods\.random\.test_metric"):
        load_summary(path)


def test_report_refuses_a_newer_summary_with_exit_2_and_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "sample"
    folder.mkdir(parents=True)
    summary = analysed_summary(folder)
    data = json.loads(json.dumps(summary.model_dump()))
    data["schema_version"] = SCHEMA_VERSION + 1
    (folder / "summary.json").write_text(json.dumps(data))
    proc = subprocess.run(
        [sys.executable, "-m", "automl_bench.cli", "report", "sample", "--runs-dir", "runs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "schema_version" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_looks_of_a_seed_plan_round_trip_and_read_as_words_and_history(
    tmp_path: Path,
) -> None:
    from automl_bench.looks import Caps, Looks, looks_words
    from automl_bench.schema import LooksBlock
    from automl_bench.summary import benchmark_cost
    from automl_bench.summary_runs import look_history

    summary = analysed_summary(tmp_path)
    looks = Looks(Caps(max_seeds=5, max_energy_kwh=1.0))
    verdict = summary.methods["random"].verdict
    assert verdict is not None
    judged = {"random": verdict.model_dump()}
    looks.record([0, 1], ["baseline", "random"], judged, 2, 0.01, 5.0)
    looks.record([2], ["baseline", "random"], judged, 3, 0.02, 9.0)
    looks.stopped = "every call decided"
    block = LooksBlock.model_validate(
        {**looks.to_dict(), "benchmark": benchmark_cost(summary).model_dump()}
    )
    summary = summary.model_copy(update={"looks": block})
    write_summary(summary, tmp_path, archive=False)
    back = load_summary(tmp_path / "summary.json")
    assert back.looks == block
    words = looks_words(back)
    assert words is not None and "2 looks, stopped: every call decided" in words
    assert "max 5 seeds, 1 kWh" in words and "random 3" in words
    bench = benchmark_cost(summary)
    assert bench.added_seeds.energy_kwh.total == 0.0  # every study ran at the first look
    training = summary.methods["random"].cost.training().energy_kwh
    assert bench.all_seeds.energy_kwh.total > training > 0
    history = look_history(back, "delta_points")
    assert history is not None and [step for step, _ in history] == [0, 1]
    delta = verdict.delta_points
    assert delta is not None
    assert history[1][1]["look/random/delta_points"] == delta.estimate
    assert history[1][1]["look/random/seeds"] == delta.n
