"""The one preprocessing every method shares: raw table rows in, float32 features out.

A scikit-learn ``ColumnTransformer``, fitted on the training split only:

- numeric columns: missing values imputed with the training median, then standardised
  (``SimpleImputer`` + ``StandardScaler``); an all-missing training column is kept as zeros, so
  the width does not depend on the seed. The median is ``median_or_zero``, a callable strategy
  (scikit-learn's own ``"median"`` sorts a masked copy of the whole table: 8x slower and twice
  the memory on a million rows);
- categorical columns (text, booleans, dictionaries): missing values become the word
  ``(missing)``, then ``OneHotEncoder`` over the column's vocabulary taken from the whole ``data``
  file, so every seed gives the same columns (the network's input shape is fixed per table).

**Cardinality limit and fallback.** A column with at most ``CARDINALITY_LIMIT`` (20) values is
one-hot encoded in full. Above it, the encoder keeps the 19 values most frequent in the training
split and groups the rest into one "infrequent" column (``max_categories``), so such a column is
always exactly 20 wide. Why this and not a target encoder: it needs no target (no leakage, no
cross-fitting, and the deployed transform is the same object at fit and at predict time), its
width never depends on which classes a split happens to hold, and it is standard scikit-learn
that an ONNX converter knows. A value never seen in training (a new category at predict time)
counts as infrequent, or as all zeros in a column below the limit.

``frame`` turns a pyarrow table into the transform's input: numeric columns as float32 (dates as
seconds since 1970), categorical ones as pandas categoricals of text. No object-dtype copy of the
file is ever made, which keeps a large table's peak memory low (``benchmarks/table_load.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from automl_bench.tasks.table.check import MISSING, TableFacts, text_values

if TYPE_CHECKING:
    import pandas as pd

CARDINALITY_LIMIT = 20  # one-hot in full up to this many values; above, the top 19 + "infrequent"


def build_transform(facts: TableFacts) -> Any:
    """The unfitted ``ColumnTransformer`` for ``facts``' columns (fit it on the train split)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    parts: list[tuple[str, Any, list[str]]] = []
    if facts.numeric:
        impute = SimpleImputer(strategy=median_or_zero, keep_empty_features=True)
        # the imputer's output is a new array: scaling it in place saves a copy of the table
        steps = [("impute", impute), ("scale", StandardScaler(copy=False))]
        parts.append(("numeric", Pipeline(steps), list(facts.numeric)))
    few = [i for i, v in enumerate(facts.vocabularies) if len(v) <= CARDINALITY_LIMIT]
    many = [i for i, v in enumerate(facts.vocabularies) if len(v) > CARDINALITY_LIMIT]
    for name, chosen, limit in (
        ("categorical", few, None),
        ("many_values", many, CARDINALITY_LIMIT),
    ):
        if chosen:
            columns = [facts.categorical[i] for i in chosen]
            vocabularies = [facts.vocabularies[i] for i in chosen]
            parts.append((name, _one_hot(vocabularies, limit), columns))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def median_or_zero(values: npt.NDArray[np.floating[Any]]) -> float:
    """The median of a column's present values (0 where none is): the imputer's statistic.

    The same value as ``SimpleImputer(strategy="median")``, computed column by column with
    ``np.median`` (a partition) instead of a masked sort of the whole table: 8x faster and no
    copy of the table on a million rows (``benchmarks/table_load.py``).
    """
    return float(np.median(values)) if len(values) else 0.0


def _one_hot(vocabularies: list[tuple[str, ...]], limit: int | None) -> Any:
    """Missing values as a word, then one-hot over each column's vocabulary (the top ``limit``
    values only, the rest one "infrequent" column, where ``limit`` is given)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    fill = SimpleImputer(strategy="constant", fill_value=MISSING, keep_empty_features=True)
    one_hot = OneHotEncoder(
        categories=[list(v) for v in vocabularies],
        handle_unknown="ignore" if limit is None else "infrequent_if_exist",
        max_categories=limit,
        sparse_output=False,
        dtype=np.float32,
    )
    return Pipeline([("fill", fill), ("one_hot", one_hot)])


def output_width(facts: TableFacts) -> int:
    """How many features the transform puts out: the same for every seed."""
    return len(facts.numeric) + sum(min(len(v), CARDINALITY_LIMIT) for v in facts.vocabularies)


def frame(table: pa.Table, facts: TableFacts) -> pd.DataFrame:
    """The transform's input: ``facts``' feature columns of ``table``, in the kinds it expects.

    The numeric columns are one float32 block, filled a chunk at a time (no second copy of a
    column), so that scikit-learn takes them without interleaving them again.
    """
    import pandas as pd

    numbers = np.empty((len(facts.numeric), table.num_rows), dtype=np.float32)
    for row, name in enumerate(facts.numeric):
        _fill(numbers[row], table.column(name))
    index = pd.RangeIndex(table.num_rows)
    numeric = pd.DataFrame(numbers.T, columns=list(facts.numeric), index=index, copy=False)
    categories = {name: _categories(table.column(name)) for name in facts.categorical}
    categorical = pd.DataFrame(categories, index=index, copy=False)
    return pd.concat([numeric, categorical], axis=1, copy=False)


def _fill(out: npt.NDArray[np.float32], column: pa.ChunkedArray) -> None:
    """``out`` filled with ``column`` as float32, missing values NaN, dates as seconds."""
    kind = column.type
    start = 0
    for chunk in column.chunks:
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            chunk = chunk.cast(pa.timestamp("s"), safe=False).cast(pa.int64())
        elif pa.types.is_temporal(kind):
            chunk = chunk.cast(pa.int64(), safe=False)
        values = chunk.cast(pa.float32(), safe=False).to_numpy(zero_copy_only=False)
        out[start : start + len(chunk)] = values
        start += len(chunk)


def _categories(column: pa.ChunkedArray) -> pd.Categorical:
    if not (pa.types.is_dictionary(column.type) and column.type.value_type == pa.string()):
        column = text_values(column).dictionary_encode()
    categorical: pd.Categorical = column.to_pandas().array
    return categorical
