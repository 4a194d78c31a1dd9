"""``automl-bench init DIR``: a starter space and config, refused over existing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_bench.cli import EXIT_BAD_INPUT, main
from automl_bench.locate import shipped_folder
from automl_bench.starter import CONFIG_FILE, SPACE_FILE, experiment_name, write_starter


def test_init_writes_a_space_and_a_config_that_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "my_exp"]) == 0
    assert sorted(p.name for p in (tmp_path / "my_exp").iterdir()) == [CONFIG_FILE, SPACE_FILE]
    said = capsys.readouterr().out
    assert f"automl-bench run {Path('my_exp') / CONFIG_FILE}" in said
    config = (tmp_path / "my_exp" / CONFIG_FILE).read_text()
    assert "experiment: my_exp\n" in config and f"space: {SPACE_FILE} " in config
    space = (tmp_path / "my_exp" / SPACE_FILE).read_text()
    assert space.endswith((shipped_folder("search_spaces") / "mlp.py").read_text())
    monkeypatch.chdir(tmp_path / "my_exp")  # validated from its own folder, and from elsewhere
    assert main(["validate", CONFIG_FILE]) == 0
    monkeypatch.chdir(tmp_path.parent)
    assert main(["validate", str(tmp_path / "my_exp" / CONFIG_FILE)]) == 0
    assert capsys.readouterr().out.count(": valid; 6 studies") == 2


@pytest.mark.parametrize("present", [[SPACE_FILE], [CONFIG_FILE], [SPACE_FILE, CONFIG_FILE]])
def test_init_refuses_a_folder_holding_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], present: list[str]
) -> None:
    for name in present:
        (tmp_path / name).write_text("mine\n")
    assert main(["init", str(tmp_path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("automl-bench: error: DIR: ")
    assert " and ".join(present) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(present)  # nothing written
    assert all((tmp_path / name).read_text() == "mine\n" for name in present)


def test_init_refuses_a_file_for_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "taken"
    target.write_text("")
    assert main(["init", str(target)]) == EXIT_BAD_INPUT
    assert "is a file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_init_writes_into_an_existing_folder_beside_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("")
    starter = write_starter(tmp_path)
    assert starter.space.is_file() and starter.config.is_file()
    assert (tmp_path / "notes.txt").exists()


def test_the_experiment_is_named_after_the_folder_where_it_can_be() -> None:
    assert experiment_name(Path("/somewhere/digits-v2")) == "digits-v2"
    assert experiment_name(Path("/somewhere/my experiment")) == "my_experiment"
    assert experiment_name(Path("/somewhere/_hidden")) == "my_experiment"
