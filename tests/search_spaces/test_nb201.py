"""search_spaces/nb201.py: the NAS-Bench-201 cell space, its skeleton and its DARTS supernet."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from types import ModuleType
from typing import Any

import optuna
import pytest
import torch
from repo_paths import REPO

from automl_bench import SearchSpace, TaskInfo, load_search_space
from automl_bench.space import sample_config

PATH = REPO / "search_spaces" / "nb201.py"
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = ["edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2"]
DIGITS = TaskInfo("digits_image", (1, 8, 8), 10)
CIFAR = TaskInfo("cifar_like", (3, 32, 32), 10)
BATCH = 7  # differs from the class count, so a transposed output cannot pass
SMALL = {"channels": 4, "cells_per_stage": 1}


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return load_search_space(PATH)


@pytest.fixture(scope="module")
def nb201() -> ModuleType:
    """The file as a module, for its optional ``supernet`` (the loader does not expose it)."""
    spec = importlib.util.spec_from_file_location("nb201_under_test", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def cell(*ops: str) -> dict[str, str]:
    """A cell from one op per edge, or one op for every edge."""
    return dict(zip(EDGES, ops * 6 if len(ops) == 1 else ops, strict=True))


def config(space: SearchSpace, ops: dict[str, str], **skeleton: int) -> dict[str, Any]:
    return {**space.baseline, **ops, **skeleton}


def logits(space: SearchSpace, cfg: dict[str, Any], info: TaskInfo, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    model = space.build(cfg, info)
    model.eval()
    with torch.no_grad():
        out: torch.Tensor = model(torch.randn(BATCH, *info.input_shape))
    return out


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --- the space ---------------------------------------------------------------------------------


def test_the_space_is_six_edges_of_five_ops(space: SearchSpace) -> None:
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    constants = space.space(trial)
    assert set(trial.distributions) == set(EDGES)
    sizes = []
    for dist in trial.distributions.values():
        assert isinstance(dist, optuna.distributions.CategoricalDistribution)
        assert list(dist.choices) == OPS
        sizes.append(len(dist.choices))
    assert math.prod(sizes) == 15_625
    assert constants["channels"] == 16 and constants["cells_per_stage"] == 5  # NB-201's C, N
    assert constants["optimizer"] == "sgd" and constants["lr"] == 0.1


def test_every_one_of_the_15625_cells_is_a_point_of_the_space(space: SearchSpace) -> None:
    seen = set()
    for ops in itertools.product(OPS, repeat=6):
        sampled = sample_config(space.space, optuna.trial.FixedTrial(cell(*ops)))
        seen.add(tuple(sampled[e] for e in EDGES))
    assert len(seen) == 15_625


def test_the_baseline_is_the_resnet_cell_and_loads(space: SearchSpace, nb201: ModuleType) -> None:
    assert {e: space.baseline[e] for e in EDGES} == cell(
        "nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect", "none", "skip_connect"
    )
    assert nb201.arch_str(space.baseline) == (
        "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    )
    assert sample_config(space.space, optuna.trial.FixedTrial(space.baseline)) == space.baseline
    assert "lr" not in space.defaults  # untuned: the trainer's defaults


def test_an_op_outside_the_space_is_refused(space: SearchSpace) -> None:
    bad = {**space.baseline, "edge_1_0": "sep_conv_3x3"}
    with pytest.raises(ValueError):
        space.build(bad, DIGITS)


# --- build -------------------------------------------------------------------------------------


@pytest.mark.parametrize("info", [DIGITS, CIFAR, TaskInfo("odd", (2, 7, 7), 3)], ids=str)
def test_build_gives_logits_for_small_and_cifar_sized_images(
    space: SearchSpace, info: TaskInfo
) -> None:
    for ops in (cell("nor_conv_3x3"), cell("avg_pool_3x3"), {}):
        out = logits(space, config(space, ops, **SMALL), info)
        assert out.shape == (BATCH, info.num_classes)
        assert torch.isfinite(out).all()


def test_the_full_nb201_skeleton_builds_for_cifar_sized_images(space: SearchSpace) -> None:
    model = space.build(space.baseline, CIFAR)
    # NB-201's ResNet: 2 convs per cell, 5 cells per stage at 16/32/64 channels, 2 reductions
    assert 0.5e6 < n_params(model) < 0.6e6
    assert logits(space, space.baseline, CIFAR).shape == (BATCH, 10)


def test_a_cell_of_only_none_outputs_zeros(space: SearchSpace) -> None:
    torch.manual_seed(0)
    model = space.build(config(space, cell("none"), **SMALL), DIGITS).eval()
    with torch.no_grad():
        a, b = model(torch.randn(BATCH, 1, 8, 8)), model(torch.randn(BATCH, 1, 8, 8))
    # the first cell zeroes the features: what follows cannot depend on the input
    assert torch.isfinite(a).all()
    assert torch.equal(a, b)


def test_the_same_config_and_seed_give_the_same_weights(space: SearchSpace) -> None:
    cfg = config(space, {}, **SMALL)

    def weights(seed: int) -> list[torch.Tensor]:
        torch.manual_seed(seed)
        return [p.detach().clone() for p in space.build(cfg, DIGITS).parameters()]

    a, b, c = weights(0), weights(0), weights(1)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def test_parameter_counts_follow_the_ops(space: SearchSpace) -> None:
    def count(ops: dict[str, str]) -> int:
        return n_params(space.build(config(space, ops, **SMALL), DIGITS))

    conv3, base, skip = count(cell("nor_conv_3x3")), count({}), count(cell("skip_connect"))
    assert conv3 > base > skip
    assert count(cell("nor_conv_1x1")) < conv3
    # parameter-free cells leave only the stem, the reductions and the head
    assert skip == count(cell("none")) == count(cell("avg_pool_3x3"))


# --- the supernet ------------------------------------------------------------------------------


def test_supernet_splits_its_parameters_into_arch_and_weights(
    space: SearchSpace, nb201: ModuleType
) -> None:
    net = nb201.supernet(config(space, {}, **SMALL), DIGITS)
    arch, weights = net.arch_parameters(), net.weight_parameters()
    assert len(arch) == 1 and arch[0].shape == (6, 5)
    ids_a, ids_w = {id(p) for p in arch}, {id(p) for p in weights}
    assert not ids_a & ids_w
    assert ids_a | ids_w == {id(p) for p in net.parameters()}
    assert list(net.edge_names) == EDGES and list(net.op_names) == OPS


def test_supernet_runs_and_its_loss_reaches_alpha(space: SearchSpace, nb201: ModuleType) -> None:
    torch.manual_seed(0)
    for info in (DIGITS, CIFAR):
        net = nb201.supernet(config(space, {}, **SMALL), info)
        out = net(torch.randn(BATCH, *info.input_shape))
        assert out.shape == (BATCH, info.num_classes)
        out.logsumexp(dim=1).sum().backward()
        (alpha,) = net.arch_parameters()
        assert alpha.grad is not None and alpha.grad.abs().sum() > 0


def test_supernet_derives_a_point_of_the_space_that_builds(
    space: SearchSpace, nb201: ModuleType
) -> None:
    torch.manual_seed(0)
    derived = nb201.supernet(space.baseline, CIFAR).derive()  # NB-201's full skeleton
    assert set(derived) == set(space.baseline)
    assert all(derived[e] in OPS for e in EDGES)
    assert sample_config(space.space, optuna.trial.FixedTrial(derived)) == derived
    small = nb201.supernet(config(space, {}, **SMALL), DIGITS).derive()
    assert {k: small[k] for k in SMALL} == SMALL  # the skeleton it was built with
    assert logits(space, small, DIGITS).shape == (BATCH, 10)


@pytest.mark.parametrize("op", OPS)
def test_a_supernet_favouring_one_op_derives_it_everywhere(
    space: SearchSpace, nb201: ModuleType, op: str
) -> None:
    net = nb201.supernet(config(space, {}, **SMALL), DIGITS)
    (alpha,) = net.arch_parameters()
    with torch.no_grad():
        alpha.normal_(0.0, 1.0)
        alpha[:, OPS.index(op)] = 10.0
    assert {e: net.derive()[e] for e in EDGES} == cell(op)
