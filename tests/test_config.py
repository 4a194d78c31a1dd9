"""Unit tests of automl_bench.config: parsing, task default budgets, --set overrides, paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from automl_bench.config import (
    ExperimentConfig,
    apply_overrides,
    load_config,
    parse_config,
    read_yaml,
    resolve_path,
)
from automl_bench.errors import ConfigError
from automl_bench.tasks import TASKS

REPO = Path(__file__).resolve().parent.parent


def minimal(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "experiment": "unit",
        "task": "wine",
        "space": "search_spaces/mlp.py",
        "methods": ["baseline", "random"],
        "seeds": [0, 1, 2],
    }
    raw.update(changes)
    return raw


def write_yaml(path: Path, raw: Any) -> Path:
    path.write_text(yaml.safe_dump(raw))
    return path


# --- a valid config --------------------------------------------------------------------------


def test_valid_config_parses_every_field() -> None:
    raw = minimal(
        reference_spaces=["search_spaces/cnn1d.py"],
        budget={"trials": 7, "epochs": 3},
        resources={"cpus_per_trial": 2, "gpus_per_trial": 0.25, "max_concurrent_trials": 4},
        cost={"country_iso_code": "DEU"},
        tracking={"uri": "sqlite:////tmp/x.db"},
        output_dir="elsewhere",
    )
    config = parse_config(raw)
    assert isinstance(config, ExperimentConfig)
    assert config.experiment == "unit"
    assert config.task == "wine"
    assert config.space == "search_spaces/mlp.py"
    assert config.reference_spaces == ["search_spaces/cnn1d.py"]
    assert config.methods == ["baseline", "random"]
    assert config.seeds == [0, 1, 2]
    assert (config.budget.trials, config.budget.epochs) == (7, 3)
    assert (config.trials, config.epochs) == (7, 3)
    assert config.resources.cpus_per_trial == 2.0
    assert config.resources.gpus_per_trial == 0.25
    assert config.resources.max_concurrent_trials == 4
    assert config.cost.country_iso_code == "DEU"
    assert config.tracking.uri == "sqlite:////tmp/x.db"
    assert config.output_dir == "elsewhere"


def test_optional_sections_take_their_defaults() -> None:
    config = parse_config(minimal())
    assert config.reference_spaces == []
    assert config.resources.cpus_per_trial == 1.0
    assert config.resources.gpus_per_trial == 0.0
    assert config.resources.max_concurrent_trials is None
    assert config.cost.country_iso_code == "USA"
    assert config.tracking.uri is None
    assert config.output_dir == "runs"


def test_quickstart_config_loads() -> None:
    config = load_config(REPO / "configs" / "quickstart.yaml")
    assert config.experiment == "quickstart"
    assert config.task == "mnist1d"
    assert config.methods == ["baseline", "defaults", "tpe"]
    assert (config.trials, config.epochs) == (4, 8)
    assert config.cost.country_iso_code == "FRA"


# --- the task's default budget ---------------------------------------------------------------


@pytest.mark.parametrize("task", sorted(TASKS))
def test_omitted_budget_comes_from_the_task(task: str) -> None:
    info = TASKS[task].info
    config = parse_config(minimal(task=task))
    assert config.budget.trials == info.default_trials
    assert config.budget.epochs == info.default_epochs
    assert (config.trials, config.epochs) == (info.default_trials, info.default_epochs)


def test_default_budget_differs_by_task() -> None:
    mnist1d = parse_config(minimal(task="mnist1d"))
    wine = parse_config(minimal(task="wine"))
    assert mnist1d.epochs == TASKS["mnist1d"].info.default_epochs == 60
    assert wine.epochs == TASKS["wine"].info.default_epochs == 40


def test_a_partial_budget_keeps_the_given_field_and_fills_the_other() -> None:
    info = TASKS["digits"].info
    only_trials = parse_config(minimal(task="digits", budget={"trials": 3}))
    assert (only_trials.trials, only_trials.epochs) == (3, info.default_epochs)
    only_epochs = parse_config(minimal(task="digits", budget={"epochs": 2}))
    assert (only_epochs.trials, only_epochs.epochs) == (info.default_trials, 2)


def test_an_explicit_null_budget_field_means_the_default() -> None:
    config = parse_config(minimal(budget={"trials": None, "epochs": 5}))
    assert config.trials == TASKS["wine"].info.default_trials
    assert config.epochs == 5


def test_default_budget_is_not_shared_between_configs() -> None:
    first = parse_config(minimal(task="mnist1d"))
    second = parse_config(minimal(task="wine"))
    assert first.budget is not second.budget
    assert first.epochs == 60
    assert second.epochs == 40


# --- validation errors name the field --------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"budget": {"trials": 0}}, "budget.trials"),
        ({"budget": {"epochs": -2}}, "budget.epochs"),
        ({"budget": {"epochs": 2.5}}, "budget.epochs"),
        ({"budget": {"trials": True}}, "budget.trials"),
        ({"budget": {"trials": "4"}}, "budget.trials"),
        ({"budget": {"trial": 4}}, "budget.trial"),
        ({"seeds": [0, 0]}, "seeds"),
        ({"seeds": [3, -1]}, "seeds"),
        ({"seeds": "0"}, "seeds"),
        ({"methods": ["random"]}, "methods"),
        ({"task": "imagenet"}, "task"),
        ({"cost": {"country_iso_code": "XXX"}}, "cost.country_iso_code"),
        ({"experiment": "a/b"}, "experiment"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_parse_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(minimal(**changes))
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert "\n" not in str(info.value)


def test_unknown_field_lists_what_is_allowed_there() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(minimal(budget={"trials": 2, "epoch": 1}))
    assert info.value.field == "budget.epoch"
    assert "trials" in info.value.message
    assert "epochs" in info.value.message
    assert "seeds" not in info.value.message  # the budget's fields, not the top level's


def test_a_type_error_quotes_the_value_given() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(minimal(budget={"trials": "many"}))
    assert "'many'" in info.value.message


def test_missing_required_field() -> None:
    raw = minimal()
    del raw["task"]
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    assert info.value.field == "task"
    assert "missing" in info.value.message


def test_config_error_is_a_value_error_with_field_and_message() -> None:
    error = ConfigError("budget.trials", "must be > 0")
    assert isinstance(error, ValueError)
    assert (error.field, error.message) == ("budget.trials", "must be > 0")
    assert str(error) == "budget.trials: must be > 0"


# --- reading the file ------------------------------------------------------------------------


def test_read_yaml_returns_the_mapping(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "c.yaml", minimal())
    assert read_yaml(path) == minimal()


@pytest.mark.parametrize(
    "text", ["experiment: [unclosed\n", "a: b\n c: d: e\n", "key: 'open quote\n"]
)
def test_read_yaml_refuses_text_that_is_not_yaml(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    assert info.value.field == "config"
    assert "bad.yaml is not valid YAML" in info.value.message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n", "42\n"])
def test_read_yaml_refuses_what_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    path = tmp_path / "flat.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    assert info.value.field == "config"
    assert "mapping" in info.value.message


def test_read_yaml_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_yaml(tmp_path / "absent.yaml")
    assert info.value.field == "config"
    assert "absent.yaml" in info.value.message


def test_read_yaml_never_constructs_python_objects(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("experiment: !!python/object/apply:os.getcwd []\n")
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    assert info.value.field == "config"


def test_load_config_applies_overrides_before_validating(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "c.yaml", minimal(budget={"trials": 0}))
    with pytest.raises(ConfigError):
        load_config(path)
    config = load_config(path, ["budget.trials=5", "seeds=[4, 5]"])
    assert config.trials == 5
    assert config.seeds == [4, 5]


# --- apply_overrides (--set) -----------------------------------------------------------------


def test_override_a_nested_key_with_an_int() -> None:
    raw = minimal(budget={"trials": 2, "epochs": 3})
    out = apply_overrides(raw, ["budget.trials=4"])
    assert out is raw
    assert raw["budget"] == {"trials": 4, "epochs": 3}
    assert isinstance(raw["budget"]["trials"], int)


def test_override_creates_a_missing_section() -> None:
    raw = minimal()
    apply_overrides(raw, ["cost.country_iso_code=DEU", "budget.epochs=2"])
    assert raw["cost"] == {"country_iso_code": "DEU"}
    assert raw["budget"] == {"epochs": 2}
    assert parse_config(raw).cost.country_iso_code == "DEU"


@pytest.mark.parametrize(
    ("item", "key", "value"),
    [
        ("seeds=[0, 1, 2, 3]", "seeds", [0, 1, 2, 3]),
        ("methods=[baseline, tpe]", "methods", ["baseline", "tpe"]),
        ("experiment=other", "experiment", "other"),
        ("experiment='42'", "experiment", "42"),
        ("output_dir=/tmp/x=y", "output_dir", "/tmp/x=y"),
        ("task= digits ", "task", "digits"),
        ("reference_spaces=[]", "reference_spaces", []),
    ],
)
def test_override_values_are_read_as_yaml(item: str, key: str, value: Any) -> None:
    raw = minimal()
    apply_overrides(raw, [item])
    assert raw[key] == value
    assert type(raw[key]) is type(value)


@pytest.mark.parametrize(
    ("item", "value"),
    [
        ("resources.cpus_per_trial=0.5", 0.5),
        ("resources.max_concurrent_trials=3", 3),
        ("resources.gpus_per_trial=1", 1),
    ],
)
def test_override_numbers_keep_their_yaml_type(item: str, value: float) -> None:
    raw = minimal()
    apply_overrides(raw, [item])
    got = raw["resources"][item.split("=")[0].split(".")[1]]
    assert got == value
    assert type(got) is type(value)


def test_override_null_restores_the_task_default() -> None:
    raw = minimal(budget={"trials": 3, "epochs": 3})
    apply_overrides(raw, ["budget.epochs=null"])
    assert raw["budget"]["epochs"] is None
    assert parse_config(raw).epochs == TASKS["wine"].info.default_epochs


def test_later_overrides_win() -> None:
    raw = minimal()
    apply_overrides(raw, ["budget.trials=4", "budget.trials=9"])
    assert raw["budget"]["trials"] == 9


def test_override_values_are_never_evaluated() -> None:
    raw = minimal()
    apply_overrides(raw, ["experiment=__import__('os').getcwd()"])
    assert raw["experiment"] == "__import__('os').getcwd()"
    with pytest.raises(ConfigError) as info:
        apply_overrides(raw, ["experiment=!!python/object/apply:os.getcwd []"])
    assert info.value.field == "--set"


def test_an_override_that_breaks_a_rule_is_refused_by_validation() -> None:
    raw = apply_overrides(minimal(), ["budget.trials=many"])
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    assert info.value.field == "budget.trials"


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ("budget.trials", "key=value"),
        ("budget.trials 4", "key=value"),
        ("=4", "key=value"),
        ("  =4", "key=value"),
        ("seeds=[0, 1", "not valid YAML"),
        ("budget={trials: ", "not valid YAML"),
        ("seeds.0=5", "'seeds' is not a section"),
        ("experiment.name=x", "'experiment' is not a section"),
        ("budget.trials.max=5", "'trials' is not a section"),
    ],
)
def test_bad_overrides_are_refused(item: str, says: str) -> None:
    raw = minimal(budget={"trials": 2})
    with pytest.raises(ConfigError) as info:
        apply_overrides(raw, [item])
    assert info.value.field == "--set"
    assert says in info.value.message
    assert "\n" not in str(info.value)


def test_an_override_cannot_descend_into_a_scalar_set_earlier() -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(minimal(), ["budget=5", "budget.trials=3"])
    assert info.value.field == "--set"
    assert "'budget' is not a section" in info.value.message


# --- resolve_path ----------------------------------------------------------------------------


@pytest.fixture
def two_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A working directory and, apart from it, a folder holding the config file."""
    cwd = tmp_path / "cwd"
    conf = tmp_path / "conf"
    cwd.mkdir()
    conf.mkdir()
    (conf / "c.yaml").write_text("experiment: x\n")
    monkeypatch.chdir(cwd)
    return cwd, conf


def test_resolve_path_relative_to_the_working_directory(two_folders: tuple[Path, Path]) -> None:
    cwd, conf = two_folders
    (cwd / "spaces").mkdir()
    (cwd / "spaces" / "s.py").write_text("")
    got = resolve_path("spaces/s.py", conf / "c.yaml", "space")
    assert got == (cwd / "spaces" / "s.py").resolve()
    assert got.is_absolute()


def test_resolve_path_falls_back_to_the_config_folder(two_folders: tuple[Path, Path]) -> None:
    _, conf = two_folders
    (conf / "s.py").write_text("")
    assert resolve_path("s.py", conf / "c.yaml", "space") == (conf / "s.py").resolve()


def test_resolve_path_prefers_the_working_directory(two_folders: tuple[Path, Path]) -> None:
    cwd, conf = two_folders
    (cwd / "s.py").write_text("")
    (conf / "s.py").write_text("")
    assert resolve_path("s.py", conf / "c.yaml", "space") == (cwd / "s.py").resolve()


def test_resolve_path_with_a_relative_config_path(two_folders: tuple[Path, Path]) -> None:
    _, conf = two_folders
    (conf / "s.py").write_text("")
    relative_config = Path("..") / "conf" / "c.yaml"
    assert resolve_path("s.py", relative_config, "space") == (conf / "s.py").resolve()


def test_resolve_path_absolute(two_folders: tuple[Path, Path], tmp_path: Path) -> None:
    _, conf = two_folders
    target = tmp_path / "abs.py"
    target.write_text("")
    assert resolve_path(str(target), conf / "c.yaml", "space") == target.resolve()


def test_resolve_path_expands_the_home_folder(
    two_folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, conf = two_folders
    home = tmp_path / "home"
    home.mkdir()
    (home / "mine.py").write_text("")
    monkeypatch.setenv("HOME", str(home))
    assert resolve_path("~/mine.py", conf / "c.yaml", "space") == (home / "mine.py").resolve()


def test_resolve_path_missing_names_the_field_and_both_folders(
    two_folders: tuple[Path, Path],
) -> None:
    cwd, conf = two_folders
    with pytest.raises(ConfigError) as info:
        resolve_path("spaces/none.py", conf / "c.yaml", "reference_spaces.1")
    assert info.value.field == "reference_spaces.1"
    assert "'spaces/none.py' does not exist" in info.value.message
    assert str(cwd.resolve() / "spaces") in info.value.message
    assert str(conf.resolve() / "spaces") in info.value.message
    assert "\n" not in str(info.value)


def test_resolve_path_missing_absolute(two_folders: tuple[Path, Path], tmp_path: Path) -> None:
    _, conf = two_folders
    with pytest.raises(ConfigError) as info:
        resolve_path(str(tmp_path / "gone.py"), conf / "c.yaml", "space")
    assert info.value.field == "space"
    assert "gone.py" in info.value.message


def test_config_errors_survive_pickling_and_copying() -> None:
    import copy
    import pickle

    error = ConfigError("budget.trials", "must be > 0, got 0")
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert isinstance(clone, ConfigError)
        assert (clone.field, clone.message, str(clone)) == (error.field, error.message, str(error))


def test_trials_per_gpu_becomes_a_fractional_gpu_share() -> None:
    raw = {
        "experiment": "p",
        "task": "wine",
        "space": "search_spaces/mlp.py",
        "methods": ["baseline"],
        "seeds": [0],
    }
    packed = parse_config({**raw, "resources": {"trials_per_gpu": 8}})
    assert packed.resources.gpus_per_trial == 0.125
    assert parse_config(raw).resources.gpus_per_trial == 0.0
    for resources, words in (
        ({"trials_per_gpu": 8, "gpus_per_trial": 0.5}, "not both"),
        ({"trials_per_gpu": 0}, "greater than or equal to 1"),
        ({"gpus_per_trial": 1.5}, "whole number"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_config({**raw, "resources": resources})
        assert caught.value.field.startswith("resources") and words in caught.value.message


def test_the_default_price_table_is_found_from_a_folder_outside_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's config in their own folder, with the default ``cost.prices``, gets the
    project's own table (configs/prices.yaml of this checkout)."""
    from automl_bench.config import load_prices

    config_file = tmp_path / "mine.yaml"
    config_file.write_text(
        "experiment: mine\ntask: wine\nspace: my_space.py\nmethods: [baseline]\nseeds: [0]\n"
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(config_file)
    prices = load_prices(config, config_file)  # no configs/ here: a ConfigError before
    at_home = load_prices(config, REPO / "configs" / "quickstart.yaml")
    assert prices == at_home and prices.gpu_hour_usd > 0 and prices.sources
