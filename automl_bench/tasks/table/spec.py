"""What a ``task: table`` is, as plain values: the files, the target and the split's columns.

``TableSpec`` is what the driver hands to workers (picklable, hashable: ``open_table`` caches on
it), and what the cache key of a table's splits is made from. The config's field names are here
too, so that every refusal names the field the user has to change.
"""

from __future__ import annotations

from dataclasses import dataclass

# the config's field names, as errors name them
DATA = "table.data"
TARGET = "table.target"
TEST_DATA = "table.test_data"
PROBLEM = "table.problem"
METRIC = "table.metric"
GROUP = "table.split.group_column"
TIME = "table.split.time_column"

CLASSIFICATION = "classification"
REGRESSION = "regression"
PROBLEMS = (CLASSIFICATION, REGRESSION)


@dataclass(frozen=True)
class TableSpec:
    """A user's table: ``data`` (an absolute path to a CSV or Parquet file) and its ``target``.

    ``test_data``: a second file that is the test split (train and validation are drawn from
    ``data`` by the seed). ``problem`` and ``metric``: None means inferred from the target and
    the problem's default. ``group_column``: no group on both sides of a split; ``time_column``:
    train before validation before test. Neither is a feature.
    """

    data: str
    target: str
    test_data: str | None = None
    problem: str | None = None
    metric: str | None = None
    group_column: str | None = None
    time_column: str | None = None
