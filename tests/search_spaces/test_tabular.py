"""search_spaces/tabular.py: the MLP / ResNet space of Gorishniy et al. (2021) for tables."""

from __future__ import annotations

import math
from typing import Any

import optuna
import pytest
import torch
from optuna.distributions import FloatDistribution, IntDistribution
from repo_paths import REPO

from automl_bench import SearchSpace, TaskInfo, load_search_space
from automl_bench.space import sample_config
from automl_bench.testing import CheckTarget, check_search_space

PATH = REPO / "search_spaces" / "tabular.py"
FEATURES = 12
CLASSIFICATION = TaskInfo(name="table", input_shape=(FEATURES,), num_classes=3)
REGRESSION = TaskInfo(name="table", input_shape=(FEATURES,), num_classes=1, problem="regression")
TASKS = [CLASSIFICATION, REGRESSION]
BATCH = 7  # differs from every output count, so a transposed output cannot pass
RESNET = {
    "architecture": "resnet",
    "n_blocks": 2,
    "d": 64,
    "d_hidden_factor": 2.5,
    "hidden_dropout": 0.1,
    "use_residual_dropout": True,
    "residual_dropout": 0.05,
    "normalization": "batchnorm",
    "lr": 1e-3,
    "use_weight_decay": False,
}


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return load_search_space(PATH)  # checks that the baseline is a point of the space


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def output(space: SearchSpace, config: dict[str, Any], task: TaskInfo, train: bool) -> torch.Tensor:
    torch.manual_seed(0)
    model = space.build(config, task)
    model.train(train)
    out: torch.Tensor = model(torch.randn(BATCH, *task.input_shape))
    return out


def replay(space: SearchSpace, config: dict[str, Any]) -> dict[str, Any]:
    """The configuration ``space`` gives for ``config``'s answers (its constants added)."""
    return sample_config(space.space, optuna.trial.FixedTrial(config))


def suggested(
    space: SearchSpace, config: dict[str, Any]
) -> dict[str, optuna.distributions.BaseDistribution]:
    """The distributions ``space`` suggests the answers of ``config`` from."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(config)
    trial = study.ask()
    space.space(trial)
    return dict(trial.distributions)


# --- the space and its baseline ----------------------------------------------------------------


def test_the_baseline_is_the_centre_of_the_papers_mlp_space(space: SearchSpace) -> None:
    base = space.baseline
    assert base["architecture"] == "mlp" and base["n_layers"] == 4
    assert base["d_first"] == base["d_middle"] == base["d_last"] == 256
    assert base["dropout"] == 0.25 and base["normalization"] == "none"
    assert (base["optimizer"], base["batch_size"], base["lr"]) == ("adamw", 256, 3e-4)
    assert replay(space, base) == base  # a point of the space, constants included


def test_the_mlp_space_is_the_papers(space: SearchSpace) -> None:
    dists = suggested(space, space.baseline)
    for name in ("n_layers", "d_first", "d_middle", "d_last"):
        dist = dists[name]
        assert isinstance(dist, IntDistribution) and not dist.log
        assert (dist.low, dist.high) == ((1, 8) if name == "n_layers" else (1, 512))
    dropout, lr, decay = dists["dropout"], dists["lr"], dists["weight_decay"]
    assert isinstance(dropout, FloatDistribution)
    assert (dropout.low, dropout.high, dropout.log) == (0.0, 0.5, False)
    assert isinstance(lr, FloatDistribution)
    assert (lr.low, lr.high, lr.log) == (1e-5, 1e-2, True)
    assert isinstance(decay, FloatDistribution)
    assert (decay.low, decay.high, decay.log) == (1e-6, 1e-3, True)
    normalization = dists["normalization"]
    assert isinstance(normalization, optuna.distributions.CategoricalDistribution)
    assert list(normalization.choices) == ["none", "batchnorm", "layernorm"]


def test_the_resnet_space_is_the_papers(space: SearchSpace) -> None:
    dists = suggested(space, RESNET)
    expected = {
        "n_blocks": (1, 8),
        "d": (64, 512),
        "d_hidden_factor": (1.0, 4.0),
        "hidden_dropout": (0.0, 0.5),
        "residual_dropout": (0.0, 0.5),
    }
    for name, bounds in expected.items():
        dist = dists[name]
        integer = name in ("n_blocks", "d")
        assert isinstance(dist, IntDistribution if integer else FloatDistribution), name
        assert not dist.log, name
        assert (dist.low, dist.high) == bounds, name
    assert not {"n_layers", "d_first", "dropout", "weight_decay"} & set(dists)


@pytest.mark.parametrize(
    ("n_layers", "widths"),
    [(1, ["d_first"]), (2, ["d_first", "d_last"]), (5, ["d_first", "d_middle", "d_last"])],
)
def test_mlp_layer_sizes_are_first_middle_last(
    space: SearchSpace, n_layers: int, widths: list[str]
) -> None:
    sizes = {"d_first": 10, "d_middle": 20, "d_last": 30}
    config = {**space.baseline, "n_layers": n_layers, **sizes}
    for name in set(sizes) - set(widths):
        del config[name]
    assert set(replay(space, config)) == set(config)  # it asks for exactly these sizes
    modules = space.build(config, CLASSIFICATION).modules()
    got = [m.out_features for m in modules if isinstance(m, torch.nn.Linear)]
    assert got == [10, *[20] * (n_layers - 2), *([30] if n_layers > 1 else []), 3]


def test_off_regularisers_are_not_asked_for_and_train_as_zero(space: SearchSpace) -> None:
    config = {**space.baseline, "use_dropout": False, "use_weight_decay": False}
    del config["dropout"], config["weight_decay"]
    got = replay(space, config)
    assert "dropout" not in got and "weight_decay" not in got  # the trainer's weight_decay: 0
    dropouts = [
        m for m in space.build(got, CLASSIFICATION).modules() if isinstance(m, torch.nn.Dropout)
    ]
    assert dropouts and all(d.p == 0.0 for d in dropouts)


# --- building --------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.problem)
def test_the_conformance_checks_pass(task: TaskInfo) -> None:
    check_search_space(PATH, task)  # raises on any failure
    if task.problem == "regression":  # and trained as regression: MSE on one output
        check_search_space(PATH, CheckTarget(task, "regression"))


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.problem)
@pytest.mark.parametrize("normalization", ["none", "batchnorm", "layernorm"])
@pytest.mark.parametrize("architecture", ["mlp", "resnet"])
def test_both_architectures_give_one_output_per_class(
    space: SearchSpace, architecture: str, normalization: str, task: TaskInfo
) -> None:
    config = space.baseline if architecture == "mlp" else RESNET
    config = {**config, "normalization": normalization}
    for train in (False, True):
        out = output(space, config, task, train)
        assert out.shape == (BATCH, task.num_classes)
        assert bool(torch.isfinite(out).all())


@pytest.mark.parametrize("architecture", ["mlp", "resnet"])
def test_batchnorm_trains_on_a_batch_of_one_row(space: SearchSpace, architecture: str) -> None:
    """The trainer's last batch may hold one row: BatchNorm1d alone would raise on it."""
    config = space.baseline if architecture == "mlp" else RESNET
    model = space.build({**config, "normalization": "batchnorm"}, CLASSIFICATION)
    model.train()
    out = model(torch.randn(1, FEATURES))
    out.sum().backward()  # type: ignore[no-untyped-call]
    assert out.shape == (1, 3)


def test_the_resnet_block_adds_its_branch_to_its_input(space: SearchSpace) -> None:
    config = {**RESNET, "n_blocks": 1, "normalization": "none"}
    model = space.build(config, REGRESSION)
    d, hidden = 64, int(64 * 2.5)
    # input 12 -> d, block d -> hidden -> d, head d -> 1
    expected = (FEATURES + 1) * d + (d + 1) * hidden + (hidden + 1) * d + (d + 1) * 1
    assert n_params(model) == expected
    block = [m for m in model.modules() if type(m).__name__ == "_ResidualBlock"]
    assert len(block) == 1
    last = [m for m in block[0].modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():  # a zero branch: the block passes its input through
        last.weight.zero_()
        last.bias.zero_()
        x = torch.randn(BATCH, d)
        assert torch.equal(block[0](x), x)


def test_tpe_sampled_configurations_build(space: SearchSpace) -> None:
    sampler = optuna.samplers.TPESampler(seed=0, n_startup_trials=4)
    study = optuna.create_study(sampler=sampler)
    seen: set[str] = set()

    def objective(trial: optuna.Trial) -> float:
        config = sample_config(space.space, trial)
        seen.add(config["architecture"])
        assert config["optimizer"] == "adamw" and config["batch_size"] == 256
        task = TASKS[trial.number % 2]
        model = space.build(config, task)
        model.train()
        out = model(torch.randn(BATCH, FEATURES))
        out.float().pow(2).mean().backward()  # type: ignore[no-untyped-call]
        assert out.shape == (BATCH, task.num_classes)
        return float(math.log(n_params(model)))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=12)
    assert len(study.trials) == 12 and seen == {"mlp", "resnet"}


def test_the_baselines_parameter_count(space: SearchSpace) -> None:
    """12 features -> 256 -> 256 -> 256 -> 256 -> 3 classes: about 200 thousand weights."""
    expected = (FEATURES + 1) * 256 + 3 * (256 + 1) * 256 + (256 + 1) * 3
    assert n_params(space.build(space.baseline, CLASSIFICATION)) == expected == 201_475
    regression = n_params(space.build(space.baseline, REGRESSION))
    assert regression == expected - 2 * (256 + 1)  # one output instead of three
