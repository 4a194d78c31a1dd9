"""automl_bench.methods.darts: DARTS search on the NB-201 supernet (digits as 1x8x8 images)."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from types import ModuleType
from typing import Any

import optuna
import pytest
import torch
from repo_paths import REPO
from torch import nn
from torch.func import functional_call

from automl_bench import SearchSpace, load_search_space
from automl_bench.methods import darts
from automl_bench.methods.darts import DartsEpoch, DartsResult, DartsSettings, darts_search
from automl_bench.space import sample_config
from automl_bench.tasks import TaskData, load_task
from automl_bench.train import TrainingDiverged

PATH = REPO / "search_spaces" / "nb201.py"
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = ["edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2"]
SMALL = {"channels": 4, "cells_per_stage": 1}
EPOCHS = 3


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return load_search_space(PATH)


@pytest.fixture(scope="module")
def nb201() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nb201_under_test_darts", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> TaskData:
    return load_task("digits_image", 0, tmp_path_factory.mktemp("cache"))


def search(
    space: SearchSpace,
    nb201: ModuleType,
    data: TaskData,
    settings: DartsSettings,
    seed: int = 0,
    n_train: int | None = None,
    on_epoch: Any = None,
    n_val: int | None = None,
) -> DartsResult:
    torch.manual_seed(seed)
    net = nb201.supernet({**space.baseline, **SMALL}, data.info)
    x, y = data.x_train[:n_train], data.y_train[:n_train]
    xv, yv = data.x_val[:n_val], data.y_val[:n_val]
    return darts_search(net, x, y, xv, yv, settings, seed, on_epoch)


@pytest.fixture(scope="module")
def first(space: SearchSpace, nb201: ModuleType, data: TaskData) -> DartsResult:
    return search(space, nb201, data, DartsSettings(epochs=EPOCHS, order=1))


@pytest.fixture(scope="module")
def second(space: SearchSpace, nb201: ModuleType, data: TaskData) -> DartsResult:
    return search(space, nb201, data, DartsSettings(epochs=EPOCHS, order=2))


def without_time(history: list[DartsEpoch]) -> list[DartsEpoch]:
    return [dataclasses.replace(e, wall_s=0.0) for e in history]


# --- the search on NB-201 ----------------------------------------------------------------------
# A whole search on digits in each order (12 s and 32 s on 2 cores here): in the slow run.


@pytest.mark.slow
@pytest.mark.parametrize("which", ["first", "second"])
def test_search_returns_a_point_of_the_space_that_builds(
    space: SearchSpace, data: TaskData, which: str, request: pytest.FixtureRequest
) -> None:
    result: DartsResult = request.getfixturevalue(which)
    cfg = result.config
    assert cfg == result.history[-1].config
    assert all(cfg[e] in OPS for e in EDGES)
    sampled = sample_config(space.space, optuna.trial.FixedTrial(cfg))
    # everything but the test's small skeleton comes back as the space gives it
    assert {k: v for k, v in sampled.items() if k not in SMALL} == {
        k: v for k, v in cfg.items() if k not in SMALL
    }
    assert {k: cfg[k] for k in SMALL} == SMALL
    model = space.build(cfg, data.info).eval()
    with torch.no_grad():
        assert model(data.x_val[:7]).shape == (7, 10)
    assert len(result.alphas) == 1 and result.alphas[0].shape == (6, 5)
    assert result.alphas[0].device.type == "cpu"


@pytest.mark.slow
@pytest.mark.parametrize("which", ["first", "second"])
def test_the_supernet_learns_above_chance(which: str, request: pytest.FixtureRequest) -> None:
    history = request.getfixturevalue(which).history
    assert [e.epoch for e in history] == list(range(1, EPOCHS + 1))
    assert history[-1].val_accuracy > history[0].val_accuracy
    assert history[-1].val_accuracy > 0.5  # chance is 0.1
    assert history[-1].train_loss < history[0].train_loss


@pytest.mark.slow
@pytest.mark.parametrize("which", ["first", "second"])
def test_the_history_records_alpha_and_the_derived_cell(
    which: str, request: pytest.FixtureRequest
) -> None:
    result: DartsResult = request.getfixturevalue(which)
    for e in result.history:
        assert list(e.alpha_softmax) == EDGES
        for weights in e.alpha_softmax.values():
            assert list(weights) == OPS
            assert sum(weights.values()) == pytest.approx(1.0, abs=1e-6)
        # the derived op of each edge is its heaviest one
        assert {k: max(w, key=w.__getitem__) for k, w in e.alpha_softmax.items()} == {
            k: e.config[k] for k in EDGES
        }
        assert e.skip_connect_edges == sum(e.config[k] == "skip_connect" for k in EDGES)
        assert set(e.to_dict()) >= {"epoch", "train_loss", "val_loss", "val_accuracy"}
        assert e.wall_s > 0
    final = torch.softmax(result.alphas[0], dim=-1).flatten().tolist()
    recorded = [v for w in result.history[-1].alpha_softmax.values() for v in w.values()]
    assert final == pytest.approx(recorded)
    lrs = [e.w_lr for e in result.history]  # cosine annealing from 0.025
    assert lrs[0] == pytest.approx(0.025) and lrs == sorted(lrs, reverse=True)
    assert lrs[-1] > 0.001


# Seconds per epoch, second order against first: benchmarks/darts_speed.py.


def test_the_same_seed_gives_the_same_search(
    space: SearchSpace, nb201: ModuleType, data: TaskData
) -> None:
    def small(settings: DartsSettings, seed: int = 0) -> DartsResult:
        return search(space, nb201, data, settings, seed, n_train=64, n_val=64)

    one = DartsSettings(epochs=2, order=1, batch_size=32)
    first, again = small(one), small(one)
    assert again.config == first.config
    assert torch.equal(again.alphas[0], first.alphas[0])
    assert without_time(again.history) == without_time(first.history)
    two = DartsSettings(epochs=1, order=2, batch_size=32)
    a, b, c = small(two), small(two), small(two, seed=1)
    assert a.config == b.config and torch.equal(a.alphas[0], b.alphas[0])
    assert not torch.equal(a.alphas[0], c.alphas[0])


def test_on_epoch_sees_every_record(space: SearchSpace, nb201: ModuleType, data: TaskData) -> None:
    seen: list[DartsEpoch] = []
    result = search(space, nb201, data, DartsSettings(epochs=2, order=1), 0, 64, seen.append, 64)
    assert seen == result.history and len(seen) == 2


# --- the settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epochs", 0),
        ("epochs", 2.5),
        ("order", 3),
        ("w_lr", 0.0),
        ("w_lr", float("nan")),
        ("w_lr_min", 0.1),  # above w_lr
        ("w_momentum", 1.0),
        ("w_weight_decay", -1e-4),
        ("alpha_lr", -3e-4),
        ("alpha_betas", (0.5, 1.5)),
        ("alpha_betas", (0.5,)),
        ("alpha_weight_decay", -1.0),
        ("batch_size", 0),
        ("grad_clip", 0.0),
        ("fd_radius", 0.0),
    ],
)
def test_bad_settings_raise_naming_the_field(field: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"epochs": 1, "order": 1, field: value}
    with pytest.raises(ValueError, match=rf"DartsSettings\.{field}\b"):
        DartsSettings(**kwargs)


def test_the_defaults_are_the_darts_papers() -> None:
    s = DartsSettings(epochs=50, order=2)
    assert (s.w_lr, s.w_lr_min, s.w_momentum, s.w_weight_decay) == (0.025, 0.001, 0.9, 3e-4)
    assert (s.alpha_lr, s.alpha_betas, s.alpha_weight_decay) == (3e-4, (0.5, 0.999), 1e-3)
    assert (s.batch_size, s.grad_clip) == (64, 5.0)


# --- generic supernets: the second-order gradient, divergence, the interface ------------------


class Toy(nn.Module):
    """A two-op supernet on vectors: alpha mixes a linear map and a tanh layer."""

    edge_names = ("edge",)
    op_names = ("linear", "tanh")

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.alpha = nn.Parameter(torch.randn(1, 2))
        self.linear = nn.Linear(4, 3)
        self.hidden = nn.Linear(4, 3)
        self.scale = scale

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alpha]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p is not self.alpha]

    def derive(self) -> dict[str, Any]:
        return {"edge": self.op_names[int(self.alpha.argmax())]}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(self.alpha, dim=-1)[0]
        out: torch.Tensor = w[0] * self.linear(x) + w[1] * torch.tanh(self.hidden(x))
        return self.scale * out


def toy_data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, generator=g, dtype=torch.float64), torch.randint(
        0, 3, (n,), generator=g
    )


def test_second_order_matches_the_exact_unrolled_gradient() -> None:
    """DARTS eq. 7 differentiated exactly (through the virtual step) against eq. 8's finite
    difference, in float64."""
    torch.manual_seed(0)
    net = Toy().double()
    (xt, yt), (xv, yv) = toy_data(32, 0), toy_data(32, 1)
    arch, weights = net.arch_parameters(), net.weight_parameters()
    names = [n for n, p in net.named_parameters() if p is not net.alpha]
    xi = 0.5
    loss = nn.functional.cross_entropy(net(xt), yt)
    grads = torch.autograd.grad(loss, weights, create_graph=True)
    unrolled = {n: w - xi * g for n, w, g in zip(names, weights, grads, strict=True)}
    val = nn.functional.cross_entropy(functional_call(net, unrolled, (xv,)), yv)
    (exact,) = torch.autograd.grad(val, arch)
    (approx,), _ = darts._second_order(net, arch, weights, names, (xt, yt, xv, yv), xi, 0.01)
    (first_order,), _ = darts._first_order(net, arch, xv, yv)
    assert torch.allclose(approx, exact, rtol=1e-4, atol=1e-8)
    assert not torch.allclose(first_order, exact, rtol=1e-2)  # the correction matters here


@pytest.mark.parametrize("order", [1, 2])
def test_a_nan_loss_raises(order: int) -> None:
    torch.manual_seed(0)
    net = Toy(scale=float("nan"))
    (x, y), (xv, yv) = toy_data(64), toy_data(32, 1)
    with pytest.raises(TrainingDiverged, match="epoch 1"):
        darts_search(net, x.float(), y, xv.float(), yv, DartsSettings(epochs=2, order=order), 0)


def test_a_toy_supernet_searches_and_names_its_alpha() -> None:
    torch.manual_seed(0)
    (x, y), (xv, yv) = toy_data(64), toy_data(32, 1)
    s = DartsSettings(epochs=2, order=2, batch_size=16)
    result = darts_search(Toy(), x.float(), y, xv.float(), yv, s, 0)
    assert result.config["edge"] in Toy.op_names
    assert list(result.history[-1].alpha_softmax) == ["edge"]
    assert list(result.history[-1].alpha_softmax["edge"]) == ["linear", "tanh"]


def test_what_is_not_a_supernet_is_refused() -> None:
    (x, y) = toy_data(16)
    s = DartsSettings(epochs=1, order=1)
    with pytest.raises(TypeError, match="arch_parameters"):
        darts_search(nn.Linear(4, 3), x.float(), y, x.float(), y, s, 0)

    class Overlapping(Toy):
        def weight_parameters(self) -> list[nn.Parameter]:
            return list(self.parameters())

    class Missing(Toy):
        def weight_parameters(self) -> list[nn.Parameter]:
            return list(self.linear.parameters())[:1]

    for bad, match in ((Overlapping(), "overlap"), (Missing(), "all its parameters")):
        with pytest.raises(ValueError, match=match):
            darts_search(bad, x.float(), y, x.float(), y, s, 0)
