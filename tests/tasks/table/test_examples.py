"""The offline example tables: written once under the cache, readable, and the kind promised."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_bench.tasks.table.check import MISSING, check_table
from automl_bench.tasks.table.examples import EXAMPLE_TARGETS, EXAMPLES, example_table
from automl_bench.tasks.table.spec import TableSpec


def test_each_example_is_written_once(tmp_path: Path) -> None:
    for name in EXAMPLES:
        path = example_table(name, tmp_path)
        assert path.parent == tmp_path / "tables" and path.suffix == ".csv"
        stamp = path.stat().st_mtime_ns
        assert example_table(name, tmp_path) == path
        assert path.stat().st_mtime_ns == stamp  # not written again
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        f"example-{name}.csv" for name in sorted(EXAMPLES)
    ]


def test_breast_cancer_has_words_a_categorical_column_and_missing_values(tmp_path: Path) -> None:
    path = example_table("breast_cancer", tmp_path)
    facts = check_table(TableSpec(str(path), EXAMPLE_TARGETS["breast_cancer"]))
    assert facts.problem == "classification" and facts.classes == ("benign", "malignant")
    assert facts.categorical == ("texture_level",) and len(facts.numeric) == 29
    assert facts.vocabularies == (("high", "low", "mid", MISSING),)
    assert facts.n_rows == 569
    assert path.read_text().count(",,") > 10  # values removed


def test_diabetes_is_a_regression_table(tmp_path: Path) -> None:
    path = example_table("diabetes", tmp_path)
    facts = check_table(TableSpec(str(path), EXAMPLE_TARGETS["diabetes"]))
    assert (facts.problem, facts.metric, facts.n_rows) == ("regression", "rmse", 442)
    assert len(facts.numeric) == 10


def test_the_same_bytes_every_time_and_no_unknown_example(tmp_path: Path) -> None:
    first = example_table("breast_cancer", tmp_path / "a").read_bytes()
    assert example_table("breast_cancer", tmp_path / "b").read_bytes() == first
    with pytest.raises(ValueError, match="breast_cancer"):
        example_table("iris", tmp_path)
