"""docs/configuration.md is what the config models render now: a changed field, default, bound
or description without the file regenerated fails here, with the command that regenerates it."""

from __future__ import annotations

from pathlib import Path

from repo_paths import REPO

from automl_bench.config import ExperimentConfig
from automl_bench.config_reference import COMMAND, main, render, section_models

REFERENCE = REPO / "docs" / "configuration.md"


def test_the_reference_in_docs_is_up_to_date() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), f"stale: run `{COMMAND}`"


def test_every_field_of_every_section_has_a_row_with_its_description() -> None:
    text = render()
    for path, model in section_models():
        assert f"## `{path}`" in text or not path
        for name, field in model.model_fields.items():
            assert field.description, f"{path}.{name} has no description"
            assert f"| `{name}` |" in text


def test_a_nested_section_is_linked_from_its_parent_row() -> None:
    text = render()
    assert "| `constraints` | [deploy constraints](#deployconstraints) |" in text
    assert "list of integers or [seed plan](#seeds)" in text
    assert "| `rope_points` | number | `1` | >= 0 |" in text
    assert "| `experiment` | string | required |" in text


def test_a_changed_default_shows_in_the_rendering() -> None:
    field = ExperimentConfig.model_fields["output_dir"]
    before = render()
    original = field.default
    try:
        field.default = "elsewhere"
        assert render() != before and "`elsewhere`" in render()
    finally:
        field.default = original


def test_the_entry_point_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "configuration.md"
    assert main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render()
