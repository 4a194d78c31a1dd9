"""Warm start: the earlier experiments read, the box, the narrowed space, the enqueued trials and
the refusals (every one before anything starts)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import optuna
import pytest

from automl_bench.config import ExperimentConfig, parse_config
from automl_bench.cost.prices import Prices
from automl_bench.cost.window import Unmetered
from automl_bench.errors import ConfigError
from automl_bench.methods.warmstart import (
    Bound,
    WarmStart,
    bounding_box,
    load_warmstart,
    narrowed,
)
from automl_bench.runner.searcher import StudySearcher
from automl_bench.space import SearchSpace, load_search_space
from automl_bench.study import StudySpec

PRICES = Prices(4.0, 0.05, 0.2, 0.3, 1.0)
optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture()
def mlp(repo_root: Path) -> SearchSpace:
    return load_search_space(repo_root / "search_spaces" / "mlp.py")


def _config(mlp: SearchSpace, **overrides: Any) -> dict[str, Any]:
    return {**mlp.baseline, **overrides}


# Three good tpe configs, a better random one, and trials that must not count.
GOOD = {
    "a": {"n_layers": 2, "width_0": 64, "width_1": 128, "lr": 0.003, "batch_size": 64},
    "b": {"n_layers": 3, "width_0": 32, "width_1": 100, "width_2": 200, "lr": 0.02},
    "c": {"n_layers": 2, "width_0": 256, "width_1": 50, "activation": "gelu", "dropout": 0.3},
}


def _line(method: str, value: float | None, config: dict[str, Any], **extra: Any) -> str:
    line = {
        "experiment": "src",
        "study": f"{method}/seed=0",
        "method": method,
        "seed": 0,
        "phase": "search",
        "status": "ok",
        "val_metric": value,
        "config": config,
        "cost": {"wall_s": 1.0, "energy_kwh": {"total": 1e-5}},
    }
    return json.dumps({**line, **extra})


def _source(
    out: Path, mlp: SearchSpace, name: str = "src", summary: dict[str, Any] | None = None
) -> Path:
    exp = out / name
    exp.mkdir(parents=True)
    lines = [
        _line("tpe", 0.80, _config(mlp, **GOOD["a"])),
        _line("tpe", 0.60, _config(mlp, n_layers=1, width_0=16, lr=0.0001)),  # not in the top 3
        _line("tpe", 0.85, _config(mlp, **GOOD["b"])),
        _line("random", 0.82, _config(mlp, **GOOD["c"])),
        _line("random", 0.82, _config(mlp, **GOOD["c"])),  # the same config again: once
        _line("tpe", 0.99, _config(mlp, n_layers=4), status="failed"),
        _line("asha", 0.98, _config(mlp, n_layers=4), status="stopped"),
        _line("naswot", 0.97, _config(mlp, n_layers=4)),  # a proxy's trials are not trained
        _line("tpe", 0.96, _config(mlp, n_layers=4), phase="final"),
        _line("baseline", 0.95, _config(mlp, n_layers=4), phase="final"),
        _line("tpe", None, _config(mlp, n_layers=4)),
        json.dumps({"study": "tpe/seed=0", "method": "tpe", "phase": "decide", "status": "ok"}),
    ]
    (exp / "trials.jsonl").write_text("\n".join(lines) + "\n")
    if summary is not None:
        (exp / "summary.json").write_text(json.dumps(summary))
    return exp


def _experiment(
    mlp: SearchSpace, out: Path, sources: list[str] | None = None, top: int = 3
) -> ExperimentConfig:
    return parse_config(
        {
            "experiment": "target",
            "task": "mnist1d",
            "space": str(mlp.path),
            "methods": ["baseline", "tpe", "warmstart"],
            "seeds": [0],
            "search": {"warmstart_from": sources or ["src"], "warmstart_top": top},
            "output_dir": str(out),
        }
    )


def _load(mlp: SearchSpace, out: Path, **kw: Any) -> WarmStart:
    return load_warmstart(_experiment(mlp, out, **kw), out / "target.yaml", mlp)


def test_the_top_configs_and_their_box_from_trials_jsonl(mlp: SearchSpace, tmp_path: Path) -> None:
    _source(tmp_path, mlp, summary={"task": "digits", "space": "mlp"})
    ws = _load(mlp, tmp_path)
    assert [c.value for c in ws.top] == [0.85, 0.82, 0.80]  # best first, each config once
    assert ws.configs == [_config(mlp, **GOOD[k]) for k in "bca"]
    box = ws.box
    assert (box["n_layers"].low, box["n_layers"].high) == (2, 3)
    assert (box["width_0"].low, box["width_0"].high) == (32, 256)
    assert (box["width_2"].low, box["width_2"].high) == (200, 200)  # only b has a third layer
    assert (box["lr"].low, box["lr"].high) == (0.003, 0.02)
    assert set(box["activation"].seen) == {"relu", "gelu"}
    assert box["residual"].seen == (True,)
    assert set(box["batch_size"].seen) == {64, 100}
    assert "width_3" not in box


def test_a_minimised_metric_ranks_the_other_way(mlp: SearchSpace, tmp_path: Path) -> None:
    _source(tmp_path, mlp, summary={"task": "sinusoid", "space": "mlp"})  # query MSE
    ws = _load(mlp, tmp_path, top=1)
    assert ws.direction == "minimize"
    assert ws.configs == [_config(mlp, n_layers=1, width_0=16, lr=0.0001)]


def test_the_narrowed_space_only_suggests_inside_the_box(mlp: SearchSpace, tmp_path: Path) -> None:
    _source(tmp_path, mlp)
    ws = _load(mlp, tmp_path)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=10, multivariate=True),
    )
    space = narrowed(mlp.space, ws.box)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no value outside its distribution
        for _ in range(30):
            trial = study.ask()
            space(trial)
            study.tell(trial, trial.params["lr"] * trial.params["width_0"])
    for trial in study.trials:
        for name, value in trial.params.items():
            if name == "width_3":  # the box does not know it: its range stays the space's
                assert 16 <= value <= 512
                continue
            bound = ws.box[name]
            if bound.numeric and name not in ("batch_size", "weight_decay"):
                assert bound.low <= value <= bound.high, (name, value)
            else:
                assert value in bound.seen, (name, value)
    assert {t.params["n_layers"] for t in study.trials} <= {2, 3}
    # the distributions are the box's, not the space's
    assert study.trials[-1].distributions["width_0"].low == 32


def test_steps_log_scales_degenerate_boxes_and_unknown_parameters() -> None:
    def space(trial: optuna.Trial) -> dict[str, Any]:
        trial.suggest_int("k", 0, 21, step=4)  # the grid 0, 4, ..., 20
        trial.suggest_int("units", 16, 512, log=True)
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        trial.suggest_float("p", 0.0, 1.0, step=0.1)
        trial.suggest_float("free", 0.0, 1.0)
        trial.suggest_categorical("opt", ["sgd", "adam", "adamw"])
        trial.suggest_categorical("flag", [0, 1])
        return {"constant": 7}

    box = {
        "k": Bound((5, 9)),  # off the grid: snapped outwards to [4, 12]
        "units": Bound((64,)),  # [64, 64]
        "lr": Bound((0.001, 0.01)),
        "p": Bound((0.3, 0.3)),
        "opt": Bound(("adamw", "sgd")),  # kept in the space's order
        "flag": Bound((True,)),  # a bool is not the integer 1: nothing to narrow to
    }
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for _ in range(30):
            trial = study.ask()
            assert narrowed(space, box)(trial) == {"constant": 7}
            study.tell(trial, 0.0)
    d = study.trials[0].distributions
    assert (d["k"].low, d["k"].high, d["k"].step) == (4, 12, 4)
    assert (d["units"].low, d["units"].high, d["units"].log) == (64, 64, True)
    assert (d["lr"].low, d["lr"].high, d["lr"].log) == (0.001, 0.01, True)
    assert (d["p"].low, d["p"].high) == (0.3, 0.3)
    assert (d["free"].low, d["free"].high) == (0.0, 1.0)
    assert d["opt"].choices == ("sgd", "adamw")
    assert d["flag"].choices == (0, 1)
    assert {t.params["k"] for t in study.trials} <= {4, 8, 12}


def test_the_box_of_configs() -> None:
    box = bounding_box([{"a": 1, "b": "x", "c": True}, {"a": 3.5, "b": "y"}, {"a": 2, "c": 1}])
    assert (box["a"].low, box["a"].high, box["a"].numeric) == (1, 3.5, True)
    assert box["b"].seen == ("x", "y") and not box["b"].numeric
    assert box["c"].seen == (True, 1) and not box["c"].numeric


def test_enqueued_configs_are_the_first_trials_the_searcher_suggests(
    mlp: SearchSpace, tmp_path: Path
) -> None:
    _source(tmp_path, mlp)
    ws = _load(mlp, tmp_path)
    studies = [
        StudySpec("baseline", 0, "mlp", 0, "baseline"),
        StudySpec("tpe", 0, "mlp", 8, "tpe"),
        StudySpec("warmstart", 0, "mlp", 8, "warmstart"),
    ]
    s = StudySearcher(studies, {"mlp": mlp}, Unmetered(), PRICES, warmstart=ws)
    assert s.suggest("base")["phase"] == "final"  # type: ignore[index]
    warm: list[dict[str, Any]] = []
    cold: list[dict[str, Any]] = []
    for i in range(18):  # 16 search trials, and each study's final training as it ends
        job = s.suggest(f"t{i}")
        assert isinstance(job, dict)
        if job["phase"] != "search":
            continue
        (warm if job["method"] == "warmstart" else cold).append(job["config"])
        s.on_trial_complete(f"t{i}", {"val_accuracy": 0.5 + i / 100, "trial_status": "ok"})
    assert len(warm) == len(cold) == 8
    assert warm[:3] == ws.configs  # best first
    for config in warm:
        assert 2 <= config["n_layers"] <= 3 and 32 <= config["width_0"] <= 256
        assert 0.003 <= config["lr"] <= 0.02 and config["optimizer"] == "adam"
    assert any(c["n_layers"] not in (2, 3) or c["width_0"] < 32 for c in cold)  # tpe: the space


def test_a_warmstart_searcher_saves_its_state_and_goes_on_from_it(
    mlp: SearchSpace, tmp_path: Path
) -> None:
    # Ray Tune saves the searcher at each checkpoint: its narrowed space must pickle
    _source(tmp_path, mlp)
    ws = _load(mlp, tmp_path)
    studies = [StudySpec("warmstart", 0, "mlp", 8, "warmstart")]
    s = StudySearcher(studies, {"mlp": mlp}, Unmetered(), PRICES, warmstart=ws)
    first = s.suggest("t0")
    assert isinstance(first, dict) and first["config"] == ws.configs[0]
    s.on_trial_complete("t0", {"val_accuracy": 0.5, "trial_status": "ok"})
    s.save(str(tmp_path / "searcher.pkl"))
    again = StudySearcher(studies, {"mlp": mlp}, Unmetered(), PRICES, warmstart=ws)
    again.restore(str(tmp_path / "searcher.pkl"))
    second = again.suggest("t1")
    assert isinstance(second, dict) and second["config"] == ws.configs[1]


def test_a_warmstart_study_without_a_warm_start_is_a_bug_caught_early(mlp: SearchSpace) -> None:
    with pytest.raises(ValueError, match="needs a warm start"):
        StudySearcher(
            [StudySpec("warmstart", 0, "mlp", 4, "warmstart")], {"mlp": mlp}, Unmetered(), PRICES
        )


def _refusal(mlp: SearchSpace, out: Path, **kw: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(mlp, out, **kw)
    assert caught.value.field == "search.warmstart_from"
    text = str(caught.value)
    assert text.startswith("search.warmstart_from: ") and "\n" not in text
    return text


def test_refusals_name_the_field_in_one_line(mlp: SearchSpace, tmp_path: Path) -> None:
    assert "has no" in _refusal(mlp, tmp_path, sources=["nowhere"])
    assert "trials.jsonl" in _refusal(mlp, tmp_path, sources=["nowhere"])

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "trials.jsonl").write_text(_line("tpe", 0.9, {"n_layers": 2}, status="failed") + "\n")
    assert "no usable trials" in _refusal(mlp, tmp_path, sources=["empty"])

    _source(tmp_path, mlp, "cnn", summary={"task": "mnist1d", "space": "cnn1d"})
    assert "searched space 'cnn1d'" in _refusal(mlp, tmp_path, sources=["cnn"])

    odd = tmp_path / "odd"
    odd.mkdir()
    outside = _config(mlp, lr=5.0)  # outside the space's lr range
    (odd / "trials.jsonl").write_text(_line("tpe", 0.9, outside) + "\n")
    assert "is not a point of mlp.py" in _refusal(mlp, tmp_path, sources=["odd"])

    _source(tmp_path, mlp, "target")
    assert "is this experiment" in _refusal(mlp, tmp_path, sources=["target"])

    _source(tmp_path, mlp, "src", summary={"task": "digits", "space": "mlp"})
    _source(tmp_path, mlp, "sin", summary={"task": "sinusoid", "space": "mlp"})
    assert "different ways" in _refusal(mlp, tmp_path, sources=["src", "sin"])
