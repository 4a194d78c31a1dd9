"""docs/search-spaces.md states the trainer's defaults and the ranges suggest_training uses:
both tables are held against the code, row by row."""

from __future__ import annotations

import dataclasses
import re

import optuna
import pytest
from repo_paths import REPO

from automl_bench import suggest_training
from automl_bench.train import OPTIMIZERS, TrainSettings

GUIDE = REPO / "docs" / "search-spaces.md"


def _table_under(heading: str) -> dict[str, list[str]]:
    """Rows of the first table after ``heading``: the key (first cell) -> the other cells."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", section, flags=re.MULTILINE)
    return {key: [c.strip() for c in rest.split(" | ")] for key, rest in rows}


def _numbers(cell: str) -> list[float]:
    return [float(x) for x in re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", cell)]


def _suggested() -> dict[str, optuna.distributions.BaseDistribution]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    suggest_training(trial)
    return dict(trial.distributions)


def test_the_documented_ranges_are_the_ones_suggest_training_uses() -> None:
    documented, suggested = _table_under("## `suggest_training`"), _suggested()
    assert set(documented) == set(suggested)
    for key, distribution in suggested.items():
        kind, values = documented[key]
        if isinstance(distribution, optuna.distributions.FloatDistribution):
            assert kind == ("float, log scale" if distribution.log else "float"), key
            assert _numbers(values) == [distribution.low, distribution.high], key
        else:
            assert isinstance(distribution, optuna.distributions.CategoricalDistribution)
            assert kind == "categorical", key
            shown = [v.strip() for v in values.split(",")]
            choices = [c if isinstance(c, str) else float(c) for c in distribution.choices]
            assert [v if v.isalpha() else float(v) for v in shown] == choices, key


TRAINER_KEYS = [f for f in dataclasses.fields(TrainSettings) if f.name != "epochs"]


@pytest.mark.parametrize("field", TRAINER_KEYS, ids=lambda f: f.name)
def test_the_documented_defaults_are_the_trainers(field: dataclasses.Field[object]) -> None:
    default, allowed = _table_under("## The keys the trainer reads")[field.name]
    if field.name == "optimizer":
        assert default == field.default and allowed == ", ".join(OPTIMIZERS)
    else:
        assert float(default) == field.default, field.name
