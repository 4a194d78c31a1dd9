"""Every refusal of a table is one line on the right field; the problem and metric rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_bench.errors import ConfigError
from automl_bench.tasks.table.check import MAX_INTEGER_CLASSES, MISSING, check_table
from automl_bench.tasks.table.spec import TableSpec


def csv(tmp_path: Path, text: str, name: str = "t.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def refused(spec: TableSpec, field: str, *words: str) -> str:
    with pytest.raises(ConfigError) as err:
        check_table(spec)
    message = str(err.value)
    assert err.value.field == field, message
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message, message
    return message


GOOD = "x,size,y\n" + "".join(
    f"{i / 2},{'s' if i % 3 else 'l'},{'a' if i % 2 else 'b'}\n" for i in range(20)
)


def test_the_facts_of_a_good_table(tmp_path: Path) -> None:
    facts = check_table(TableSpec(csv(tmp_path, GOOD), "y"))
    assert (facts.problem, facts.metric) == ("classification", "accuracy")
    assert facts.numeric == ("x",) and facts.categorical == ("size",)
    assert facts.vocabularies == (("l", "s"),)
    assert facts.classes == ("a", "b") and facts.n_rows == 20 and facts.n_test_rows == 0


def test_an_unknown_target_is_refused_naming_the_columns(tmp_path: Path) -> None:
    refused(TableSpec(csv(tmp_path, GOOD), "label"), "table.target", "'label'", "'x'", "'size'")
    wide = ",".join(f"c{i}" for i in range(40)) + "\n" + ",".join("1" * 40) + "\n"
    message = refused(TableSpec(csv(tmp_path, wide, "w.csv"), "label"), "table.target")
    assert "(40 in all)" in message and "'c39'" not in message


def test_a_target_with_one_class_is_refused(tmp_path: Path) -> None:
    text = "x,y\n1,a\n2,a\n3,a\n"
    refused(TableSpec(csv(tmp_path, text), "y"), "table.target", "one class", "'a'")


def test_a_constant_regression_target_is_refused(tmp_path: Path) -> None:
    text = "x,y\n1,2.5\n2,2.5\n3,2.5\n"
    refused(TableSpec(csv(tmp_path, text), "y"), "table.target", "one value")


def test_an_empty_column_is_refused_naming_it(tmp_path: Path) -> None:
    text = "x,empty,y\n1,,a\n2,,b\n3,,a\n"
    refused(TableSpec(csv(tmp_path, text), "y"), "table.data", "'empty'", "every value is missing")


def test_an_entirely_missing_target_is_refused(tmp_path: Path) -> None:
    text = "x,y\n1,\n2,\n"
    refused(TableSpec(csv(tmp_path, text), "y"), "table.data", "'y'", "missing")


def test_rows_without_a_target_are_dropped(tmp_path: Path) -> None:
    text = "x,y\n1,a\n2,\n3,b\n4,a\n"
    assert check_table(TableSpec(csv(tmp_path, text), "y")).n_rows == 3


def test_a_column_of_numbers_and_words_is_refused_with_an_example_of_each(tmp_path: Path) -> None:
    text = "x,y\n1.5,a\n2,b\nabc,a\n"
    refused(TableSpec(csv(tmp_path, text), "y"), "table.data", "'x'", "mixes", "'abc'", "'1.5'")


def test_a_text_column_of_number_codes_only_is_categorical(tmp_path: Path) -> None:
    text = 'code,y\n"007",a\n"012",b\n"007",b\n'
    pq_path = tmp_path / "codes.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"code": ["007", "012", "007"], "y": ["a", "b", "b"]}), pq_path)
    assert check_table(TableSpec(str(pq_path), "y")).categorical == ("code",)
    assert check_table(TableSpec(csv(tmp_path, text), "y")).numeric == ("code",)  # CSV: numbers


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (["yes", "no", "yes", "no"], "classification"),  # words
        (["true", "false", "true", "false"], "classification"),  # booleans
        (["0", "1", "1", "0"], "classification"),  # few integers
        ([str(i) for i in range(MAX_INTEGER_CLASSES + 1)], "regression"),  # many integers
        (["0.5", "1.5", "0.5", "2.0"], "regression"),  # floats
    ],
)
def test_the_problem_is_inferred_from_the_target(
    tmp_path: Path, values: list[str], problem: str
) -> None:
    text = "x,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values))
    facts = check_table(TableSpec(csv(tmp_path, text), "y"))
    assert facts.problem == problem
    assert facts.metric == ("accuracy" if problem == "classification" else "rmse")


def test_problem_overrides_the_inference(tmp_path: Path) -> None:
    path = csv(tmp_path, "x,y\n1,0\n2,1\n3,2\n4,1\n")
    assert check_table(TableSpec(path, "y", problem="regression")).problem == "regression"
    floats = csv(tmp_path, "x,y\n1,0.5\n2,1.5\n3,0.5\n", "f.csv")
    facts = check_table(TableSpec(floats, "y", problem="classification"))
    assert facts.classes == (0.5, 1.5)


def test_regression_on_a_text_target_and_an_unknown_problem_are_refused(tmp_path: Path) -> None:
    path = csv(tmp_path, GOOD)
    refused(TableSpec(path, "y", problem="regression"), "table.problem", "numeric target")
    refused(TableSpec(path, "y", problem="ranking"), "table.problem", "'ranking'", "regression")


def test_metrics_must_fit_the_problem(tmp_path: Path) -> None:
    path = csv(tmp_path, GOOD)
    refused(TableSpec(path, "y", metric="rmse"), "table.metric", "regression metric", "accuracy")
    refused(TableSpec(path, "y", metric="f1"), "table.metric", "not a metric", "roc_auc")
    assert check_table(TableSpec(path, "y", metric="roc_auc")).metric == "roc_auc"
    numbers = csv(tmp_path, "x,y\n1,0.5\n2,1.5\n3,2.5\n", "r.csv")
    refused(TableSpec(numbers, "y", metric="accuracy"), "table.metric", "classification metric")
    assert check_table(TableSpec(numbers, "y", metric="mae")).metric == "mae"


def test_split_columns_must_exist_and_are_not_features(tmp_path: Path) -> None:
    text = "x,g,t,y\n" + "".join(f"{i},{i % 4},{i},{i % 2}\n" for i in range(12))
    path = csv(tmp_path, text)
    refused(TableSpec(path, "y", group_column="grp"), "table.split.group_column", "'grp'", "'g'")
    refused(TableSpec(path, "y", time_column="when"), "table.split.time_column", "'when'")
    assert check_table(TableSpec(path, "y", group_column="g")).numeric == ("x", "t")
    assert check_table(TableSpec(path, "y", time_column="t")).numeric == ("x", "g")
    refused(TableSpec(path, "y", group_column="y"), "table.split.group_column", "target")


def test_too_few_groups_and_missing_times_are_refused(tmp_path: Path) -> None:
    path = csv(tmp_path, "x,g,t,y\n1,a,1,0\n2,a,,1\n3,b,3,0\n4,b,4,1\n")
    refused(TableSpec(path, "y", group_column="g"), "table.split.group_column", "2 group")
    refused(TableSpec(path, "y", time_column="t"), "table.split.time_column", "missing")
    same = csv(tmp_path, "x,t,y\n1,5,0\n2,5,1\n3,5,0\n4,5,1\n", "same.csv")
    refused(TableSpec(same, "y", time_column="t"), "table.split.time_column", "1 distinct")


def test_test_data_must_have_the_same_columns_and_known_classes(tmp_path: Path) -> None:
    data = csv(tmp_path, GOOD)
    other = csv(tmp_path, "x,colour,y\n1,red,a\n", "other.csv")
    refused(TableSpec(data, "y", test_data=other), "table.test_data", "'size'", "'colour'")
    unseen = csv(tmp_path, "x,size,y\n1,s,c\n", "unseen.csv")
    refused(TableSpec(data, "y", test_data=unseen), "table.test_data", "'c'")
    kinds = csv(tmp_path, "x,size,y\n1,2,a\n", "kinds.csv")
    refused(TableSpec(data, "y", test_data=kinds), "table.test_data", "'size'")
    good = csv(tmp_path, "x,size,y\n1,s,a\n2,,b\n", "good.csv")
    assert check_table(TableSpec(data, "y", test_data=good)).n_test_rows == 2
    refused(TableSpec(data, "y", test_data=str(tmp_path / "nope.csv")), "table.test_data")


def test_missing_categorical_values_are_a_word_of_the_vocabulary(tmp_path: Path) -> None:
    path = csv(tmp_path, "x,size,y\n1,s,a\n2,,b\n3,l,a\n")
    assert check_table(TableSpec(path, "y")).vocabularies == (("l", "s", MISSING),)


def test_a_table_with_only_a_target_is_refused(tmp_path: Path) -> None:
    refused(TableSpec(csv(tmp_path, "y\na\nb\n"), "y"), "table.data", "no feature columns")


def test_words_far_down_a_column_of_numbers_are_mixed_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl_bench.tasks.table import read

    monkeypatch.setattr(read, "BLOCK_SIZE", 1 << 10)  # the word is blocks after the first
    text = "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(2000)) + "n/a?,1\n"
    refused(TableSpec(csv(tmp_path, text), "y"), "table.data", "'x'", "mixes", "'n/a?'")
