"""The conformance checks users run on their own search space (automl_bench.testing).

The built-in spaces pass them; each file in tests/fixtures/broken_spaces/ breaks one rule and
must be rejected by the check for that rule, in one line that names the file and the check.
"""

from __future__ import annotations

import importlib
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
import torch
from PIL import Image
from repo_paths import FIXTURES, REPO
from torch import nn

from automl_bench import ConfigError, SearchSpace, TaskInfo, load_search_space
from automl_bench.testing import (
    N_RANDOM,
    TIME_BOUND_S,
    SearchSpaceCheckError,
    SpaceCheck,
    check_search_space,
    search_space_checks,
)
from automl_bench.testing.sampling import (
    DETECTION,
    FAILING_SHARE,
    configs_needed,
    detection_probability,
    grid,
)
from automl_bench.testing.subject import draw_random_configs, make_subject
from automl_bench.testing.target import check_target

BUILTIN = REPO / "search_spaces"
BROKEN = FIXTURES / "broken_spaces"
ORDER = [
    "loads",
    "space_returns_constants",
    "baseline_in_space",
    "parameter_names",
    "build_returns_module",
    "forward_gives_logits",
    "build_is_reproducible",
    "backward_reaches_parameters",
]


def rejected(space: Any, task: Any = "mnist1d") -> SearchSpaceCheckError:
    with pytest.raises(SearchSpaceCheckError) as info:
        check_search_space(space, task)
    return info.value


def assert_one_clean_line(error: SearchSpaceCheckError, file: str, check: str) -> None:
    text = str(error)
    assert (error.file, error.check) == (file, check), text
    assert text.startswith(f"space: {file}: check '{check}' failed: "), text
    assert "\n" not in text
    assert "Traceback" not in text
    assert 'File "' not in text


# --- the built-in spaces pass ------------------------------------------------------------------


@pytest.mark.parametrize("task", ["mnist1d", "digits"])
@pytest.mark.parametrize("name", ["mlp", "cnn1d"])
def test_builtin_spaces_pass(name: str, task: str) -> None:
    check_search_space(BUILTIN / f"{name}.py", task)  # raises on any failure


def test_a_space_is_given_as_a_path_a_str_or_a_loaded_space() -> None:
    path = BUILTIN / "mlp.py"
    check_search_space(str(path))
    check_search_space(load_search_space(path), "digits", n_random=2, seed=3)


def test_a_task_is_given_by_name_or_as_an_unregistered_task_info() -> None:
    info = TaskInfo(name="mine", input_shape=(3, 12), num_classes=4)  # 36 features, 4 classes
    check_search_space(BUILTIN / "cnn1d.py", info, n_random=2)
    with pytest.raises(ConfigError, match="unknown task 'nope'") as unknown:
        check_search_space(BUILTIN / "mlp.py", "nope")
    assert unknown.value.field == "task"
    assert not isinstance(unknown.value, SearchSpaceCheckError)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="`n_random` must be an int >= 0"):
        check_search_space(BUILTIN / "mlp.py", n_random=-1)
    with pytest.raises(TypeError, match="`space` must be a path"):
        check_search_space(42)  # type: ignore[arg-type]


def test_the_checks_leave_torch_as_they_found_it() -> None:
    threads = torch.get_num_threads()
    torch.manual_seed(1234)
    state = torch.get_rng_state()
    check_search_space(BUILTIN / "mlp.py", n_random=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads


# --- each broken space is rejected by the right check ------------------------------------------

BROKEN_CASES = [
    # (file, the check that must fail, what the message must say)
    ("missing_build.py", "loads", "must define a function build(config, task)"),
    (
        "returns_list.py",
        "space_returns_constants",
        "space(trial) on trial 0 of RandomSampler(seed=0) returned list, "
        "expected a dict of constants",
    ),
    ("slash_name.py", "parameter_names", "parameter name 'hidden/width' contains '/'"),
    ("build_raises.py", "build_returns_module", "raised ValueError: width"),
    ("returns_class.py", "build_returns_module", "returned the class Net, expected an instance"),
    (
        "wrong_shape.py",
        "forward_gives_logits",
        "build(baseline) on a mnist1d batch of shape (7, 40) gave output of shape (7, 32), "
        "expected logits of shape (7, 10)",
    ),
    ("nan_output.py", "forward_gives_logits", "gave non-finite logits"),
    (
        "unseeded_init.py",
        "build_is_reproducible",
        "build(baseline) twice under torch.manual_seed(0) gave different weights",
    ),
    ("no_grad_forward.py", "backward_reaches_parameters", "does not depend on any parameter"),
    (
        "build_fails_sometimes.py",
        "build_returns_module",
        "raised ValueError: width 160 is a multiple of 20",
    ),
    (
        "baseline_missing_key.py",
        "baseline_in_space",
        "the baseline has no value for 'dropout', which space suggests (a number from 0 to 0.5)",
    ),
    (
        "reads_trial_number.py",
        "space_returns_constants",
        "space is not a function of the trial's parameters",
    ),
    (
        "baseline_outside.py",
        "baseline_in_space",
        "the baseline's width=100 is outside the space: space suggests 'width' as an integer "
        "from 16 to 64 (log scale)",
    ),
]


@pytest.mark.parametrize(("file", "check", "says"), BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES])
def test_a_broken_space_is_rejected_by_the_right_check(file: str, check: str, says: str) -> None:
    error = rejected(BROKEN / file)
    assert_one_clean_line(error, file, check)
    assert says in str(error)
    assert isinstance(error, ConfigError)
    assert error.field == "space"


def test_every_broken_fixture_is_covered() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.py")) == sorted(c[0] for c in BROKEN_CASES)


def test_a_build_that_fails_for_a_random_config_names_that_config() -> None:
    error = rejected(BROKEN / "build_raises.py")
    assert "build(baseline)" not in str(error)  # the baseline builds: a sampled config fails
    assert "build({'width': " in str(error)
    assert isinstance(error.__cause__, ValueError)  # the user's exception, for its traceback


# --- the checks one at a time --------------------------------------------------------------------


def test_search_space_checks_lists_the_checks_in_order() -> None:
    checks = search_space_checks()
    assert [c.name for c in checks] == ORDER
    assert [str(c) for c in checks] == ORDER
    assert all(isinstance(c, SpaceCheck) and c.description for c in checks)


@pytest.mark.parametrize("check", search_space_checks(), ids=str)
def test_each_check_passes_alone_on_a_builtin_space(check: SpaceCheck) -> None:
    check(BUILTIN / "mlp.py", "digits", n_random=3)  # raises on a failure


@pytest.mark.parametrize(
    ("file", "check"),
    [
        ("wrong_shape.py", "forward_gives_logits"),
        ("slash_name.py", "parameter_names"),
        ("unseeded_init.py", "build_is_reproducible"),
        ("no_grad_forward.py", "backward_reaches_parameters"),
        ("baseline_outside.py", "baseline_in_space"),
    ],
)
def test_run_alone_only_the_broken_rule_fails(file: str, check: str) -> None:
    failed = []
    for one in search_space_checks():
        try:
            one(BROKEN / file)
        except SearchSpaceCheckError as error:
            failed.append((one.name, error.check))
    assert failed == [(check, check)]


# --- more ways to break the contract -------------------------------------------------------------

GOOD = """
import math
import optuna
from torch import nn


def space(trial: optuna.Trial) -> dict:
    trial.suggest_int("width", 16, 64, log=True)
    return {<CONSTANTS>}


def build(config: dict, task) -> nn.Module:
    <BUILD>
    width = config["width"]
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(task.input_shape), width),
        nn.ReLU(),
        nn.Linear(width, task.num_classes),
    )


baseline = {"width": 32}
<EXTRA>
"""


def space_file(tmp_path: Path, name: str, **parts: str) -> Path:
    fields = {"CONSTANTS": "", "BUILD": "", "EXTRA": "", **parts}
    source = GOOD
    for key, value in fields.items():
        source = source.replace(f"<{key}>", value)
    path = tmp_path / name
    path.write_text(source)
    return path


def test_the_template_of_these_cases_passes(tmp_path: Path) -> None:
    check_search_space(space_file(tmp_path, "fine.py"))


def test_a_constant_that_shadows_a_suggested_parameter_is_refused(tmp_path: Path) -> None:
    error = rejected(space_file(tmp_path, "shadow.py", CONSTANTS='"width": 8'))
    assert_one_clean_line(error, "shadow.py", "space_returns_constants")
    assert "returned the constant 'width', which it also suggests" in str(error)


def test_a_constant_that_is_not_a_constant_is_refused(tmp_path: Path) -> None:
    error = rejected(space_file(tmp_path, "module.py", CONSTANTS='"act": nn.ReLU'))
    assert_one_clean_line(error, "module.py", "space_returns_constants")
    assert "constants are bool, int, float, str or None" in str(error)


def test_a_space_that_draws_its_own_random_numbers_is_refused(tmp_path: Path) -> None:
    path = space_file(tmp_path, "dice.py", CONSTANTS='"salt": __import__("random").random()')
    error = rejected(path)
    assert_one_clean_line(error, "dice.py", "space_returns_constants")
    assert "space is not a function of the trial's parameters" in str(error)


def test_a_build_that_reseeds_torch_is_refused(tmp_path: Path) -> None:
    error = rejected(space_file(tmp_path, "reseeds.py", BUILD="__import__('torch').manual_seed(0)"))
    assert_one_clean_line(error, "reseeds.py", "build_is_reproducible")
    assert "torch.manual_seed(0) and torch.manual_seed(1) gave the same weights" in str(error)


def test_a_file_that_does_not_import_fails_loads(tmp_path: Path) -> None:
    error = rejected(space_file(tmp_path, "typo.py", EXTRA="def oops(:"))
    assert_one_clean_line(error, "typo.py", "loads")
    assert "importing typo.py failed: SyntaxError" in str(error)


def test_bad_defaults_fail_loads(tmp_path: Path) -> None:
    error = rejected(space_file(tmp_path, "defaults.py", EXTRA="defaults = [1]"))
    assert_one_clean_line(error, "defaults.py", "loads")
    assert "defaults must be a dict, got list" in str(error)


def test_a_loaded_space_is_checked_and_named_by_its_path() -> None:
    def space(trial: optuna.Trial) -> dict[str, Any]:
        trial.suggest_int("width", 2, 4)
        return {}

    def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
        return nn.Linear(task.input_shape[0], config["width"])  # width, not num_classes

    inline = SearchSpace("inline", Path("inline.py"), space, build, {"width": 3}, {})
    error = rejected(inline, "digits")
    assert_one_clean_line(error, "inline.py", "forward_gives_logits")
    assert "gave output of shape (7, 3), expected logits of shape (7, 10)" in str(error)


def test_a_forward_pass_that_raises_is_reported_with_the_first_line_of_its_error() -> None:
    def space(trial: optuna.Trial) -> dict[str, Any]:
        trial.suggest_int("width", 2, 4)
        return {}

    def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
        return nn.Linear(5, task.num_classes)  # expects 5 features, gets 64

    inline = SearchSpace("inline", Path("inline.py"), space, build, {"width": 3}, {})
    error = rejected(inline, "digits")
    assert_one_clean_line(error, "inline.py", "forward_gives_logits")
    assert str(error).endswith(
        "the forward pass of build(baseline) on a digits batch of shape (7, 64) raised "
        "RuntimeError: mat1 and mat2 shapes cannot be multiplied (7x64 and 5x10)"
    )
    assert isinstance(error.__cause__, RuntimeError)


def test_the_error_survives_pickling() -> None:
    error = rejected(BROKEN / "nan_output.py")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is SearchSpaceCheckError
    assert (again.file, again.check, again.problem) == (error.file, error.check, error.problem)
    assert str(again) == str(error)


# --- enough configurations: a build that fails on 5 % of the space is caught ---------------------


def test_the_configuration_count_catches_a_five_percent_failure_with_95_percent() -> None:
    assert configs_needed(FAILING_SHARE, DETECTION) == N_RANDOM == 59
    assert detection_probability(0.05, N_RANDOM) >= 0.95
    assert detection_probability(0.05, N_RANDOM - 1) < 0.95  # and no more than needed


def test_simulated_draws_catch_a_five_percent_failure_at_least_95_percent_of_the_time() -> None:
    """100,000 simulated checks of a space where 5 % of configurations fail, each drawing
    N_RANDOM independent configurations: the share that draws a failing one (1 - 0.95 ** 59 =
    0.9515 in theory)."""
    rng = np.random.default_rng(20261202)
    failing = rng.random((100_000, N_RANDOM)) < 0.05
    assert failing.any(axis=1).mean() >= 0.95


def test_the_real_draws_catch_the_five_percent_fixture_as_often_as_simulated() -> None:
    """The draws the checks make (RandomSampler, no build): over 200 seeds, the share that
    includes a failing width of build_fails_sometimes.py is that of independent uniform draws
    (95 % expected; 200 seeds give a standard error of 1.5 points)."""
    space = load_search_space(BROKEN / "build_fails_sometimes.py")
    fails = importlib.import_module(space.space.__module__).fails
    caught = 0
    for seed in range(200):
        subject = make_subject(space, check_target("digits"), N_RANDOM, seed, TIME_BOUND_S)
        caught += any(fails(c["width"]) for c in draw_random_configs(subject))
    assert caught / 200 >= 0.91


def test_five_configurations_would_have_missed_the_five_percent_fixture() -> None:
    check_search_space(BROKEN / "build_fails_sometimes.py", "digits", n_random=5)  # passes


# --- every kind of task ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "task", "output"),
    [
        ("maml", "sinusoid", "regression"),
        ("protonet", "fewshot_mnist1d", "embedding"),
        ("protonet", "fewshot_digits", "embedding"),
    ],
)
def test_the_meta_learning_spaces_pass(name: str, task: str, output: str) -> None:
    result = check_search_space(BUILTIN / f"{name}.py", task)
    assert result.task == task and result.checks == len(ORDER)
    assert check_target(task).output == output


def test_a_regression_model_must_give_one_prediction_per_input() -> None:
    def space(trial: optuna.Trial) -> dict[str, Any]:
        trial.suggest_int("width", 2, 4)
        return {}

    def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
        return nn.Linear(task.input_shape[0], 2)  # two outputs where the family has one

    inline = SearchSpace("inline", Path("inline.py"), space, build, {"width": 3}, {})
    error = rejected(inline, "sinusoid")
    assert_one_clean_line(error, "inline.py", "forward_gives_logits")
    assert "gave output of shape (7, 2), expected predictions of shape (7, 1) (batch, outputs)" in (
        str(error)
    )


def test_an_embedding_must_be_one_vector_per_input() -> None:
    def space(trial: optuna.Trial) -> dict[str, Any]:
        trial.suggest_int("width", 2, 4)
        return {}

    def build(config: dict[str, Any], task: TaskInfo) -> nn.Module:
        return nn.Unflatten(1, (1, task.input_shape[0]))  # (batch, 1, 40): not flattened

    inline = SearchSpace("inline", Path("inline.py"), space, build, {"width": 3}, {})
    error = rejected(inline, "fewshot_mnist1d")
    assert "gave output of shape (7, 1, 40), expected embeddings of shape (7, features)" in (
        str(error)
    )


def test_a_folder_task_is_checked_on_its_images(tmp_path: Path) -> None:
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.new("RGB", (12, 10), (i * 40, 0, 0)).save(tmp_path / label / f"{i}.png")
    result = check_search_space(BUILTIN / "mlp.py", "image_folder", data_dir=tmp_path)
    assert result.task == "image_folder"
    info = check_target("image_folder", tmp_path).info
    assert info.num_classes == 2 and info.input_shape[0] == 3
    with pytest.raises(ConfigError) as no_folder:
        check_search_space(BUILTIN / "mlp.py", "image_folder")
    assert no_folder.value.field == "data_dir"


# --- what a passed check says, and its time bound ---------------------------------------------


def test_a_passed_check_says_what_it_checked_in_one_line() -> None:
    result = check_search_space(BUILTIN / "mlp.py", "digits")
    assert (result.file, result.task, result.checks) == ("mlp.py", "digits", len(ORDER))
    assert result.configurations == result.drawn == N_RANDOM  # lr is continuous: all distinct
    assert result.fully_checked == 4 and not result.cut_short
    line = result.line()
    assert "\n" not in line
    assert line.startswith("mlp.py: OK on digits, 8 checks passed on the baseline and 59 random ")


def test_a_configuration_drawn_twice_is_checked_once(tmp_path: Path) -> None:
    path = space_file(
        tmp_path, "wide.py", EXTRA='def space(trial):\n    trial.suggest_int("width", 16, 165)\n'
    )  # 150 widths: too many to enumerate, so 59 draws, some of them twice
    result = check_search_space(path, "wine")
    assert not result.enumerated
    assert result.drawn == result.configurations < N_RANDOM
    assert result.drawn > 40


def test_a_small_discrete_space_is_checked_whole(tmp_path: Path) -> None:
    """40 configurations, one of which does not build: drawing 59 at random would miss it
    about once in five checks; enumerating finds it every time, whatever the seed."""
    path = space_file(
        tmp_path,
        "small.py",
        BUILD='if config["width"] == 19 and config["act"] == "b": raise ValueError("this one")',
        EXTRA='def space(trial):\n    trial.suggest_int("width", 16, 25)\n'
        '    trial.suggest_categorical("act", ["a", "b", "c", "d"])\n\n\n'
        'baseline = {"width": 20, "act": "a"}\n',
    )
    for seed in (0, 1, 2):
        with pytest.raises(SearchSpaceCheckError, match="this one") as info:
            check_search_space(path, "wine", seed=seed)
        assert "build({'width': 19, 'act': 'b'})" in str(info.value)


def test_the_grid_of_a_discrete_space() -> None:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    points = grid(
        {
            "n": IntDistribution(1, 3),
            "act": CategoricalDistribution(["relu", "tanh"]),
            "drop": FloatDistribution(0.0, 0.2, step=0.1),
        }
    )
    assert points is not None and len(points) == 3 * 2 * 3
    assert {"n": 3, "act": "tanh", "drop": 0.2} in [
        {**p, "drop": round(p["drop"], 9)} for p in points
    ]
    assert grid({"lr": FloatDistribution(1e-4, 1e-1, log=True)}) is None  # continuous
    assert grid({"w": IntDistribution(1, 101)}) is None  # more than ENUMERATE_UP_TO
    assert grid({"a": IntDistribution(1, 20), "b": IntDistribution(1, 20)}) is None  # 400


def test_the_time_bound_stops_the_building_and_says_so() -> None:
    result = check_search_space(BUILTIN / "mlp.py", "digits", time_bound_s=0)
    assert result.cut_short
    assert result.configurations == result.fully_checked == 4  # these are always checked
    assert result.drawn == N_RANDOM
    assert "stopped at the" in result.line()


# --- the baseline, in our words; no private Optuna API ----------------------------------------


@pytest.mark.parametrize(
    ("baseline", "says"),
    [
        ('{"width": 20}', "the baseline has no value for 'act', which space suggests (one of"),
        ('{"width": 20, "act": "gelu"}', "the baseline's act='gelu' is outside the space"),
        ('{"width": 99, "act": "relu"}', "space suggests 'width' as an integer from 16 to 64"),
        ('{"width": 20, "act": "relu", "depth": 3}', "which space neither suggests nor returns"),
    ],
)
def test_a_baseline_off_the_space_fails_baseline_in_space_in_our_words(
    tmp_path: Path, baseline: str, says: str
) -> None:
    path = space_file(
        tmp_path, "off.py", EXTRA=f'def space(trial):\n    trial.suggest_int("width", 16, 64)\n'
        f'    trial.suggest_categorical("act", ["relu", "tanh"])\n\n\nbaseline = {baseline}\n'
    )
    error = rejected(path)
    assert_one_clean_line(error, "off.py", "baseline_in_space")
    assert says in str(error)
    assert "FixedTrial" not in str(error) and "not found" not in str(error)


def test_no_private_optuna_api_is_used() -> None:
    """Not ``distribution._contains``, nor any ``optuna._module`` or ``optuna.x._name``."""
    private = re.compile(r"\._contains\(|\boptuna(\.\w+)*\._\w")
    sources = [*(REPO / "automl_bench").rglob("*.py"), *(REPO / "search_spaces").glob("*.py")]
    assert sources
    assert not [p for p in sources if private.search(p.read_text())]
