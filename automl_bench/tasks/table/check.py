"""Every refusal of a table, before anything is written, and the facts the rest is built from.

``check_table`` reads the files once and returns ``TableFacts``: the problem (inferred from the
target unless given), the metric, which columns are numeric and which categorical, each
categorical column's vocabulary and the target's classes. Every problem is a one-line
``ConfigError`` naming the field to change, what was found and what is allowed.

The rules, in one place:

- **Problem.** A text, boolean or dictionary target is classification. An integer target with at
  most ``MAX_INTEGER_CLASSES`` (20) distinct values is classification (labels such as 0/1 or
  1..5); any other number (a float, or an integer with more distinct values) is regression.
  ``problem:`` overrides the inference; regression needs a numeric target.
- **Mixed types.** A text column in which some values are numbers and others are not (``3.5``
  and ``abc`` in one column) is refused, naming the column and an example of each: pyarrow
  reads such a column as text, which would silently turn a numeric feature into categories.
  A text column whose values are all numbers (``"007"`` codes written as text) is categorical.
- **Rows without a target** are dropped; a column (or target) with no value at all is refused.
- Date and time columns are numeric features (seconds since 1970); binary or nested columns are
  refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from automl_bench.errors import ConfigError
from automl_bench.metric import CLASSIFICATION_METRICS, REGRESSION_METRICS
from automl_bench.tasks.table import spec as f
from automl_bench.tasks.table.read import read_table
from automl_bench.tasks.table.spec import CLASSIFICATION, PROBLEMS, REGRESSION, TableSpec

MAX_INTEGER_CLASSES = 20  # an integer target with at most this many values is classification
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_SHOWN = 12  # column names listed in a message before "..."


@dataclass(frozen=True)
class TableFacts:
    """What the checks found: the features' kinds, the problem, the metric and the classes."""

    problem: str
    metric: str
    numeric: tuple[str, ...]  # numeric feature columns, in file order
    categorical: tuple[str, ...]  # text / boolean / dictionary feature columns, in file order
    vocabularies: tuple[tuple[str, ...], ...]  # per categorical column: its values in data, sorted
    classes: tuple[Any, ...]  # the target's raw labels, sorted (classification); () otherwise
    n_rows: int  # rows of data with a target
    n_test_rows: int  # rows of test_data with a target; 0 without test_data

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


def check_table(spec: TableSpec) -> TableFacts:
    """Read ``spec``'s files and check them; a ``ConfigError`` for the first problem found."""
    data, test = read_spec(spec)
    return check_tables(spec, data, test)


def read_spec(spec: TableSpec) -> tuple[pa.Table, pa.Table | None]:
    """``data`` and ``test_data`` (None without one), each without the rows that lack a target."""
    keep = {c for c in (spec.target, spec.group_column, spec.time_column) if c is not None}
    data = read_table(spec.data, f.DATA, keep)
    test = read_table(spec.test_data, f.TEST_DATA, keep) if spec.test_data else None
    _check_names(spec, data)
    data = _with_target(data, spec.target, f.DATA)
    if test is not None:
        _check_same_columns(data, test)
        test = _with_target(test, spec.target, f.TEST_DATA)
    return data, test


def check_tables(spec: TableSpec, data: pa.Table, test: pa.Table | None) -> TableFacts:
    """The facts of tables read by ``read_spec``, or a ``ConfigError``."""
    _check_values(data, f.DATA)
    if test is not None:
        _check_values(test, f.TEST_DATA)
    split_columns = {spec.target, spec.group_column, spec.time_column}
    features = [n for n in data.column_names if n not in split_columns]
    if not features:
        raise ConfigError(f.DATA, f"'{spec.data}' has no feature columns besides the target")
    kinds = {name: _kind(data, name) for name in features}
    if test is not None:
        _check_same_kinds(data, test, features, kinds)
    problem = _problem(spec, data.column(spec.target))
    classes = _classes(spec, data, test) if problem == CLASSIFICATION else ()
    _check_regression_target(spec, problem, data.column(spec.target))
    _check_split_columns(spec, data, test)
    categorical = tuple(n for n in features if kinds[n] == "categorical")
    return TableFacts(
        problem=problem,
        metric=_metric(spec, problem),
        numeric=tuple(n for n in features if kinds[n] == "numeric"),
        categorical=categorical,
        vocabularies=tuple(_vocabulary(data.column(n)) for n in categorical),
        classes=classes,
        n_rows=data.num_rows,
        n_test_rows=0 if test is None else test.num_rows,
    )


def shortened(names: list[str]) -> str:
    """Column names for a message: all of them, or the first few and how many there are."""
    shown = ", ".join(f"'{n}'" for n in names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown}, ... ({len(names)} in all)"


def _separator_hint(names: list[str]) -> str:
    """Where the whole header read as one column holding ';' or tabs: what the file looks like
    (a semicolon-separated export, common where the decimal mark is a comma)."""
    if len(names) != 1:
        return ""
    for separator, shown in ((";", "';'"), ("\t", "tabs")):
        if separator in names[0]:
            return (
                f" (the header reads as one column: the file looks separated by {shown}; a CSV "
                "file here is comma-separated, with '.' as the decimal mark: save it so, or "
                "as Parquet)"
            )
    return ""


def _check_names(spec: TableSpec, data: pa.Table) -> None:
    names = data.column_names
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ConfigError(f.DATA, f"'{spec.data}' has two columns named {shortened(doubled)}")
    for field, column in ((f.TARGET, spec.target), (f.GROUP, spec.group_column)):
        if column is not None and column not in names:
            raise ConfigError(
                field,
                f"no column '{column}' in '{spec.data}'; its columns: {shortened(names)}"
                + _separator_hint(names),
            )
    if spec.time_column is not None and spec.time_column not in names:
        raise ConfigError(
            f.TIME,
            f"no column '{spec.time_column}' in '{spec.data}'; its columns: {shortened(names)}",
        )
    for field, column in ((f.GROUP, spec.group_column), (f.TIME, spec.time_column)):
        if column is not None and column == spec.target:
            raise ConfigError(field, f"'{column}' is the target; name another column")
    if spec.group_column is not None and spec.time_column is not None:
        raise ConfigError(f.TIME, "give a group_column or a time_column, not both")


def _check_same_columns(data: pa.Table, test: pa.Table) -> None:
    if set(data.column_names) == set(test.column_names):
        return
    missing = [n for n in data.column_names if n not in test.column_names]
    extra = [n for n in test.column_names if n not in data.column_names]
    parts = [f"lacks {shortened(missing)}"] if missing else []
    parts += [f"has {shortened(extra)} that data has not"] if extra else []
    raise ConfigError(
        f.TEST_DATA, f"test_data must have the same columns as data; it {' and '.join(parts)}"
    )


def _with_target(table: pa.Table, target: str, field: str) -> pa.Table:
    column = table.column(target)
    if column.null_count == 0:
        return table
    if column.null_count == len(column):
        raise ConfigError(field, f"the target column '{target}' is empty: every value is missing")
    return table.filter(pc.is_valid(column))


def _check_values(table: pa.Table, field: str) -> None:
    if table.num_rows == 0:
        raise ConfigError(field, "the file has no data rows (none with a target), only a header")
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count == len(column) or pa.types.is_null(column.type):
            raise ConfigError(
                field, f"column '{name}' is empty: every value is missing; drop it or fill it"
            )
        if _is_text(column.type):
            _check_not_mixed(name, column, field)


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _distinct_text(column: pa.ChunkedArray) -> pa.Array:
    """The distinct non-missing values of a text (or dictionary of text) column."""
    return _distinct(column).drop_null()


def _distinct(column: pa.ChunkedArray) -> pa.Array:
    """The distinct values of ``column``, decoded (found on a dictionary's codes: no decoding of
    the whole column)."""
    values = pc.unique(column)
    return values.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else values


def _check_not_mixed(name: str, column: pa.ChunkedArray, field: str) -> None:
    values = _distinct_text(column)
    numeric = pc.match_substring_regex(values, _NUMBER)
    n_numeric = pc.sum(numeric).as_py() or 0
    if 0 < n_numeric < len(values):
        number = values.filter(numeric)[0].as_py()
        word = values.filter(pc.invert(numeric))[0].as_py()
        raise ConfigError(
            field,
            f"column '{name}' mixes numbers and text (e.g. {number!r} and {word!r}); make it all "
            "numbers (leave missing values empty) or all words",
        )


def _kind(data: pa.Table, name: str) -> str:
    kind = data.column(name).type
    if _is_text(kind) or pa.types.is_boolean(kind) or pa.types.is_dictionary(kind):
        return "categorical"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "numeric"
    if pa.types.is_temporal(kind):
        return "numeric"
    raise ConfigError(
        f.DATA, f"column '{name}' has the type {kind}; expected numbers, dates or text"
    )


def _check_same_kinds(
    data: pa.Table, test: pa.Table, features: list[str], kinds: dict[str, str]
) -> None:
    for name in features:
        if _kind(test, name) != kinds[name]:
            raise ConfigError(
                f.TEST_DATA,
                f"column '{name}' is {kinds[name]} in data but {_kind(test, name)} in test_data; "
                "give it the same kind of values in both",
            )


def _problem(spec: TableSpec, target: pa.ChunkedArray) -> str:
    if spec.problem is not None:
        if spec.problem not in PROBLEMS:
            raise ConfigError(
                f.PROBLEM,
                f"'{spec.problem}' is not a problem; expected one of {', '.join(PROBLEMS)}",
            )
        return spec.problem
    if pa.types.is_integer(target.type):
        distinct = len(pc.unique(target))
        return CLASSIFICATION if distinct <= MAX_INTEGER_CLASSES else REGRESSION
    if pa.types.is_floating(target.type) or pa.types.is_decimal(target.type):
        return REGRESSION
    return CLASSIFICATION


def _is_number(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    )


def _check_regression_target(spec: TableSpec, problem: str, target: pa.ChunkedArray) -> None:
    if problem != REGRESSION:
        return
    if not _is_number(target.type):
        raise ConfigError(
            f.PROBLEM,
            f"regression needs a numeric target; '{spec.target}' holds {target.type} values "
            "(set problem: classification, or leave it out)",
        )
    if len(pc.unique(target)) < 2:
        raise ConfigError(f.TARGET, f"the target '{spec.target}' has one value; nothing to learn")


def label_values(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A target column as plain values (dictionary decoded), for classes and label codes."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _classes(spec: TableSpec, data: pa.Table, test: pa.Table | None) -> tuple[Any, ...]:
    classes = sorted(pc.unique(label_values(data.column(spec.target))).to_pylist())
    if len(classes) < 2:
        raise ConfigError(
            f.TARGET,
            f"the target '{spec.target}' has one class ({classes[0]!r}); classification needs two "
            "or more",
        )
    if test is not None:
        unseen = set(pc.unique(label_values(test.column(spec.target))).to_pylist()) - set(classes)
        if unseen:
            shown = ", ".join(repr(v) for v in sorted(unseen, key=str)[:5])
            raise ConfigError(
                f.TEST_DATA, f"test_data has target classes that data has not: {shown}"
            )
    return tuple(classes)


def _metric(spec: TableSpec, problem: str) -> str:
    allowed = CLASSIFICATION_METRICS if problem == CLASSIFICATION else REGRESSION_METRICS
    if spec.metric is None:
        return allowed[0]
    if spec.metric in allowed:
        return spec.metric
    other = REGRESSION if problem == CLASSIFICATION else CLASSIFICATION
    known = spec.metric in CLASSIFICATION_METRICS + REGRESSION_METRICS
    what = f"is a {other} metric" if known else "is not a metric"
    raise ConfigError(
        f.METRIC,
        f"'{spec.metric}' {what}; the problem is {problem} (target '{spec.target}'), so the "
        f"metric is one of {', '.join(allowed)}",
    )


def _check_split_columns(spec: TableSpec, data: pa.Table, test: pa.Table | None) -> None:
    sides = 2 if test is not None else 3
    if spec.group_column is not None:
        groups = len(pc.unique(data.column(spec.group_column)))
        if groups < sides:
            raise ConfigError(
                f.GROUP,
                f"'{spec.group_column}' has {groups} group(s); a split by group needs "
                f"at least {sides} (one per side)",
            )
    if spec.time_column is not None:
        column = data.column(spec.time_column)
        if column.null_count:
            raise ConfigError(
                f.TIME,
                f"'{spec.time_column}' has {column.null_count} missing value(s); every "
                "row needs a time",
            )
        times = len(pc.unique(column))
        if times < sides:
            raise ConfigError(
                f.TIME,
                f"'{spec.time_column}' has {times} distinct time(s); a split by time needs at "
                f"least {sides} (train before validation before test)",
            )


def _vocabulary(column: pa.ChunkedArray) -> tuple[str, ...]:
    """A categorical column's values as text, sorted; '(missing)' last where values are missing."""
    distinct = pa.chunked_array([_distinct(column)])
    values = text_values(distinct).drop_null().to_pylist()
    words = tuple(sorted(str(v) for v in values))
    return (*words, MISSING) if column.null_count else words


MISSING = "(missing)"  # what a missing categorical value becomes before one-hot encoding


def text_values(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A categorical column's values as text ('true' / 'false' for booleans)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not _is_text(column.type):
        column = column.cast(pa.string())
    return column
