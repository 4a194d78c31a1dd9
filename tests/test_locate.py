"""Files a config names: the user's path first, then the copy shipped in the package."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_paths import REPO

from automl_bench.errors import ConfigError
from automl_bench.locate import builtin_names, find_config, resolve_path, shipped_folder


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file in a folder outside the project, which is also the working directory."""
    folder = tmp_path / "mine"
    folder.mkdir()
    monkeypatch.chdir(folder)
    config = folder / "c.yaml"
    config.write_text("experiment: x\n")
    return config


def test_the_shipped_folders_hold_the_built_in_spaces_configs_and_prices() -> None:
    assert {"mlp", "cnn1d", "nb201", "maml", "protonet"} <= set(builtin_names("search_spaces"))
    assert {"quickstart", "mnist1d"} <= set(builtin_names("configs"))
    assert "prices" not in builtin_names("configs")  # the price table is no example config
    assert builtin_names("prices") == ["prices"]
    assert "__init__" not in builtin_names("search_spaces")
    # in this editable install the shipped copies are the repository's own folders
    assert shipped_folder("search_spaces") == REPO / "search_spaces"
    assert shipped_folder("configs") == REPO / "configs"


@pytest.mark.parametrize("value", ["mlp", "mlp.py", "search_spaces/mlp.py"])
def test_a_built_in_space_is_found_from_a_folder_outside_the_project(
    outside: Path, value: str
) -> None:
    got = resolve_path(value, outside, "space", "search_spaces")
    assert got == shipped_folder("search_spaces") / "mlp.py"


def test_the_default_price_table_is_the_shipped_one_outside_the_project(outside: Path) -> None:
    got = resolve_path("configs/prices.yaml", outside, "cost.prices", "prices")
    assert got == shipped_folder("configs") / "prices.yaml"


def test_the_users_own_file_comes_before_the_shipped_copy(outside: Path) -> None:
    mine = outside.parent / "search_spaces" / "mlp.py"
    mine.parent.mkdir()
    mine.write_text("")
    assert resolve_path("search_spaces/mlp.py", outside, "space", "search_spaces") == mine
    (outside.parent / "mlp.py").write_text("")
    assert resolve_path("mlp.py", outside, "space", "search_spaces") == outside.parent / "mlp.py"


def test_a_bare_built_in_name_is_always_the_shipped_copy(outside: Path) -> None:
    (outside.parent / "mlp").mkdir()  # a folder of the same name does not shadow it
    got = resolve_path("mlp", outside, "space", "search_spaces")
    assert got == shipped_folder("search_spaces") / "mlp.py"


def test_no_shipped_copy_for_a_path_into_another_folder(outside: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_path("elsewhere/mlp.py", outside, "space", "search_spaces")


def test_a_missing_file_names_each_folder_once_and_the_fix(outside: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_path("spaces/none.py", outside, "reference_spaces.0", "search_spaces")
    message = info.value.message
    assert info.value.field == "reference_spaces.0"
    here, parent = outside.parent / "spaces", outside.parent.parent / "spaces"
    assert message.count(f"{here},") == 1 and message.count(f"{parent},") == 1
    assert f"built-in spaces in {shipped_folder('search_spaces')}" in message
    fix = "give an absolute path, one relative to the working directory or the config file, or a"
    assert f"{fix} built-in name" in message
    assert message.endswith("cnn1d, maml, mlp, nb201, protonet, tabular")


def test_a_missing_data_folder_has_no_built_in_names(outside: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_path("data", outside, "data_dir")
    message = info.value.message
    assert f"looked in {outside.parent}, {outside.parent.parent})" in message  # each once
    assert "built-in" not in message
    assert message.endswith(
        "give an absolute path, or one relative to the working directory or the config file"
    )


def test_the_config_file_is_found_here_else_among_the_shipped_examples(outside: Path) -> None:
    assert find_config("quickstart") == shipped_folder("configs") / "quickstart.yaml"
    assert find_config("configs/quickstart.yaml") == shipped_folder("configs") / "quickstart.yaml"
    assert find_config("c.yaml") == outside
    with pytest.raises(ConfigError) as info:
        find_config("none.yaml")
    assert info.value.field == "config"
    assert "relative to the working directory" in info.value.message
    assert "quickstart" in info.value.message


def test_a_config_outside_the_project_names_built_in_spaces_and_the_default_prices(
    outside: Path,
) -> None:
    """The README's own-space config, from a folder of one's own: nothing copied there."""
    from automl_bench.experiment import prepare

    outside.write_text(
        "experiment: mine\ntask: mnist1d\nspace: mlp\nreference_spaces: [search_spaces/cnn1d.py]\n"
        "methods: [baseline]\nseeds: [0]\n"
    )
    prepared = prepare(outside.name)
    assert sorted(prepared.spaces) == ["cnn1d", "mlp"]
    assert prepared.spaces["mlp"].path == shipped_folder("search_spaces") / "mlp.py"
    assert prepared.prices.gpu_hour_usd > 0
