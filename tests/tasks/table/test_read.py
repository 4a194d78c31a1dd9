"""Reading a table file: CSV or Parquet by extension, every failure one line naming the problem."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from automl_bench.errors import ConfigError
from automl_bench.tasks.table import read
from automl_bench.tasks.table.read import read_table

FIELD = "table.data"


def refused(path: Path, *words: str, field: str = FIELD) -> str:
    with pytest.raises(ConfigError) as err:
        read_table(path, field)
    message = str(err.value)
    assert err.value.field == field
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message, message
    return message


def test_a_csv_is_read_with_numbers_as_float32_and_words_as_dictionaries(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("x,n,word,y\n1.5,1,a,0\n,2,,1\n3.5,3,b,1\n")
    table = read_table(path, FIELD, keep={"y"})
    assert table.column("x").type == pa.float32()
    assert table.column("n").type == pa.float32()
    assert table.column("y").type == pa.int64()  # kept: a target keeps its own type
    assert pa.types.is_dictionary(table.column("word").type)
    assert table.column("word").null_count == 1  # an empty field is missing, not ""
    assert table.column("x").null_count == 1


def test_a_tsv_and_a_parquet_file_are_read(tmp_path: Path) -> None:
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tb\n1\tx\n2\ty\n")
    assert read_table(tsv, FIELD).column_names == ["a", "b"]
    parquet = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0], "b": ["x", "y"]}), parquet)
    table = read_table(parquet, FIELD, keep=())
    assert table.column("a").type == pa.float32() and table.num_rows == 2


def test_a_column_whose_type_changes_after_the_first_block_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "BLOCK_SIZE", 1 << 10)  # many blocks in a small file
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "".join(f"{i},w\n" for i in range(2000)) + "2.5,w\n")
    table = read_table(path, FIELD)
    assert table.num_rows == 2001 and table.column("a").type == pa.float32()
    assert table.column("a")[-1].as_py() == 2.5


def test_a_missing_file_a_folder_and_an_unknown_extension_are_refused(tmp_path: Path) -> None:
    refused(tmp_path / "nope.csv", "does not exist", "CSV", "Parquet")
    refused(tmp_path, "is a folder")
    other = tmp_path / "t.xlsx"
    other.write_text("a\n1\n")
    refused(other, "'.xlsx'", ".csv", ".parquet")


def test_ragged_rows_are_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n")
    refused(path, "ragged", "line 3", "2 fields", "header has 3")


def test_a_non_utf8_file_is_refused(tmp_path: Path) -> None:
    value = tmp_path / "value.csv"
    value.write_bytes("a,b\n1,caf\xe9\n".encode("latin-1"))
    refused(value, "not UTF-8", "'b'")
    header = tmp_path / "header.csv"
    header.write_bytes("a,caf\xe9\n1,2\n".encode("latin-1"))
    refused(header, "not UTF-8", "header")


def test_a_parquet_file_that_is_not_one_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "t.parquet"
    fake.write_text("a,b\n1,2\n")
    refused(fake, "not a readable Parquet file")
    empty = tmp_path / "e.pq"
    empty.write_bytes(b"")
    refused(empty, "not a readable Parquet file")


def test_an_empty_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("")
    refused(path, "is empty")


def test_the_field_is_the_one_given(tmp_path: Path) -> None:
    refused(tmp_path / "nope.csv", "does not exist", field="table.test_data")


def test_a_parquet_column_of_bytes_or_a_name_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.parquet"
    values = pa.array([b"\xff", b"a", b"\xff"]).dictionary_encode()
    pq.write_table(pa.table({"x": [1, 2, 3], "raw": values}), path)
    refused(path, "'raw'", "bytes")
    good = tmp_path / "g.parquet"
    pq.write_table(pa.table({"amount": [1, 2]}), good, store_schema=False)
    named = tmp_path / "n.parquet"
    named.write_bytes(good.read_bytes().replace(b"amount", b"amoun\xdd"))
    refused(named, "column name", "not UTF-8")
