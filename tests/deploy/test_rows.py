"""Deploy records of a table's models measured from raw rows: the transform and the model
together, timed one raw row per call and at the batch size, sized, counted, and exported whole
to ONNX (an estimator's pipeline) or as a network. The figures' shape only: no timed assertion.

The transform is a stand-in for a table task's: numeric columns (float32, as a table's raw rows
hold them) imputed then scaled, categorical ones (pandas categoricals of text) imputed then
one-hot encoded, fitted on the first rows; the model is measured on the held-out rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits
from torch import nn

from automl_bench.deploy import sklearn_onnx
from automl_bench.deploy.estimator_figures import estimator_flops, estimator_params
from automl_bench.deploy.measure import WARMUP
from automl_bench.deploy.record import DeployRecord
from automl_bench.deploy.rows import EstimatorOnRows, NetOnRows, measure_rows
from automl_bench.reference_models import REFERENCE_MODELS
from automl_bench.space import load_search_space
from automl_bench.tasks.base import TaskInfo

SECONDS = 0.05
BATCH = 32
NUMERIC, CATEGORICAL = ["income", "age", "visits"], ["plan"]
ALL = [*NUMERIC, *CATEGORICAL]
FITTED_ROWS = 240


PLANS = [f"plan {i}" for i in range(12)]  # the first ones most frequent


def _frame(n: int = 320) -> tuple[pd.DataFrame, np.ndarray]:
    """Raw rows with missing values in a numeric and a categorical column, and a target."""
    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, len(PLANS) + 1)
    rows = pd.DataFrame(
        {
            "income": rng.normal(50.0, 10.0, size=n).astype(np.float32),
            "age": rng.integers(18, 80, size=n).astype(np.float32),
            "visits": rng.poisson(3.0, size=n).astype(np.float32),
            "plan": pd.Categorical(
                rng.choice(PLANS, size=n, p=weights / weights.sum()), categories=PLANS
            ),
        }
    )
    rows.loc[::9, "income"] = np.nan
    rows.loc[::13, "plan"] = None
    plan = rows["plan"].cat.codes.to_numpy()
    score = (rows["income"].fillna(50.0) - 50.0) / 10.0 + (plan == 0) - (plan > 3)
    return rows, score.to_numpy()


def _transform(max_categories: int | None = None, known: int = len(PLANS)) -> ColumnTransformer:
    """As a table's transform: the categorical column's ``known`` first values one-hot (a value
    past them is unseen), the rest of the ``max_categories`` grouped as infrequent."""
    encoder = OneHotEncoder(
        categories=[[*PLANS[:known], "(missing)"]],
        handle_unknown="infrequent_if_exist" if max_categories else "ignore",
        max_categories=max_categories,
        sparse_output=False,
        dtype=np.float32,
    )
    fill = SimpleImputer(strategy="constant", fill_value="(missing)")
    return ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC),
            ("categorical", make_pipeline(fill, encoder), CATEGORICAL),
        ],
        sparse_threshold=0.0,
    )


def _fitted(
    estimator: Any, problem: str, transform: ColumnTransformer | None = None
) -> tuple[EstimatorOnRows, pd.DataFrame]:
    """``estimator`` fitted on the first rows' float32 features; the held-out raw rows."""
    rows, score = _frame()
    target = (score > 0).astype(np.int64) + (score > 1) if problem == "classification" else score
    transform = (transform or _transform()).fit(rows.iloc[:FITTED_ROWS])
    x = transform.transform(rows.iloc[:FITTED_ROWS]).astype(np.float32)
    with threadpool_limits(limits=1):  # as a trial fits it: HGB's OpenMP pool oversubscribes
        estimator.fit(x, target[:FITTED_ROWS])
    return EstimatorOnRows(transform, estimator), rows.iloc[FITTED_ROWS:].reset_index(drop=True)


def _reference(name: str, problem: str) -> Any:
    space = load_search_space(REFERENCE_MODELS[name])
    config: dict[str, Any] = {**space.baseline, "random_state": 0}
    if name == "random_forest":
        config["n_estimators"] = 20  # the default's 100 trees answer one row in ~15 ms
    info = TaskInfo("table", (6,), 3 if problem == "classification" else 1, problem=problem)
    return space.build(config, info)


def _assert_sane(record: DeployRecord) -> None:
    cpu = record.cpu
    assert cpu is not None and cpu.device == "cpu" and cpu.threads == 1
    assert 0 < cpu.latency_ms_p50 <= cpu.latency_ms_p95
    assert cpu.latency_ms_iqr >= 0 and cpu.latency_repeats >= 30
    assert cpu.batch_size == BATCH and cpu.batch_latency_ms_p50 > 0 and cpu.throughput_per_s > 0
    assert cpu.peak_mem_mb > 0
    assert record.size_mb > 0 and record.params > 0 and record.flops > 0
    assert record.cuda is None


@pytest.mark.parametrize("problem", ["classification", "regression"])
@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_a_reference_model_on_raw_rows_is_measured_and_exports_whole(
    name: str, problem: str
) -> None:
    model, rows = _fitted(_reference(name, problem), problem)
    record = measure_rows(model, rows, batch_size=BATCH, threads=1, seconds=SECONDS)
    _assert_sane(record)
    assert record.onnx == "ok", record.onnx  # the transform included: one input per raw column
    assert record.exportable and record.export_error is None
    assert record.params == estimator_params(model.estimator)


class _RowCounter(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Predicts 0 and remembers how many rows each call was given."""

    def fit(self, x: Any, y: Any) -> _RowCounter:
        self.calls_: list[int] = []
        return self

    def predict(self, x: Any) -> np.ndarray:
        self.calls_.append(len(x))
        return np.zeros(len(x))


def test_batch_one_calls_pass_one_raw_row_and_the_batch_its_size() -> None:
    model, rows = _fitted(_RowCounter(), "regression")
    record = measure_rows(model, rows, batch_size=BATCH, threads=1, seconds=SECONDS, onnx=False)
    assert record.cpu is not None
    calls = model.estimator.calls_
    singles = WARMUP + record.cpu.latency_repeats
    assert calls[:singles] == [1] * singles
    assert set(calls[singles:]) == {BATCH}  # the timed batches, and the one traced for memory
    assert record.onnx == "not asked" and not record.exportable


def test_a_model_skl2onnx_cannot_convert_is_a_finding_not_a_crash() -> None:
    model, rows = _fitted(_RowCounter(), "regression")
    record = measure_rows(model, rows, batch_size=BATCH, threads=1, seconds=SECONDS)
    assert record.onnx.startswith("MissingShapeCalculator"), record.onnx
    assert not record.exportable and record.export_error == f"ONNX round trip: {record.onnx}"


@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_infrequent_and_unseen_categories_export_too(name: str) -> None:
    """The table transform's fallback above its cardinality limit: the most frequent values
    one-hot, the rest (and, here, values the encoder never saw) one infrequent column."""
    transform = _transform(max_categories=4, known=8)
    model, rows = _fitted(_reference(name, "regression"), "regression", transform)
    assert transform.named_transformers_["categorical"][-1].infrequent_categories_[0] is not None
    assert set(rows["plan"].dropna()) - set(PLANS[:8]), "the held-out rows hold unseen values"
    assert sklearn_onnx.pipeline_round_trip(model, rows) == "ok"
    graph = sklearn_onnx._convert(transform, rows)  # the transform alone: the same features
    features = sklearn_onnx._run_onnx(graph, rows, threads=1)
    assert np.array_equal(features, transform.transform(rows).astype(np.float32))


def test_what_skl2onnx_cannot_convert_in_the_transform_is_the_reason() -> None:
    transform = ColumnTransformer(
        [("numeric", FunctionTransformer(np.log1p), ["visits"]), ("rest", _transform(), ALL)]
    )
    model, rows = _fitted(LogisticRegression(), "classification", transform)
    record = measure_rows(model, rows, batch_size=BATCH, threads=1, seconds=SECONDS)
    assert "FunctionTransformer" in record.onnx, record.onnx
    assert not record.exportable and record.cpu is not None


def test_without_the_onnx_extra_the_round_trip_says_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sklearn_onnx, "onnx_installed", lambda: False)
    model, rows = _fitted(LogisticRegression(), "classification")
    assert sklearn_onnx.pipeline_round_trip(model, rows) == "not installed"


def test_a_net_on_raw_rows_counts_the_net_and_sizes_the_transform_too() -> None:
    model, rows = _fitted(LogisticRegression(), "classification")  # for its fitted transform
    width = model.transform.transform(rows.iloc[:1]).shape[1]
    net = nn.Sequential(nn.Linear(width, 16), nn.ReLU(), nn.Linear(16, 3))
    on_rows = NetOnRows(model.transform, net)
    assert on_rows.predict(rows.iloc[:5]).shape == (5, 3)
    threads_before = torch.get_num_threads()
    record = measure_rows(on_rows, rows, batch_size=BATCH, threads=1, seconds=SECONDS, onnx=False)
    _assert_sane(record)
    assert record.params == width * 16 + 16 + 16 * 3 + 3
    assert record.flops == 2 * (width * 16 + 16 * 3)
    state_dict_mb = (width * 16 + 16 + 16 * 3 + 3) * 4 / 1e6
    assert record.size_mb > state_dict_mb  # the transform's pickle is part of the model
    assert record.exportable and record.onnx == "not asked"
    assert torch.get_num_threads() == threads_before


def test_the_thread_limits_are_given_back() -> None:
    before = [pool["num_threads"] for pool in threadpool_info()]
    model, rows = _fitted(_reference("linear", "regression"), "regression")
    measure_rows(model, rows, batch_size=BATCH, threads=1, seconds=SECONDS, onnx=False)
    assert [pool["num_threads"] for pool in threadpool_info()] == before


def test_tree_and_linear_counts() -> None:
    forest, _ = _fitted(RandomForestClassifier(n_estimators=3, random_state=0), "classification")
    trees = [tree.tree_ for tree in forest.estimator.estimators_]
    assert estimator_params(forest.estimator) == sum(t.node_count for t in trees)
    assert estimator_flops(forest.estimator) == sum(t.max_depth + 3 for t in trees)  # 3 classes
    linear, _ = _fitted(LogisticRegression(), "classification")
    coefficients = linear.estimator.coef_.size  # 3 classes x the transformed width
    assert estimator_params(linear.estimator) == coefficients + 3
    assert estimator_flops(linear.estimator) == 2 * coefficients
    assert estimator_params(object()) == 0 and estimator_flops(object()) == 0


def test_no_rows_is_refused() -> None:
    model, rows = _fitted(LogisticRegression(), "classification")
    with pytest.raises(ValueError, match="at least one row"):
        measure_rows(model, rows.iloc[:0], batch_size=BATCH, threads=1, seconds=SECONDS)
