"""Reading a table file with pyarrow, every failure a one-line ``ConfigError``.

CSV (``.csv``; ``.tsv`` tab-separated) or Parquet (``.parquet``,
``.pq``), decided by the extension. A CSV file is read one block at a time, each block's numbers
narrowed to float32 as it comes, and text columns are kept dictionary-encoded (one copy of each
distinct word): that is what makes loading a large file fast and small
(``benchmarks/table_load.py``). pyarrow's own errors never reach the user: each is
mapped to a line that says what is wrong with the file and what is allowed.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Collection
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

from automl_bench.errors import ConfigError

CSV_SUFFIXES = (".csv", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
ALLOWED = "a CSV (.csv, or .tsv tab-separated) or Parquet (.parquet, .pq) file"
BLOCK_SIZE = 1 << 20  # read and narrowed 1 MiB at a time (pyarrow's default block)
Tabular = TypeVar("Tabular", pa.Table, pa.RecordBatch)


def read_table(path: str | Path, field: str, keep: Collection[str] = ()) -> pa.Table:
    """The table in ``path``; a missing, unreadable or malformed file is a ``ConfigError``.

    Numeric columns are read as float32 (what the transform makes of them anyway, in half the
    memory), except those named in ``keep`` (the target, group and time columns), which keep
    their own type.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ConfigError(field, f"'{path}' {what}; expected {ALLOWED}")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        table = narrowed(_checked_parquet(_read_parquet(path, field), path, field), keep)
    elif suffix in CSV_SUFFIXES:
        table = _read_csv(path, field, "\t" if suffix == ".tsv" else ",", frozenset(keep))
    else:
        raise ConfigError(field, f"'{path}' has the extension '{path.suffix}'; expected {ALLOWED}")
    if table.num_columns == 0:
        raise ConfigError(field, f"'{path}' has no columns; expected a header row of names")
    return table


def narrowed(table: Tabular, keep: Collection[str]) -> Tabular:
    """``table`` with its numeric columns as float32, but for those in ``keep``."""
    columns = [
        column.cast(pa.float32())
        if name not in keep
        and (pa.types.is_integer(column.type) or pa.types.is_floating(column.type))
        else column
        for name, column in zip(table.column_names, table.columns, strict=True)
    ]
    return type(table).from_arrays(columns, names=table.column_names)


def _read_parquet(path: Path, field: str) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(
            field, f"'{path}' is not a readable Parquet file ({first}); expected {ALLOWED}"
        ) from None


def _checked_parquet(table: pa.Table, path: Path, field: str) -> pa.Table:
    """``table``, unless a column's name is not UTF-8 or its values are bytes, not text."""
    try:
        names = table.column_names
    except UnicodeDecodeError:
        raise ConfigError(field, f"'{path}' has a column name that is not UTF-8 text") from None
    for name in _binary_columns(table, names):
        raise ConfigError(
            field, f"column '{name}' of '{path}' holds bytes (binary), not numbers or text"
        )
    return table


def _binary_columns(table: pa.Table, names: list[str]) -> list[str]:
    """The columns whose values (or dictionary values) are bytes."""
    binary = []
    for name, column in zip(names, table.columns, strict=True):
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            binary.append(name)
    return binary


def _read_csv(path: Path, field: str, delimiter: str, keep: frozenset[str]) -> pa.Table:
    """Block by block, each narrowed as it comes (a small peak); where a column's type changes
    after the first block (an integer column with a decimal further down, say), the whole file
    is read again with the type inferred from all of it."""
    try:
        try:
            table = _stream_csv(path, delimiter, keep)
        except pa.ArrowInvalid as error:
            if "conversion error" not in str(error):
                raise
            table = narrowed(_whole_csv(path, delimiter), keep)
    except UnicodeDecodeError:
        raise _not_utf8(path, field, "its header") from None
    except (pa.ArrowException, OSError, ValueError) as error:
        raise _csv_error(path, field, str(error), delimiter) from None
    for name in _binary_columns(table, table.column_names):
        raise _not_utf8(path, field, f"column '{name}'")
    return table


def _options(delimiter: str, types: dict[str, pa.DataType] | None = None) -> dict[str, Any]:
    import pyarrow.csv as pcsv

    return {
        "read_options": pcsv.ReadOptions(block_size=BLOCK_SIZE),
        "parse_options": pcsv.ParseOptions(delimiter=delimiter),
        "convert_options": pcsv.ConvertOptions(
            column_types=types or {},
            strings_can_be_null=True,
            auto_dict_encode=True,
            auto_dict_max_cardinality=1 << 20,
        ),
    }


def _stream_csv(path: Path, delimiter: str, keep: frozenset[str]) -> pa.Table:
    """The file a block at a time, its numeric columns parsed straight into float32 (the types
    inferred from the first block: a later value that does not fit is a conversion error)."""
    import pyarrow.csv as pcsv

    with pcsv.open_csv(path, **_options(delimiter)) as first:
        inferred = first.schema
    types = {
        f.name: pa.float32()
        for f in inferred
        if f.name not in keep and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
    }
    with pcsv.open_csv(path, **_options(delimiter, types)) as reader:
        batches = [narrowed(batch, keep) for batch in reader]
        schema = narrowed(reader.schema.empty_table(), keep).schema
    return pa.Table.from_batches(batches, schema=schema)


def _whole_csv(path: Path, delimiter: str) -> pa.Table:
    import pyarrow.csv as pcsv

    return pcsv.read_csv(path, **_options(delimiter))


def _not_utf8(path: Path, field: str, where: str) -> ConfigError:
    return ConfigError(
        field, f"'{path}' is not UTF-8 text ({where} has other bytes); save it as UTF-8"
    )


def _csv_error(path: Path, field: str, message: str, delimiter: str) -> ConfigError:
    first = message.splitlines()[0] if message else "unreadable"
    if "Empty CSV file" in first:
        return ConfigError(field, f"'{path}' is empty; expected a header row, then data rows")
    if "Expected" in first and "columns, got" in first:
        return ConfigError(field, f"'{path}' has ragged rows: {_ragged_row(path, delimiter)}")
    if "UTF8" in first or "UTF-8" in first:
        return _not_utf8(path, field, "a value")
    return ConfigError(field, f"'{path}' could not be read as CSV ({first}); expected {ALLOWED}")


def _ragged_row(path: Path, delimiter: str) -> str:
    """Which line first has a different number of fields from the header (read only on error)."""
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, [])
        for row in itertools.islice(reader, 10_000_000):
            if row and len(row) != len(header):
                return (
                    f"line {reader.line_num} has {len(row)} fields, the header has "
                    f"{len(header)}; every row needs one value per column"
                )
    return "a row's number of fields differs from the header's; every row needs one per column"
