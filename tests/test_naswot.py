"""The NASWOT score (Mellor et al. 2021) against kernels worked out by hand, and its behaviour on
real data: wider networks separate more inputs, so they score higher."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from automl_bench.naswot import naswot_kernel, naswot_score
from automl_bench.tasks import load_task


def linear(weight: list[list[float]], bias: list[float] | None = None) -> nn.Linear:
    w = torch.tensor(weight)
    layer = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(torch.tensor(bias) if bias is not None else torch.zeros(w.shape[0]))
    return layer


# Pre-activations of the first layer for the three inputs below: [1, 1], [1, -1], [-1, -1].
FIRST = [[1.0, 1.0], [1.0, -1.0]]
X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


def test_kernel_of_one_relu_layer_matches_the_hand_computed_one() -> None:
    model = nn.Sequential(linear(FIRST), nn.ReLU())
    # codes: 11, 10, 00 -> agreements out of N_A = 2 units
    expected = torch.tensor(
        [[2.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 2.0]], dtype=torch.float64
    )
    assert torch.equal(naswot_kernel(model, X), expected)
    assert naswot_score(model, X) == pytest.approx(math.log(4.0))  # det = 2*3 - 1*2 = 4


def test_codes_are_concatenated_over_layers() -> None:
    # second layer: h0 - h1 on the rectified [1, 1], [1, 0], [0, 0] -> 0, 1, 0 -> codes 0, 1, 0
    model = nn.Sequential(linear(FIRST), nn.ReLU(), linear([[1.0, -1.0]]), nn.ReLU())
    # codes: 110, 101, 000 -> every pair agrees on exactly one of N_A = 3 units
    expected = torch.tensor(
        [[3.0, 1.0, 1.0], [1.0, 3.0, 1.0], [1.0, 1.0, 3.0]], dtype=torch.float64
    )
    assert torch.equal(naswot_kernel(model, X), expected)
    assert naswot_score(model, X) == pytest.approx(math.log(20.0))  # det = 3*8 - 2 - 2


def test_a_module_called_twice_counts_twice() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.relu = linear(FIRST), linear([[1.0, -1.0]]), nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.relu(self.b(self.relu(self.a(x))))
            return out

    expected = naswot_kernel(
        nn.Sequential(linear(FIRST), nn.ReLU(), linear([[1.0, -1.0]]), nn.ReLU()), X
    )
    assert torch.equal(naswot_kernel(Twice(), X), expected)


def test_inplace_relus_are_coded_from_their_input() -> None:
    out_of_place = nn.Sequential(linear(FIRST), nn.ReLU(), linear([[1.0, -1.0]]), nn.ReLU())
    in_place = nn.Sequential(
        linear(FIRST), nn.ReLU(inplace=True), linear([[1.0, -1.0]]), nn.ReLU(inplace=True)
    )
    assert torch.equal(naswot_kernel(in_place, X), naswot_kernel(out_of_place, X))


def test_batchnorm_normalises_with_the_batch_statistics_as_in_the_reference() -> None:
    # train mode, as the reference leaves it: x - mean(x) decides the sign, not x
    x = torch.tensor([[1.0, 1.0], [2.0, 3.0], [4.0, 2.0], [5.0, 6.0]])
    model = nn.Sequential(linear([[1.0, 0.0], [0.0, 1.0]]), nn.BatchNorm1d(2), nn.ReLU())
    codes = (x - x.mean(0) > 0).double()
    expected = codes @ codes.T + (1 - codes) @ (1 - codes).T
    assert torch.equal(naswot_kernel(model, x), expected)
    assert not torch.equal(expected, torch.full((4, 4), 2.0, dtype=torch.float64))  # eval: all on


def test_dropout_is_off_while_scoring() -> None:
    torch.manual_seed(0)
    first, second = nn.Linear(64, 32), nn.Linear(32, 32)
    with_dropout = nn.Sequential(first, nn.ReLU(), nn.Dropout(0.5), second, nn.ReLU())
    without = nn.Sequential(first, nn.ReLU(), second, nn.ReLU())
    x = torch.randn(16, 64)
    assert torch.equal(naswot_kernel(with_dropout, x), naswot_kernel(without, x))


def test_the_model_is_left_as_it_was() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2))
    model.eval()
    model[1].train()  # a mix of modes, to be restored as it was
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    naswot_score(model, torch.randn(10, 8) + 3.0)
    assert [m.training for m in model.modules()] == modes
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # running stats included


def test_the_score_does_not_depend_on_the_order_of_the_batch() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
    x = torch.randn(24, 20)
    perm = torch.randperm(24)
    kernel, permuted = naswot_kernel(model, x), naswot_kernel(model, x[perm])
    assert torch.equal(permuted, kernel[perm][:, perm])
    score = naswot_score(model, x)
    assert math.isfinite(score)
    assert naswot_score(model, x[perm]) == pytest.approx(score, rel=1e-9)


def test_two_inputs_with_one_code_score_minus_infinity() -> None:
    model = nn.Sequential(linear(FIRST), nn.ReLU())
    assert naswot_score(model, X[[0, 1, 0]]) == -math.inf


def test_more_inputs_than_units_plus_one_score_minus_infinity() -> None:
    # four distinct codes 11, 10, 00, 01 on N_A = 2 units: rank K_H <= N_A + 1 = 3 < 4
    model = nn.Sequential(linear(FIRST), nn.ReLU())
    x = torch.cat([X, torch.tensor([[0.0, -1.0]])])
    kernel = naswot_kernel(model, x)
    assert int(torch.linalg.matrix_rank(kernel)) == 3
    assert naswot_score(model, x) == -math.inf
    assert naswot_score(model, x[:3]) == pytest.approx(math.log(4.0))  # three of them: fine


def test_a_model_without_relu_modules_raises() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(2, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.relu(self.linear(x))

    for model in (nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)), Functional()):
        with pytest.raises(ValueError, match="has none"):
            naswot_score(model, X)


def test_a_relu_module_that_never_runs_raises() -> None:
    class Unused(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear, self.relu = nn.Linear(2, 2), nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.relu(self.linear(x))

    with pytest.raises(ValueError, match="none of the 1 rectifier modules of Unused ran"):
        naswot_score(Unused(), X)


def test_smooth_activations_count_by_their_input_sign_only_when_named() -> None:
    gelu = nn.Sequential(linear(FIRST), nn.GELU())
    with pytest.raises(ValueError, match="has none"):
        naswot_kernel(gelu, X)
    relu = nn.Sequential(linear(FIRST), nn.ReLU())
    assert torch.equal(naswot_kernel(gelu, X, activations=(nn.GELU,)), naswot_kernel(relu, X))


# --- on real data ------------------------------------------------------------------------------


def mlp(width: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10)
    )


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> torch.Tensor:
    data = load_task("digits", 0, Path(tmp_path_factory.mktemp("cache")))
    return data.x_train[:64]


def test_wider_mlps_score_higher_on_digits(digits: torch.Tensor) -> None:
    scores = {width: naswot_score(mlp(width, 0), digits) for width in (4, 32, 48, 64, 256)}
    assert scores[4] == -math.inf  # 8 units: 64 inputs cannot all get distinct codes
    assert scores[32] == -math.inf  # 64 units, but K_H is rank-deficient (about 50)
    assert 0 < scores[48] < scores[64] < scores[256]


def test_the_score_is_deterministic_for_a_fixed_seed(digits: torch.Tensor) -> None:
    first = naswot_score(mlp(64, 0), digits)
    assert naswot_score(mlp(64, 0), digits) == first
    assert naswot_score(mlp(64, 1), digits) != first  # the seed does matter
