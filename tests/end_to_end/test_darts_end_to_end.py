"""DARTS (first and second order) from a config, end to end on the real stack: one search trial
trains the supernet, the derived cell is retrained from scratch, and the search is charged like
any other method's. On digits as 8x8 images, with a small NB-201 skeleton."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from repo_paths import FIXTURES

from automl_bench.errors import ConfigError
from automl_bench.experiment import prepare

EPOCHS = 3


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, run_cli: Callable[..., Any]
) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("darts")
    out = tmp / "runs"
    config = {
        "experiment": "darts",
        "task": "digits_image",
        "space": str(repo_root / "tests" / "fixtures" / "tiny_nb201.py"),
        "methods": ["baseline", "darts", "darts2"],
        "seeds": [0],
        "budget": {"trials": 5, "epochs": EPOCHS},
        "deploy": {"onnx": False},
        "output_dir": str(out),
    }
    run_cli(config, tmp)
    exp = out / "darts"
    return {
        "summary": json.loads((exp / "summary.json").read_text()),
        "trials": [json.loads(x) for x in (exp / "trials.jsonl").read_text().splitlines()],
    }


@pytest.mark.slow
def test_one_search_trial_derives_the_cell_that_is_retrained(run: dict[str, Any]) -> None:
    from automl_bench.space import load_search_space

    space = load_search_space(FIXTURES / "tiny_nb201.py")
    for label in ("darts", "darts2"):
        (study,) = run["summary"]["methods"][label]["studies"]
        searches = [t for t in run["trials"] if t["method"] == label and t["phase"] == "search"]
        assert len(searches) == 1 and study["trials"] == 1  # the budget's trials do not apply
        (search,) = searches
        assert search["status"] == "ok" and search["epochs_run"] == EPOCHS
        derived = search["derived_config"]
        assert set(derived) == set(space.baseline)  # a point of the space...
        assert study["best_config"] == derived  # ...and the one retrained from scratch
        final = next(t for t in run["trials"] if t["method"] == label and t["phase"] == "final")
        assert final["config"] == derived and final["status"] == "ok"
        # the supernet search is charged as the method's search
        assert study["search"]["energy_kwh"]["total"] == pytest.approx(
            search["cost"]["energy_kwh"]["total"], rel=0.05
        )
        assert study["search"]["energy_kwh"]["total"] > 0
        assert study["test_metric"] is not None and "verdict" in run["summary"]["methods"][label]


@pytest.mark.slow
def test_the_skip_connections_it_chose_are_on_record(run: dict[str, Any]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=run["summary"]["tracking_uri"])
    exp = client.get_experiment_by_name("darts")
    assert exp is not None
    runs = client.search_runs(
        [exp.experiment_id], filter_string="tags.phase = 'search' and tags.method = 'darts'"
    )
    (search,) = runs
    derived = next(t for t in run["trials"] if t["trial_id"] == search.data.tags["trial_id"])
    skips = sum(v == "skip_connect" for v in derived["derived_config"].values())
    assert search.data.metrics["skip_connect_edges"] == skips


def test_darts_needs_a_space_with_a_supernet(tmp_path: Path, repo_root: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "experiment: x\ntask: digits\nspace: "
        f"{repo_root / 'search_spaces' / 'mlp.py'}\nmethods: [baseline, darts]\nseeds: [0]\n"
    )
    with pytest.raises(ConfigError, match="darts needs a search space with a supernet"):
        prepare(config)
