"""The scheduling logic of the experiment-wide searcher, driven by hand (no Ray cluster)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import pytest
from ray.tune.search import Searcher

from automl_bench.cost.attribution import Holding, Reading
from automl_bench.cost.node_meter import NodeMeter
from automl_bench.cost.prices import Prices
from automl_bench.cost.window import LocalWindowMeter, Unmetered
from automl_bench.runner.searcher import StudySearcher
from automl_bench.space import load_search_space
from automl_bench.study import StudySpec


def _searcher(repo_root: Path, n_trials: int = 3) -> StudySearcher:
    space = load_search_space(repo_root / "search_spaces" / "mlp.py")
    studies = [
        StudySpec("baseline", 0, "mlp", 0, "baseline"),
        StudySpec("random", 0, "mlp", n_trials, "random"),
        StudySpec("tpe", 0, "mlp", n_trials, "tpe"),
    ]
    return StudySearcher(studies, {"mlp": space}, Unmetered(), PRICES)


PRICES = Prices(4.0, 0.05, 0.2, 0.3, 1.0)


class TenWattsOfCpu:
    """A scripted node: 10 W of CPU, whatever the load, read against the real clock."""

    measured: ClassVar[dict[str, str]] = {"cpu": "constant", "gpu": "none", "ram": "none"}

    def __init__(self) -> None:
        import time

        self._time, self._last = time.monotonic, time.monotonic()

    def read(self) -> Reading:
        now = self._time()
        seconds, self._last = now - self._last, now
        return Reading(cpu_kwh=10 * seconds / 3.6e6)


def _result(value: float) -> dict[str, Any]:
    return {"val_accuracy": value, "trial_status": "ok"}


def test_baseline_final_first_then_interleaved_search_then_finals(repo_root: Path) -> None:
    s = _searcher(repo_root)
    assert s.total_trials == 1 + 4 + 4
    first = s.suggest("t0")
    assert isinstance(first, dict)
    assert (first["study"], first["phase"]) == ("baseline/seed=0", "final")
    assert first["config"] == load_search_space(repo_root / "search_spaces" / "mlp.py").baseline
    jobs = {}
    for i in range(1, 7):
        job = s.suggest(f"t{i}")
        assert isinstance(job, dict) and job["phase"] == "search"
        jobs[f"t{i}"] = job
    # studies take turns, so each stays close to sequential
    assert [j["method"] for j in jobs.values()] == ["random", "tpe"] * 3
    assert s.suggest("t7") is None  # all search trials out: wait for them
    values = {"t1": 0.5, "t3": 0.9, "t5": 0.7, "t2": 0.6, "t4": 0.4}
    for trial_id, value in values.items():
        s.on_trial_result(trial_id, {"epoch": 1, **_result(value), "training_iteration": 1})
        s.on_trial_complete(trial_id, _result(value))
    s.on_trial_complete("t6", None, error=True)  # a failed tpe trial
    finals = [s.suggest("t8"), s.suggest("t9")]
    assert all(isinstance(f, dict) and f["phase"] == "final" for f in finals)
    by_method = {f["method"]: f for f in finals if isinstance(f, dict)}
    assert by_method["random"]["config"] == jobs["t3"]["config"]  # the best by validation
    assert by_method["tpe"]["config"] == jobs["t2"]["config"]  # the failed one is never chosen
    assert s.suggest("t10") == Searcher.FINISHED


def test_a_study_whose_trials_all_fail_gets_no_final_training(repo_root: Path) -> None:
    space = load_search_space(repo_root / "search_spaces" / "mlp.py")
    s = StudySearcher(
        [StudySpec("random", 0, "mlp", 2, "random")], {"mlp": space}, Unmetered(), PRICES
    )
    assert isinstance(s.suggest("a"), dict) and isinstance(s.suggest("b"), dict)
    s.on_trial_complete("a", None, error=True)
    s.on_trial_complete("b", {"trial_status": "failed"}, error=False)
    assert s.suggest("c") == Searcher.FINISHED


def test_optuna_learns_every_search_result(repo_root: Path) -> None:
    s = _searcher(repo_root, n_trials=2)
    s.suggest("base")
    told: dict[str, list[float]] = {"random": [], "tpe": []}
    for i in range(6):  # 4 search trials and, as each study ends, its final training
        job = s.suggest(f"t{i}")
        assert isinstance(job, dict)
        s.on_trial_complete(f"t{i}", _result(0.1 * i))
        if job["phase"] == "search":
            told[job["method"]].append(0.1 * i)
    for method, values in told.items():
        study = s._optuna[f"{method}/seed=0"]._ot_study
        assert [t.value for t in study.trials] == values
        assert len(values) == 2


def test_what_the_sampler_spends_deciding_is_charged_to_its_study(repo_root: Path) -> None:
    space = load_search_space(repo_root / "search_spaces" / "mlp.py")
    node = NodeMeter(TenWattsOfCpu(), node_cpus=2)
    studies = [
        StudySpec("baseline", 0, "mlp", 0, "baseline"),
        StudySpec("tpe", 0, "mlp", 3, "tpe"),
    ]
    s = StudySearcher(studies, {"mlp": space}, LocalWindowMeter(node, Holding(1.0)), PRICES)
    assert s.suggest("b")["phase"] == "final"  # type: ignore[index]
    for i in range(3):
        assert s.suggest(f"t{i}")["phase"] == "search"  # type: ignore[index]
        s.on_trial_complete(f"t{i}", _result(0.5 + i / 10))
    spent = s.decide["tpe/seed=0"]
    assert set(s.decide) == {"tpe/seed=0"}  # a baseline decides nothing
    assert spent.wall_s > 0 and spent.cpu_s > 0
    # one CPU of two held: half of the node's 10 W for as long as the sampler worked
    assert spent.energy_kwh == pytest.approx(10 * spent.wall_s / 3.6e6 / 2, rel=0.01)
    assert spent.measured == TenWattsOfCpu.measured


def test_saved_state_restores_into_a_fresh_searcher_that_goes_on_where_it_was(
    repo_root: Path, tmp_path: Path
) -> None:
    """What Tune saves with its experiment state and loads on --resume: a fresh searcher (the
    resumed driver's) takes the counts, the best so far and each study's sampler history, and
    suggests what the saved one would have suggested next."""
    saved = _searcher(repo_root)
    jobs = {f"t{i}": saved.suggest(f"t{i}") for i in range(5)}  # baseline final + 4 searches
    for trial_id, value in (("t1", 0.5), ("t2", 0.8)):
        saved.on_trial_complete(trial_id, _result(value))
    path = tmp_path / "searcher-state.pkl"
    saved.save(str(path))
    fresh = _searcher(repo_root)
    fresh.restore(str(path))
    assert fresh._jobs.keys() == saved._jobs.keys() and fresh._best == saved._best
    assert fresh._suggested == saved._suggested and fresh._ended == saved._ended
    # the same next suggestion as the searcher that saved it (its samplers restored too)
    nxt_saved, nxt_fresh = saved.suggest("t5"), fresh.suggest("t5")
    assert isinstance(nxt_fresh, dict) and nxt_fresh == nxt_saved
    assert nxt_fresh["config"] not in [j["config"] for j in jobs.values() if isinstance(j, dict)]
    # the trials the saved one had out end in the fresh one
    for trial_id in ("t3", "t4", "t5"):
        fresh.on_trial_complete(trial_id, _result(0.6))
    assert sum(fresh._ended.values()) == 5 and fresh._ended["baseline/seed=0"] == 0


def test_a_saved_state_of_another_plan_is_refused(repo_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "searcher-state.pkl"
    _searcher(repo_root).save(str(path))
    space = load_search_space(repo_root / "search_spaces" / "mlp.py")
    other = StudySearcher(
        [StudySpec("tpe", 1, "mlp", 3, "tpe")], {"mlp": space}, Unmetered(), PRICES
    )
    with pytest.raises(ValueError, match="not the saved state of this experiment's plan"):
        other.restore(str(path))


def test_the_searcher_holds_to_its_concurrency_and_hears_each_ending_once(
    repo_root: Path,
) -> None:
    space = load_search_space(repo_root / "search_spaces" / "mlp.py")
    studies = [StudySpec("random", 0, "mlp", 3, "random")]
    s = StudySearcher(studies, {"mlp": space}, Unmetered(), PRICES, max_concurrent=2)
    assert isinstance(s.suggest("t0"), dict) and isinstance(s.suggest("t1"), dict)
    assert s.suggest("t2") is None  # two out: the limit
    s.on_trial_complete("t0", _result(0.5))
    s.on_trial_complete("t0", _result(0.5))  # told again (a resumed trial): heard once
    assert s._ended["random/seed=0"] == 1
    assert isinstance(s.suggest("t2"), dict)
    assert s.suggest("t3") is None


def test_a_trial_run_again_reports_its_first_epochs_again_without_a_warning(
    repo_root: Path, tmp_path: Path
) -> None:
    """After --resume (or a lost worker), a trial cut short runs again from its first epoch:
    Optuna keeps the values it had, and no library warning reaches the user."""
    saved = _searcher(repo_root)
    saved.suggest("base")
    job = saved.suggest("t1")
    assert isinstance(job, dict) and job["study"] == "random/seed=0"
    saved.on_trial_result("t1", {"epoch": 1, **_result(0.5), "training_iteration": 1})
    path = tmp_path / "searcher-state.pkl"
    saved.save(str(path))
    fresh = _searcher(repo_root)
    fresh.restore(str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fresh.on_trial_result("t1", {"epoch": 1, **_result(0.7), "training_iteration": 1})
        fresh.on_trial_result("t1", {"epoch": 2, **_result(0.8), "training_iteration": 2})
    assert [str(w.message) for w in caught] == []
    (trial,) = fresh._optuna["random/seed=0"]._ot_study.trials
    assert trial.intermediate_values == {1: 0.5, 2: 0.8}
