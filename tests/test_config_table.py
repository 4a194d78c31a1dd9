"""The ``table:`` section of a config: its shape, and what goes with what, refused in one line."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from automl_bench.config import parse_config
from automl_bench.config_table import TableMetric
from automl_bench.errors import ConfigError
from automl_bench.metric import CLASSIFICATION_METRICS, REGRESSION_METRICS


def _config(**table: Any) -> dict[str, Any]:
    return {
        "experiment": "t",
        "task": "table",
        "space": "tabular",
        "methods": ["baseline", "tpe"],
        "seeds": [0],
        "table": {"data": "my.csv", "target": "y", **table},
    }


def _refused(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value


def test_the_metric_choices_are_the_metrics_of_both_problems() -> None:
    assert typing.get_args(TableMetric) == CLASSIFICATION_METRICS + REGRESSION_METRICS


def test_a_table_config_parses_with_its_defaults() -> None:
    config = parse_config(_config())
    assert config.table is not None
    assert config.table.reference_models == ["hist_gradient_boosting", "random_forest", "linear"]
    assert config.table.reference_label() == "hist_gradient_boosting"
    assert config.trials == 20 and config.epochs == 30  # a table's default budget


def test_without_the_boosted_tree_the_baseline_is_the_reference() -> None:
    config = parse_config(_config(reference_models=["linear"]))
    assert config.table is not None and config.table.reference_label() == "baseline"


@pytest.mark.parametrize(
    ("table", "field", "words"),
    [
        ({"problem": "classification", "metric": "rmse"}, "table.metric", "scored by accuracy"),
        ({"problem": "regression", "metric": "roc_auc"}, "table.metric", "scored by rmse"),
        ({"metric": "f1"}, "table.metric", "Input should be"),
        ({"problem": "ranking"}, "table.problem", "Input should be"),
        ({"reference_models": ["xgboost"]}, "table.reference_models.0", "Input should be"),
        ({"reference_models": ["linear", "linear"]}, "table.reference_models", "twice"),
        ({"reference": "random"}, "table.reference", "must be one of the rows"),
        ({"data": "example:iris"}, "table.data", "example:breast_cancer"),
        ({"bogus": 1}, "table.bogus", "unknown field"),
        ({"split": {"group": "id"}}, "table.split.group", "unknown field"),
    ],
)
def test_a_bad_table_section_is_refused_naming_its_field(
    table: dict[str, Any], field: str, words: str
) -> None:
    error = _refused(_config(**table))
    assert error.field == field and words in error.message
    assert "\n" not in str(error)


def test_a_table_section_goes_with_task_table_only() -> None:
    raw = _config()
    raw["task"] = "wine"
    assert _refused(raw).field == "table"
    del raw["table"]
    raw["task"] = "table"
    error = _refused(raw)
    assert error.field == "table" and "needs a table: section" in error.message


def test_the_reference_may_be_a_method_or_a_reference_model() -> None:
    for reference in ("tpe", "baseline", "linear"):
        config = parse_config(_config(reference=reference))
        assert config.table is not None and config.table.reference_label() == reference
