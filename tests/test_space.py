"""The built-in search spaces (search_spaces/mlp.py, cnn1d.py) through the public loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
import torch
from repo_paths import FIXTURES, REPO

from automl_bench import SearchSpace, TaskInfo, load_search_space
from automl_bench.distributions import contains
from automl_bench.space import check_baseline_in_space, sample_config
from automl_bench.tasks import TASKS

SPACES = ["mlp", "cnn1d"]
TASK_NAMES = ["mnist1d", "digits", "wine"]
BATCH = 7  # differs from every task's class count, so a transposed output cannot pass


@pytest.fixture(scope="module", params=SPACES)
def space(request: pytest.FixtureRequest) -> SearchSpace:
    return load_search_space(REPO / "search_spaces" / f"{request.param}.py")


def logits(space: SearchSpace, config: dict[str, Any], info: TaskInfo) -> torch.Tensor:
    model = space.build(config, info)
    assert isinstance(model, torch.nn.Module)
    model.eval()
    with torch.no_grad():
        return model(torch.randn(BATCH, *info.input_shape))


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --- loading ---------------------------------------------------------------------------------


def test_loaded_space_has_its_parts(space: SearchSpace) -> None:
    assert space.name in SPACES
    assert space.path == (REPO / "search_spaces" / f"{space.name}.py").resolve()
    assert callable(space.space)
    assert callable(space.build)
    assert isinstance(space.baseline, dict)
    assert space.baseline


def test_loading_twice_gives_the_same_functions(space: SearchSpace) -> None:
    again = load_search_space(space.path)
    assert again.space is space.space
    assert again.build is space.build
    assert again.baseline == space.baseline


def test_untuned_defaults_are_the_baseline_at_the_trainers_defaults(
    space: SearchSpace, tmp_path: Path
) -> None:
    from automl_bench.train import TrainSettings

    assert space.fixed_point("baseline") == space.baseline
    defaults = space.fixed_point("defaults")
    assert defaults == {
        k: v
        for k, v in space.baseline.items()
        if k not in ("lr", "batch_size", "weight_decay", "optimizer", "momentum")
    }
    settings = TrainSettings.from_config(defaults, epochs=1)
    assert (settings.lr, settings.batch_size, settings.optimizer) == (1e-3, 128, "adam")
    # a space may name its own untuned configuration
    own = tmp_path / "own.py"
    own.write_text(space.path.read_text() + "\ndefaults = {**baseline, 'lr': 3e-3}\n")
    assert load_search_space(own).fixed_point("defaults")["lr"] == 3e-3


def test_baseline_is_a_point_of_the_space(space: SearchSpace) -> None:
    check_baseline_in_space(space)  # raises ConfigError if not
    trial = optuna.trial.FixedTrial(space.baseline)
    assert sample_config(space.space, trial) == space.baseline
    assert set(trial.params) == set(space.baseline)  # every baseline key is a suggested parameter


def test_baseline_lies_inside_every_distribution(space: SearchSpace) -> None:
    """FixedTrial accepts values outside a distribution (it only warns): check containment."""
    trial = optuna.trial.FixedTrial(space.baseline)
    sample_config(space.space, trial)
    for name, distribution in trial.distributions.items():
        assert contains(distribution, space.baseline[name]), (name, space.baseline, distribution)


def test_baseline_values_are_constants(space: SearchSpace) -> None:
    for value in space.baseline.values():
        assert isinstance(value, bool | int | float | str)


# --- sampled configurations build working models ---------------------------------------------


@pytest.mark.parametrize("task", TASK_NAMES)
def test_baseline_forward_gives_logits(space: SearchSpace, task: str) -> None:
    info = TASKS[task].info
    out = logits(space, space.baseline, info)
    assert out.shape == (BATCH, info.num_classes)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


FIXED_POINTS: dict[str, list[dict[str, Any]]] = {
    "mlp": [
        {
            "n_layers": 1,
            "width_0": 16,
            "activation": "tanh",
            "residual": False,
            "dropout": 0.5,
            "lr": 1e-4,
            "weight_decay": 1e-3,
            "batch_size": 32,
            "optimizer": "adamw",
        },
        {
            "n_layers": 4,
            "width_0": 512,
            "width_1": 512,
            "width_2": 17,
            "width_3": 17,
            "activation": "silu",
            "residual": True,
            "dropout": 0.0,
            "lr": 3e-2,
            "weight_decay": 0.0,
            "batch_size": 256,
            "optimizer": "adam",
        },
    ],
    "cnn1d": [
        {
            "n_conv": 1,
            "channels_0": 8,
            "kernel_0": 7,
            "downsample": "maxpool",
            "head": "global_avg",
            "activation": "gelu",
            "dropout": 0.5,
            "lr": 1e-4,
            "weight_decay": 1e-5,
            "batch_size": 32,
            "optimizer": "adamw",
        },
        {
            "n_conv": 4,
            "channels_0": 128,
            "kernel_0": 7,
            "channels_1": 9,
            "kernel_1": 5,
            "channels_2": 64,
            "kernel_2": 3,
            "channels_3": 128,
            "kernel_3": 7,
            "downsample": "avgpool",
            "head": "flatten",
            "activation": "silu",
            "dropout": 0.1,
            "lr": 3e-2,
            "weight_decay": 1e-4,
            "batch_size": 256,
            "optimizer": "adam",
        },
        {
            "n_conv": 4,
            "channels_0": 8,
            "kernel_0": 3,
            "channels_1": 8,
            "kernel_1": 3,
            "channels_2": 8,
            "kernel_2": 3,
            "channels_3": 8,
            "kernel_3": 3,
            "downsample": "stride",
            "head": "flatten",
            "activation": "relu",
            "dropout": 0.0,
            "lr": 1e-3,
            "weight_decay": 0.0,
            "batch_size": 64,
            "optimizer": "adam",
        },
    ],
}


@pytest.mark.parametrize("task", TASK_NAMES)
def test_fixed_trial_points_build_and_forward(space: SearchSpace, task: str) -> None:
    info = TASKS[task].info
    for point in FIXED_POINTS[space.name]:
        config = sample_config(space.space, optuna.trial.FixedTrial(point))
        assert config == point
        assert logits(space, config, info).shape == (BATCH, info.num_classes)


def test_random_sampler_trials_build_and_forward(space: SearchSpace) -> None:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        config = sample_config(space.space, trial)
        assert config == trial.params  # both built-in spaces return no constants
        seen.add(tuple(sorted(config.items())))
        for task in TASK_NAMES:
            info = TASKS[task].info
            out = logits(space, config, info)
            assert out.shape == (BATCH, info.num_classes), (task, config)
            assert torch.isfinite(out).all(), (task, config)
        study.tell(trial, 0.0)
    assert len(seen) == 12  # the sampler really explored the space
    assert len(study.trials) == 12


def test_random_sampler_configs_are_reproducible(space: SearchSpace) -> None:
    def configs(seed: int) -> list[dict[str, Any]]:
        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed)
        )
        out = []
        for _ in range(4):
            trial = study.ask()
            out.append(sample_config(space.space, trial))
            study.tell(trial, 0.0)
        return out

    assert configs(0) == configs(0)
    assert configs(0) != configs(1)


def test_sample_config_merges_returned_constants() -> None:
    def with_constants(trial: optuna.Trial) -> dict[str, Any]:
        trial.suggest_int("width", 1, 8)
        return {"fixed": "yes"}

    config = sample_config(with_constants, optuna.trial.FixedTrial({"width": 3}))
    assert config == {"width": 3, "fixed": "yes"}


def test_sample_config_refuses_a_non_dict_return() -> None:
    def returns_list(trial: optuna.Trial) -> Any:
        trial.suggest_int("width", 1, 8)
        return [1, 2]

    with pytest.raises(TypeError, match="dict of constants"):
        sample_config(returns_list, optuna.trial.FixedTrial({"width": 3}))


# --- seeding and the MNIST-1D paper's models -------------------------------------------------


@pytest.mark.parametrize("task", TASK_NAMES)
def test_same_config_and_seed_build_identical_weights(space: SearchSpace, task: str) -> None:
    info = TASKS[task].info

    def weights(seed: int) -> dict[str, torch.Tensor]:
        torch.manual_seed(seed)
        return space.build(space.baseline, info).state_dict()

    first, second, other = weights(123), weights(123), weights(124)
    assert first.keys() == second.keys()
    assert first
    for name in first:
        assert torch.equal(first[name], second[name]), name
    assert any(not torch.equal(first[name], other[name]) for name in first)


def test_same_seed_gives_the_same_output(space: SearchSpace) -> None:
    info = TASKS["mnist1d"].info
    x = torch.randn(BATCH, *info.input_shape)
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        model = space.build(space.baseline, info).eval()
        with torch.no_grad():
            outs.append(model(x))
    assert torch.equal(outs[0], outs[1])


@pytest.mark.parametrize(("name", "expected"), [("cnn1d", 5_210), ("mlp", 15_210)])
def test_baseline_parameter_count_matches_the_mnist1d_paper(name: str, expected: int) -> None:
    space = load_search_space(REPO / "search_spaces" / f"{name}.py")
    model = space.build(space.baseline, TASKS["mnist1d"].info)
    assert n_params(model) == expected


def test_cnn_baseline_layers_match_the_paper() -> None:
    space = load_search_space(REPO / "search_spaces" / "cnn1d.py")
    model = space.build(space.baseline, TASKS["mnist1d"].info)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (25, 5, 2),
        (25, 3, 2),
        (25, 3, 2),
    ]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == [(125, 10)]


def test_mlp_baseline_layers_match_the_paper() -> None:
    space = load_search_space(REPO / "search_spaces" / "mlp.py")
    model = space.build(space.baseline, TASKS["mnist1d"].info)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == [
        (40, 100),
        (100, 100),
        (100, 10),
    ]


# --- a space file may import the files next to it ------------------------------------------


def test_a_space_file_imports_its_sibling_files_and_the_path_is_restored() -> None:
    import sys

    folder = FIXTURES / "sibling_import"
    before = list(sys.path)
    space = load_search_space(folder / "uses_sibling.py")
    assert sys.path == before  # the folder was on the path for the load only
    model = space.build(space.baseline, TASKS["wine"].info)
    assert model(torch.randn(BATCH, 13)).shape == (BATCH, 3)
    assert sys.modules["sibling_layers"].__file__ == str(folder / "sibling_layers.py")


def test_a_sibling_never_hides_an_installed_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder goes at the end of the path: a file named like a standard module next to the
    space does not shadow it."""
    import sys

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)  # imported afresh below
    (tmp_path / "colorsys.py").write_text("raise RuntimeError('shadowed')\n")
    (tmp_path / "plain.py").write_text(
        "import colorsys\nfrom torch import nn\n\n\ndef space(trial):\n"
        "    trial.suggest_int('width', 2, 4)\n\n\ndef build(config, task):\n"
        "    return nn.Linear(13, task.num_classes)\n\n\nbaseline = {'width': 3}\n"
    )
    assert load_search_space(tmp_path / "plain.py").baseline == {"width": 3}
    assert sys.modules["colorsys"].__file__ != str(tmp_path / "colorsys.py")


# --- suggest_training's ranges are named in one place ---------------------------------------


def test_suggest_training_suggests_from_its_named_ranges() -> None:
    from automl_bench import space as contract
    from automl_bench.space import suggest_training

    trial = optuna.trial.FixedTrial(
        {"lr": 1e-3, "weight_decay": 0.0, "batch_size": 64, "optimizer": "adam"}
    )
    suggest_training(trial)
    dists = trial.distributions
    assert (dists["lr"].low, dists["lr"].high, dists["lr"].log) == (*contract.LR_RANGE, True)
    assert tuple(dists["weight_decay"].choices) == contract.WEIGHT_DECAY_CHOICES
    assert tuple(dists["batch_size"].choices) == contract.BATCH_SIZE_CHOICES
    assert tuple(dists["optimizer"].choices) == contract.OPTIMIZER_CHOICES
