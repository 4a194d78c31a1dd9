"""The ``table:`` section of a config: a user's own CSV or Parquet file (``task: table``).

Only the fields' shapes are checked here; the file itself (its columns, the target, the problem
it poses) is checked by ``automl_bench.tasks.table.check`` when the experiment is prepared, before
anything starts.
"""

from __future__ import annotations

import typing
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from automl_bench.errors import ConfigError
from automl_bench.metric import CLASSIFICATION_METRICS, REGRESSION_METRICS

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

# what a practitioner ships without search; scikit-learn's defaults (automl_bench.reference_models)
ReferenceModel = Literal["hist_gradient_boosting", "random_forest", "linear"]
TableMetric = Literal[
    "accuracy", "balanced_accuracy", "roc_auc", "log_loss", "rmse", "mae", "r2"
]  # automl_bench.metric's CLASSIFICATION_METRICS + REGRESSION_METRICS (a test holds them equal)
EXAMPLE_PREFIX = "example:"  # ``data: example:breast_cancer``: a table made from scikit-learn's
EXAMPLES = ("breast_cancer", "diabetes")


class TableSplit(BaseModel):
    """How the table is split, beyond the seed's draw."""

    model_config = _STRICT
    group_column: str | None = Field(
        default=None, description="No value of this column on both sides of a split."
    )
    time_column: str | None = Field(
        default=None, description="Train before validation before test, by this column."
    )


class TableSection(BaseModel):
    """``task: table``: the file, its target, how it is scored, and the reference models."""

    model_config = _STRICT
    data: str = Field(
        description="A CSV or Parquet file; or example:breast_cancer / example:diabetes."
    )
    target: str = Field(description="The column to predict.")
    test_data: str | None = Field(
        default=None, description="A file holding the test rows; null: drawn from data by seed."
    )
    problem: Literal["classification", "regression"] | None = Field(
        default=None, description="null: inferred from the target column."
    )
    metric: TableMetric | None = Field(
        default=None,
        description="Classification: the first four; regression: rmse, mae, r2. null: accuracy "
        "or rmse.",
    )
    split: TableSplit = Field(default_factory=TableSplit, description="Group and time splits.")
    reference_models: list[ReferenceModel] = Field(
        default_factory=lambda: list(typing.get_args(ReferenceModel)),
        description="Models a practitioner ships without search, each a row.",
    )
    tuned: bool = Field(
        default=False, description="Also a TPE search over each reference model's settings."
    )
    reference: str | None = Field(
        default=None,
        description="What every row is compared with; null: hist_gradient_boosting if listed, "
        "else baseline.",
    )

    def reference_label(self) -> str:
        """The row every other is compared with: the boosted tree a practitioner ships, where it
        is listed, unless the config names another."""
        if self.reference is not None:
            return self.reference
        return (
            "hist_gradient_boosting"
            if "hist_gradient_boosting" in self.reference_models
            else "baseline"
        )

    def example(self) -> str | None:
        """The example's name when ``data`` names one (``example:diabetes``), else None."""
        if not self.data.startswith(EXAMPLE_PREFIX):
            return None
        return self.data.removeprefix(EXAMPLE_PREFIX)


def check_section(task: str, section: TableSection | None, methods: list[str]) -> None:
    """A ``table:`` section goes with ``task: table`` and only with it; its metric fits its
    problem; an example is one we ship. Raises ConfigError naming the field."""
    if task != "table":
        if section is not None:
            raise ConfigError("table", f"only task 'table' reads a table; task {task!r} does not")
        return
    if section is None:
        raise ConfigError("table", "task 'table' needs a table: section with data and target")
    allowed = {
        "classification": CLASSIFICATION_METRICS,
        "regression": REGRESSION_METRICS,
        None: CLASSIFICATION_METRICS + REGRESSION_METRICS,
    }[section.problem]
    if section.metric is not None and section.metric not in allowed:
        problem = f"a {section.problem} problem" if section.problem else "a table"
        raise ConfigError(
            "table.metric", f"{problem} is scored by {', '.join(allowed)}; got {section.metric!r}"
        )
    if len(set(section.reference_models)) != len(section.reference_models):
        raise ConfigError(
            "table.reference_models", f"a model named twice in {section.reference_models}"
        )
    rows = [*methods, *section.reference_models]
    if section.reference is not None and section.reference not in rows:
        raise ConfigError(
            "table.reference",
            f"must be one of the rows: a method or a reference model ({', '.join(rows)}); "
            f"got {section.reference!r}",
        )
    name = section.example()
    if name is not None and name not in EXAMPLES:
        raise ConfigError(
            "table.data",
            f"the examples are {', '.join(EXAMPLE_PREFIX + e for e in EXAMPLES)}; "
            f"got {section.data!r}",
        )
