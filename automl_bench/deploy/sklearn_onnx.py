"""A scikit-learn model on raw rows, exported whole to ONNX with skl2onnx and checked in
onnxruntime: does the exported graph answer the raw rows as the Python pipeline does?

The whole pipeline is converted, the fitted transform included, so the ONNX graph takes raw
rows: one input per raw column, shaped ``[None, 1]``, a ``FloatTensorType`` for a numeric (or
boolean) column and a ``StringTensorType`` for any other. ONNX has no missing string, so a
missing value of a string column is fed as ``""``, and in the copy that is converted an imputer
of a string column (fitted on strings) treats ``""`` as missing; the fitted pipeline itself is
never changed.

ONNX computes the transform in float32 where scikit-learn computes it in float64 (and the model
sees it cast to float32), so a feature can differ by a unit in the last place, and a row lying
that close to a tree's split threshold falls on the other side (scikit-learn's trees can put a
threshold that close to a value: seen with a one-ulp gap on a scaled integer column). In a forest
that moves one tree's vote among a hundred. The round trip is therefore ``"ok"`` when a
classifier gives another label on at most ``MAX_DIFFERING_SHARE`` of the rows, and a
regressor's every value is within ``RTOL`` of itself plus ``SPREAD_TOL`` of the predictions'
standard deviation; otherwise it says on how many rows, and by how much, the outputs differ.

skl2onnx 1.20 writes a Python ``bool`` into an integer attribute of HistGradientBoosting's tree
nodes, which protobuf >= 7.34 refuses ("expected an int, got a boolean"); its converters run here
with a container that writes those booleans as the integers ONNX encodes them as, for this
conversion only (``custom_conversion_functions``: nothing is registered globally).

What skl2onnx cannot convert (a OneHotEncoder's infrequent categories, a FunctionTransformer...)
comes back as the reason, never as an exception.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

MAX_DIFFERING_SHARE = 0.01  # a classifier's rows that may get another label
RTOL = 1e-4  # a regressor's values may differ by RTOL x the value ...
SPREAD_TOL = 1e-2  # ... plus SPREAD_TOL x the predictions' standard deviation
NOT_INSTALLED = "not installed"


class SklearnOnRows(Protocol):
    """A scikit-learn model on raw rows: its ``pipeline`` (what is exported) and its
    ``predict`` (what the export is compared with)."""

    @property
    def pipeline(self) -> Any: ...

    def predict(self, rows: Any) -> Any: ...


def onnx_installed() -> bool:
    """Whether skl2onnx and onnxruntime (the ``onnx`` extra) can be imported."""
    try:
        import onnxruntime  # type: ignore[import-untyped, import-not-found, unused-ignore]  # noqa: F401
        import skl2onnx  # type: ignore[import-untyped, import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def pipeline_round_trip(model: SklearnOnRows, rows: Any, threads: int = 1) -> str:
    """Convert ``model.pipeline`` (the fitted transform and estimator) to ONNX, run it in
    onnxruntime on the raw ``rows`` (a pandas DataFrame) and compare with ``model.predict``:
    ``"ok"``, ``"outputs differ on k of n rows ..."``, ``"not installed"``, or why it could not
    be converted or run."""
    if not onnx_installed():
        return NOT_INSTALLED
    try:
        got = _run_onnx(_convert(model.pipeline, rows), rows, threads)
        expected = np.asarray(model.predict(rows))
    except Exception as exc:  # a model that does not export is a finding, not a crash
        return _reason(exc)
    return _agreement(got, expected, classifier=_is_classifier(model.pipeline))


def column_types(rows: Any) -> list[tuple[str, Any]]:
    """One typed ONNX input per raw column: float for numeric and boolean columns, string
    otherwise, each ``[None, 1]``."""
    from skl2onnx.common.data_types import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        FloatTensorType,
        StringTensorType,
    )

    return [
        (
            str(name),
            FloatTensorType([None, 1]) if _numeric(rows[name]) else StringTensorType([None, 1]),
        )
        for name in rows.columns
    ]


def column_feeds(rows: Any) -> dict[str, npt.NDArray[Any]]:
    """The raw rows as ONNX inputs: a float32 ``(n, 1)`` array per numeric column (missing:
    NaN), an object array of strings per other column (missing: ``""``)."""
    import pandas as pd

    feeds: dict[str, npt.NDArray[Any]] = {}
    for name in rows.columns:
        column = rows[name]
        if _numeric(column):
            values = column.to_numpy(dtype=np.float32, na_value=np.nan)
        else:
            values = np.array(["" if pd.isna(v) else str(v) for v in column], dtype=object)
        feeds[str(name)] = values.reshape(-1, 1)
    return feeds


def _convert(pipeline: Any, rows: Any) -> Any:
    """The ONNX model of a convertible copy of ``pipeline``, its classifier's probabilities as a
    plain tensor (no ZipMap)."""
    from skl2onnx import convert_sklearn  # type: ignore[import-untyped, import-not-found, unused-ignore]

    convertible = _strings_missing_as_empty(pipeline)
    final = convertible.steps[-1][1] if hasattr(convertible, "steps") else convertible
    options = {id(final): {"zipmap": False}} if _is_classifier(final) else None
    return convert_sklearn(
        convertible,
        initial_types=column_types(rows),
        options=options,
        custom_conversion_functions=_integer_attribute_converters(),
    )


def _run_onnx(model: Any, rows: Any, threads: int) -> npt.NDArray[Any]:
    """The ONNX model's first output (labels, or values) on ``rows``."""
    import onnxruntime  # type: ignore[import-untyped, import-not-found, unused-ignore]

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return np.asarray(session.run(None, column_feeds(rows))[0])


def _agreement(got: npt.NDArray[Any], expected: npt.NDArray[Any], classifier: bool) -> str:
    """``"ok"``, or how many rows the ONNX answer differs on, and by how much."""
    n = len(expected)
    got, expected = got.reshape(n, -1), expected.reshape(n, -1)
    if classifier:
        same = np.array(
            [str(a) == str(b) for a, b in zip(got.ravel(), expected.ravel(), strict=True)]
        )
        differing = int(np.sum(~same.reshape(n, -1).all(axis=1)))
        if differing <= MAX_DIFFERING_SHARE * n:
            return "ok"
        return f"outputs differ on {differing} of {n} rows (another label)"
    expected, got = expected.astype(np.float64), got.astype(np.float64)
    spread = float(np.std(expected)) or 1.0
    close = np.abs(got - expected) <= RTOL * np.abs(expected) + SPREAD_TOL * spread
    if close.all():
        return "ok"
    worst = float(np.max(np.abs(got - expected))) / spread
    differing = int(np.sum(~close.all(axis=1)))
    return f"outputs differ on {differing} of {n} rows (by up to {worst:.2g} x the predictions' SD)"


def _strings_missing_as_empty(pipeline: Any) -> Any:
    """A deep copy of ``pipeline`` in which every imputer fitted on strings treats ``""`` as
    missing (what a missing string is fed as)."""
    from sklearn.impute import SimpleImputer

    convertible = copy.deepcopy(pipeline)

    def visit(part: Any) -> None:
        statistics = getattr(part, "statistics_", None)
        if isinstance(part, SimpleImputer) and getattr(statistics, "dtype", None) == np.dtype(
            object
        ):
            part.missing_values = ""
        for _, child, *_ in [*getattr(part, "steps", []), *getattr(part, "transformers_", [])]:
            visit(child)

    visit(convertible)
    return convertible


class _IntegerAttributes:
    """A skl2onnx container whose ``add_node`` writes boolean list attributes as integers."""

    def __init__(self, container: Any) -> None:
        self._container = container

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def add_node(self, *args: Any, **attrs: Any) -> Any:
        for key, value in attrs.items():
            if isinstance(value, list):
                attrs[key] = [int(v) if isinstance(v, bool | np.bool_) else v for v in value]
        return self._container.add_node(*args, **attrs)


def _integer_attribute_converters() -> dict[type, Callable[..., Any]]:
    """HistGradientBoosting's own skl2onnx converters, writing integers where it writes bools."""
    from skl2onnx.operator_converters.random_forest import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        convert_sklearn_random_forest_classifier,
        convert_sklearn_random_forest_regressor_converter,
    )
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    def integer_attributes(convert: Callable[..., Any]) -> Callable[..., Any]:
        def converter(scope: Any, operator: Any, container: Any) -> Any:
            return convert(scope, operator, _IntegerAttributes(container))

        return converter

    return {
        HistGradientBoostingClassifier: integer_attributes(
            convert_sklearn_random_forest_classifier
        ),
        HistGradientBoostingRegressor: integer_attributes(
            convert_sklearn_random_forest_regressor_converter
        ),
    }


def _is_classifier(model: Any) -> bool:
    from sklearn.base import is_classifier

    return bool(is_classifier(model))


def _numeric(column: Any) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return bool(is_numeric_dtype(column) or is_bool_dtype(column))


def _reason(exc: BaseException) -> str:
    """The exception in one line; skl2onnx's node errors say the cause in their cause."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, ValueError) and str(exc).startswith("Unable to create node") and cause:
        exc = cause
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:200]}"
