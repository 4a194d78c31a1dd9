"""``task: table``: a user's CSV or Parquet file as a task (the data side).

``read`` reads a file with pyarrow, ``check`` refuses bad input and finds the facts (problem,
metric, column kinds, classes), ``split`` draws each seed's rows, ``transform`` is the one
preprocessing every method shares, ``task`` ties them into a cached ``TableTask``, and
``examples`` writes the two offline example tables.
"""

from __future__ import annotations

from automl_bench.tasks.table.check import TableFacts, check_table
from automl_bench.tasks.table.examples import EXAMPLE_TARGETS, EXAMPLES, example_table
from automl_bench.tasks.table.read import read_table
from automl_bench.tasks.table.spec import TableSpec
from automl_bench.tasks.table.task import TableTask, open_table
from automl_bench.tasks.table.transform import CARDINALITY_LIMIT

__all__ = [
    "CARDINALITY_LIMIT",
    "EXAMPLES",
    "EXAMPLE_TARGETS",
    "TableFacts",
    "TableSpec",
    "TableTask",
    "check_table",
    "example_table",
    "open_table",
    "read_table",
]
