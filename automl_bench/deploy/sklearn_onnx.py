"""A scikit-learn model on raw rows, exported whole to ONNX with skl2onnx and checked in
onnxruntime: does the exported graph answer the raw rows as the Python pipeline does?

The whole pipeline is converted, the fitted transform included, so the ONNX graph takes raw
rows: one input per raw column, shaped ``[None, 1]``, a ``FloatTensorType`` for a numeric (or
boolean) column and a ``StringTensorType`` for any other. ONNX has no missing string, so a
missing value of a string column is fed as ``""``, and in the copy that is converted an imputer
of a string column (fitted on strings) treats ``""`` as missing; the fitted pipeline itself is
never changed.

Two choices make the graph compute as scikit-learn does. A StandardScaler subtracts and
divides (skl2onnx's default multiplies by the inverse scale, a unit in the last place off), in
float32 when the raw numeric columns are float32, as scikit-learn then does, else in float64
rounded to float32: scikit-learn's trees (1.9) can put a split threshold exactly on a training
value, so one unit in the last place sends a row the other way. And the model sees the
transform's output as float32, as it was fitted (``EstimatorOnRows.predict``). With float32
columns a forest's ONNX answers then equal scikit-learn's; with float64 columns the ONNX input is
already rounded. The round trip is ``"ok"`` when a classifier gives another label on at most
``MAX_DIFFERING_SHARE`` of the rows, and a regressor's every value is within ``RTOL`` of itself
plus ``SPREAD_TOL`` of the predictions' standard deviation; otherwise it says on how many rows,
and by how much, the outputs differ.

Two converters run in place of skl2onnx's, for this conversion only
(``custom_conversion_functions``: nothing is registered globally):

- skl2onnx 1.20 writes a Python ``bool`` into an integer attribute of HistGradientBoosting's
  tree nodes, which protobuf >= 7.34 refuses ("expected an int, got a boolean"): its own
  converters run with a container that writes those booleans as the integers ONNX encodes them
  as;
- skl2onnx 1.20 refuses a OneHotEncoder whose infrequent categories are grouped into one column
  (``max_categories``, ``min_frequency``: the table transform's fallback above its cardinality
  limit) when it has one input, as after an imputer: such an encoder is written as a
  LabelEncoder to the output position and a comparison with every position.

What skl2onnx still cannot convert (a FunctionTransformer, a callable it does not know...) comes
back as the reason, never as an exception.
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
    """The ONNX model of a convertible copy of ``pipeline``: its classifier's probabilities as a
    plain tensor (no ZipMap), its scalers computing as scikit-learn does (``_scaler_options``)."""
    from skl2onnx import convert_sklearn  # type: ignore[import-untyped, import-not-found, unused-ignore]

    convertible = _strings_missing_as_empty(pipeline)
    final = convertible.steps[-1][1] if hasattr(convertible, "steps") else convertible
    options = _scaler_options(convertible, rows)
    if _is_classifier(final):
        options[id(final)] = {"zipmap": False}
    return convert_sklearn(
        convertible,
        initial_types=column_types(rows),
        options=options,
        custom_conversion_functions=_converters(),
    )


def _scaler_options(pipeline: Any, rows: Any) -> dict[int, dict[str, Any]]:
    """Each StandardScaler as a true subtraction and division, as scikit-learn computes it: in
    float32 when the raw numeric columns are float32 (``div``), else in float64 and rounded to
    float32 (``div_cast``). skl2onnx's default multiplies by the inverse scale, which moves some
    features by a unit in the last place, and with them rows lying on a tree's threshold."""
    from sklearn.preprocessing import StandardScaler

    numeric = [rows[name].dtype for name in rows.columns if _numeric(rows[name])]
    mode = "div" if all(dtype == np.float32 for dtype in numeric) else "div_cast"
    return {
        id(part): {"div": mode} for part in _parts(pipeline) if isinstance(part, StandardScaler)
    }


def _run_onnx(model: Any, rows: Any, threads: int) -> npt.NDArray[Any]:
    """The ONNX model's first output (labels, or values) on ``rows``. skl2onnx renames a column
    whose name is no valid ONNX name (``mean radius`` -> ``mean_radius``): the inputs are fed in
    the columns' order."""
    import onnxruntime  # type: ignore[import-untyped, import-not-found, unused-ignore]

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [given.name for given in session.get_inputs()]
    if len(names) != len(rows.columns):
        raise ValueError(f"the ONNX graph has {len(names)} inputs for {len(rows.columns)} columns")
    feeds = dict(zip(names, column_feeds(rows).values(), strict=True))
    return np.asarray(session.run(None, feeds)[0])


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
    for part in _parts(convertible):
        statistics = getattr(part, "statistics_", None)
        if isinstance(part, SimpleImputer) and getattr(statistics, "dtype", None) == np.dtype(
            object
        ):
            part.missing_values = ""
    return convertible


def _parts(model: Any) -> list[Any]:
    """``model`` and every step inside it (a Pipeline's steps, a ColumnTransformer's parts)."""
    inside = [*getattr(model, "steps", []), *getattr(model, "transformers_", [])]
    return [model, *(part for _, child, *_ in inside for part in _parts(child))]


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


def _converters() -> dict[type, Callable[..., Any]]:
    """The converters this conversion runs instead of skl2onnx's registered ones."""
    from skl2onnx.operator_converters.random_forest import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        convert_sklearn_random_forest_classifier,
        convert_sklearn_random_forest_regressor_converter,
    )
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.preprocessing import OneHotEncoder

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
        OneHotEncoder: _one_hot_with_infrequent,
    }


def _one_hot_with_infrequent(scope: Any, operator: Any, container: Any) -> None:
    """A OneHotEncoder of one string input whose infrequent categories are grouped into one
    column (skl2onnx 1.20 refuses it): per column, a LabelEncoder maps each value to its output
    position (an infrequent or, with ``infrequent_if_exist``, unseen value to the infrequent
    column; an unseen value otherwise to none), compared with every position. Any other
    OneHotEncoder goes to skl2onnx's own converter."""
    from onnx import TensorProto  # type: ignore[import-untyped, import-not-found, unused-ignore]
    from skl2onnx.common.data_types import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        StringTensorType,
        guess_proto_type,
    )
    from skl2onnx.operator_converters.one_hot_encoder import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
        convert_sklearn_one_hot_encoder,
    )

    encoder = operator.raw_operator
    infrequent = getattr(encoder, "infrequent_categories_", None) or []
    grouped = any(group is not None for group in infrequent)
    plain = len(operator.inputs) != 1 or encoder.drop is not None
    if not grouped or plain or not isinstance(operator.inputs[0].type, StringTensorType):
        convert_sklearn_one_hot_encoder(scope, operator, container)
        return
    source, columns = operator.inputs[0].full_name, []
    for index, categories in enumerate(encoder.categories_):
        rare = {str(c) for c in (infrequent[index] if infrequent[index] is not None else [])}
        frequent = [str(c) for c in categories if str(c) not in rare]
        slot = len(frequent)  # the infrequent column, or (without one) no column at all
        unseen = slot if rare and encoder.handle_unknown == "infrequent_if_exist" else slot + 1
        width = slot + 1 if rare else slot
        keys = [*frequent, *sorted(rare)]
        column = _add(
            scope, container, "Gather", [source, _const(scope, container, [index])], axis=1
        )
        position = _add(
            scope,
            container,
            "LabelEncoder",
            [column],
            op_domain="ai.onnx.ml",
            op_version=2,
            keys_strings=keys,
            values_int64s=[*range(slot), *[slot] * len(rare)],
            default_int64=unseen,
        )
        positions = _const(scope, container, [list(range(width))])
        hits = _add(scope, container, "Equal", [position, positions])
        columns.append(_add(scope, container, "Cast", [hits], to=TensorProto.FLOAT))
    joined = _add(scope, container, "Concat", columns, axis=1)
    to = guess_proto_type(operator.outputs[0].type)
    container.add_node(
        "Cast",
        [joined],
        [operator.outputs[0].full_name],
        to=to,
        name=scope.get_unique_operator_name("Cast"),
    )


def _add(scope: Any, container: Any, op_type: str, inputs: list[str], **attrs: Any) -> str:
    """One node with one new output; returns the output's name."""
    out = scope.get_unique_variable_name(op_type.lower())
    container.add_node(
        op_type, inputs, [out], name=scope.get_unique_operator_name(op_type), **attrs
    )
    return str(out)


def _const(scope: Any, container: Any, values: list[Any]) -> str:
    """An int64 initializer holding ``values`` (a list, or a list of one list: shape [1, n])."""
    from onnx import TensorProto  # type: ignore[import-untyped, import-not-found, unused-ignore]

    array = np.asarray(values, dtype=np.int64)
    name = scope.get_unique_variable_name("const")
    container.add_initializer(name, TensorProto.INT64, list(array.shape), array.ravel().tolist())
    return str(name)


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
