"""Every method's sampler survives the pickling Ray Tune does when it saves its experiment state
(and ``--resume`` reads back), and samples as before afterwards."""

from __future__ import annotations

import pickle

import optuna
import pytest
from ray import cloudpickle

from automl_bench.methods import METHODS


@pytest.mark.parametrize(
    "name", sorted(n for n, m in METHODS.items() if m.make_sampler is not None)
)
def test_a_sampler_pickles_and_samples_the_same_afterwards(name: str) -> None:
    make = METHODS[name].make_sampler
    assert make is not None
    sampler = make(0, 8)
    copy = pickle.loads(cloudpickle.dumps(sampler))
    assert type(copy) is type(sampler)

    def objectives(trial: optuna.Trial) -> float | tuple[float, float]:
        x = trial.suggest_float("x", -1.0, 1.0)
        return (x, -x) if METHODS[name].multi_objective else x

    drawn = []
    for s in (sampler, copy):
        directions = ["maximize", "minimize"] if METHODS[name].multi_objective else ["maximize"]
        study = optuna.create_study(directions=directions, sampler=s)
        study.optimize(objectives, n_trials=3)
        drawn.append([t.params["x"] for t in study.trials])
    assert drawn[0] == drawn[1]
