"""The driver's side of ``task: table``: the config's ``table:`` section made into what a run
needs, checked before anything starts.

The file (or the shipped example, written under ``<output_dir>/cache`` on first use) is read
and checked (``automl_bench.tasks.table.check``), its problem and metric settled, and each reference
model's space file loaded: the scikit-learn estimators a practitioner ships without search
(``automl_bench.reference_models``), run as studies of their own next to the searched net.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from automl_bench.errors import ConfigError
from automl_bench.locate import resolve_path
from automl_bench.metric import KNOWN, Metric
from automl_bench.space import SearchSpace, load_search_space
from automl_bench.study import StudySpec

if TYPE_CHECKING:
    from automl_bench.config import ExperimentConfig
    from automl_bench.tasks.table.check import TableFacts
    from automl_bench.tasks.table.spec import TableSpec

TUNED_SUFFIX = ":tuned"  # a reference model's TPE search: "hist_gradient_boosting:tuned"
TUNED_METHOD = "tpe"


@dataclass(frozen=True)
class PreparedTable:
    """A checked table: how to read it, what scores it, and its reference models' spaces."""

    spec: TableSpec
    metric: Metric
    estimators: dict[str, SearchSpace]  # reference model name -> its space
    tuned: bool
    reference: str  # the row every other is compared with
    example: str | None = None  # a shipped example's name, until write_example puts it on disk


def prepare_table(config: ExperimentConfig, config_path: Path) -> PreparedTable:
    """Resolve and check the table the config names; raises ConfigError naming the field.

    A shipped example is made in a temporary folder and checked there; ``write_example``
    writes it under ``<output_dir>/cache`` once the whole config has passed (bad input writes
    nothing)."""
    from automl_bench.reference_models import REFERENCE_MODELS

    section = config.table
    assert section is not None  # parse_config refuses task: table without one
    spec = _spec(config, config_path)
    example = section.example()
    if example is None:
        facts = _checked(spec)
    else:
        from automl_bench.tasks.table.examples import example_table

        with tempfile.TemporaryDirectory() as staging:
            staged = example_table(example, Path(staging))
            try:
                facts = _checked(replace(spec, data=str(staged)))
            except ConfigError as exc:  # named as the config names it, not by its staging path
                raise ConfigError(exc.field, exc.message.replace(str(staged), spec.data)) from None
    spec = replace(spec, problem=facts.problem, metric=facts.metric)
    estimators: dict[str, SearchSpace] = {
        name: load_search_space(REFERENCE_MODELS[name], "table.reference_models")
        for name in section.reference_models
    }
    return PreparedTable(
        spec, KNOWN[facts.metric], estimators, section.tuned, section.reference_label(), example
    )


def write_example(table: PreparedTable, output_dir: str) -> PreparedTable:
    """``table`` with its shipped example (if it is one) written under ``<output_dir>/cache``
    and named by that path; the last step of preparing a config, after every check passed."""
    if table.example is None:
        return table
    from automl_bench.tasks.table.examples import example_table

    written = example_table(table.example, Path(output_dir).resolve() / "cache")
    return replace(table, spec=replace(table.spec, data=str(written)), example=None)


def _spec(config: ExperimentConfig, config_path: Path) -> TableSpec:
    """The section's fields, with the user's files resolved (an example's path comes later)."""
    from automl_bench.tasks.table.spec import TableSpec

    section = config.table
    assert section is not None
    data = section.data
    if section.example() is None:
        data = str(resolve_path(section.data, config_path, "table.data"))
    test_data = section.test_data
    if test_data is not None:
        test_data = str(resolve_path(test_data, config_path, "table.test_data"))
    return TableSpec(
        data=data,
        target=section.target,
        test_data=test_data,
        problem=section.problem,
        metric=section.metric,
        group_column=section.split.group_column,
        time_column=section.split.time_column,
    )


def _checked(spec: TableSpec) -> TableFacts:
    from automl_bench.tasks.table.check import check_table

    return check_table(spec)


def check_names(table: PreparedTable, spaces: dict[str, SearchSpace]) -> None:
    """A reference model's name must not be a searched space's name (rows are named by both)."""
    for name in table.estimators:
        if name in spaces:
            raise ConfigError(
                "table.reference_models",
                f"{name!r} is also the name of a space file; rename the space file",
            )


def reference_model_studies(table: PreparedTable, seed: int, trials: int) -> list[StudySpec]:
    """Each reference model at ``seed``: scikit-learn's defaults (a study of method baseline on
    its space, labelled by its name), and with ``tuned`` a TPE search over its settings."""
    studies = []
    for name in table.estimators:
        studies.append(StudySpec("baseline", seed, name, 0, label=name))
        if table.tuned:
            studies.append(StudySpec(TUNED_METHOD, seed, name, trials, label=name + TUNED_SUFFIX))
    return studies
