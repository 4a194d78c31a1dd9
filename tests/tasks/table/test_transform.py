"""The shared transform: fitted on train only, the same width at every seed, float32 out, and a
category never seen in training taken in stride."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl_bench.tasks.table.check import MISSING, TableFacts
from automl_bench.tasks.table.spec import TableSpec
from automl_bench.tasks.table.task import TableTask, open_table
from automl_bench.tasks.table.transform import CARDINALITY_LIMIT, build_transform, output_width

N = 300


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> TableTask:
    """Numeric with missing values, a 3-valued and a 40-valued (some rare) categorical."""
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(10, 3, N), 3).astype(object)
    x[rng.random(N) < 0.1] = ""
    few = rng.choice(["a", "b", "c"], N)
    many = np.array([f"v{min(int(v), 39)}" for v in rng.exponential(6, N)])
    y = np.where(rng.random(N) < 0.5, "yes", "no")
    path = tmp_path_factory.mktemp("table") / "t.csv"
    rows = "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in zip(x, few, many, y, strict=True))
    path.write_text("x,few,many,y\n" + rows)
    return open_table(TableSpec(str(path), "y"))


def test_the_width_is_the_same_at_every_seed(task: TableTask, tmp_path: Path) -> None:
    n_many = len(task.facts.vocabularies[1])
    assert n_many > CARDINALITY_LIMIT  # the fallback is exercised
    assert task.info.input_shape == (1 + 3 + CARDINALITY_LIMIT,)
    for seed in range(4):
        splits = task.splits(seed, tmp_path)
        for x in (splits.x_train, splits.x_val, splits.x_test):
            assert x.dtype == np.float32 and x.shape[1] == task.info.input_shape[0]
            assert np.isfinite(x).all()


def test_the_transform_is_fitted_on_the_train_split_only(task: TableTask, tmp_path: Path) -> None:
    transform = task.fitted_transform(0, tmp_path)
    train = task.raw_rows(0, tmp_path, "train")["x"].to_numpy(dtype=np.float64)
    every = task.load().features["x"].to_numpy(dtype=np.float64)
    pipeline = transform.named_transformers_["numeric"]
    median = np.median(train[~np.isnan(train)])
    assert pipeline["impute"].statistics_[0] == pytest.approx(median)
    imputed = np.where(np.isnan(train), median, train)
    assert pipeline["scale"].mean_[0] == pytest.approx(imputed.mean(), rel=1e-5)
    assert pipeline["scale"].mean_[0] != pytest.approx(np.nanmean(every), rel=1e-6)
    # the stored train features are this transform applied to the train rows
    x_train = task.splits(0, tmp_path).x_train
    again = transform.transform(task.raw_rows(0, tmp_path, "train"))
    np.testing.assert_allclose(again, x_train, rtol=1e-6)


def test_a_category_never_seen_in_training_is_taken(task: TableTask, tmp_path: Path) -> None:
    transform = task.fitted_transform(0, tmp_path)
    rows = task.raw_rows(0, tmp_path, "test").iloc[:2].copy()
    rows["few"] = pd.Categorical(["zzz", None])
    rows["many"] = pd.Categorical(["never-seen", "v0"])
    x = transform.transform(rows)
    assert x.shape == (2, task.info.input_shape[0])
    assert x[0, 1:4].sum() == 0  # an unknown value of a small column: all zeros
    assert x[0, 4:].sum() == 1  # of a large one: the "infrequent" column


def test_an_all_missing_training_column_keeps_its_place() -> None:
    facts = TableFacts(
        problem="regression",
        metric="rmse",
        numeric=("a", "b"),
        categorical=("c",),
        vocabularies=(("p", "q", MISSING),),
        classes=(),
        n_rows=4,
        n_test_rows=0,
    )
    rows = pd.DataFrame(
        {
            "a": np.array([1, 2, 3, 4], dtype=np.float32),
            "b": np.full(4, np.nan, dtype=np.float32),
            "c": pd.Categorical([None, None, None, None], categories=["p", "q"]),
        }
    )
    x = build_transform(facts).fit_transform(rows)
    assert x.shape == (4, output_width(facts)) == (4, 5)
    assert not np.isnan(x).any()
