"""Few-shot classification episodes (class split, and for MNIST-1D an example split too),
Prototypical Networks and the pretrain-then-nearest-centroid baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from automl_bench.errors import ConfigError
from automl_bench.meta import (
    EpisodeSampler,
    ProtoSettings,
    class_split,
    digits_split,
    mnist1d_split,
    pretrain_classifier,
    protonet_evaluate,
    protonet_train,
)
from automl_bench.tasks import TASKS


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _rows(x: np.ndarray | torch.Tensor) -> set[bytes]:
    return {r.tobytes() for r in np.asarray(x, dtype=np.float32)}


def test_class_split_and_its_validation_name_the_field(cache: Path) -> None:
    assert class_split(10, 4) == ((0, 1, 2, 3, 4, 5), (6, 7, 8, 9))
    assert class_split(10, [0, 9]) == ((1, 2, 3, 4, 5, 6, 7, 8), (0, 9))
    for bad in (0, 10, [], list(range(10)), [3, 3], [10], True):
        with pytest.raises(ConfigError) as err:
            class_split(10, bad)
        assert err.value.field == "meta_test_classes"
    x, y = np.zeros((40, 3), np.float32), np.arange(40) % 4
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ConfigError) as err:
        EpisodeSampler(x, y, (0, 1, 2), 4, 1, 1, gen)  # 4-way from 3 classes
    assert err.value.field == "n_way"
    assert "at most 3" in str(err.value)
    with pytest.raises(ConfigError) as err:
        EpisodeSampler(x, y, (0, 1, 2), 2, 0, 1, gen)
    assert err.value.field == "k_shot"
    with pytest.raises(ConfigError) as err:
        EpisodeSampler(x, y, (0, 1, 2), 2, 8, 5, gen)  # 13 > the 10 examples of each class
    assert err.value.field == "k_shot"
    with pytest.raises(ConfigError) as err:
        mnist1d_split(cache, n_way=5, meta_test_classes=4)  # 5-way from 6-9
    assert err.value.field == "n_way"
    with pytest.raises(ConfigError) as err:
        ProtoSettings(iterations=0)
    assert err.value.field == "iterations"


def test_mnist1d_meta_train_never_sees_a_meta_test_class_or_example(cache: Path) -> None:
    arrays = TASKS["mnist1d"].arrays(cache)
    assert arrays.x_test is not None and arrays.y_test is not None
    split = mnist1d_split(cache, n_way=5, k_shot=5, k_query=15, meta_test_classes=[5, 6, 7, 8, 9])
    train, test = split.meta_train, split.meta_test
    assert set(train.classes) == {0, 1, 2, 3, 4} and set(test.classes) == {5, 6, 7, 8, 9}
    # The samplers hold MNIST-1D's own training and test examples, respectively.
    assert torch.equal(train.y, torch.as_tensor(arrays.y))
    assert torch.equal(test.y, torch.as_tensor(arrays.y_test))
    test_rows = _rows(test.x)
    train_rows = _rows(train.x)
    assert not train_rows & test_rows  # no example shared, after the same standardization
    seen_classes: set[int] = set()
    seen_rows: set[bytes] = set()
    for _ in range(20):
        ep = train.sample(25)  # 500 meta-train episodes
        for index in (ep.support_index, ep.query_index):
            original = train.y[index]
            assert not torch.isin(original, torch.tensor(test.classes)).any()
            seen_classes |= {int(c) for c in original.unique()}
        seen_rows |= _rows(torch.cat([ep.support_x, ep.query_x], 1).reshape(-1, 40))
    assert seen_classes == {0, 1, 2, 3, 4}
    assert not seen_rows & test_rows
    assert seen_rows <= train_rows
    meta_test = test.sample(50)
    assert not torch.isin(test.y[meta_test.support_index], torch.tensor(train.classes)).any()


@pytest.mark.parametrize(("n_way", "k_shot", "k_query"), [(5, 5, 15), (3, 1, 4)])
def test_episodes_have_the_right_shapes_and_relabelled_labels(
    cache: Path, n_way: int, k_shot: int, k_query: int
) -> None:
    split = mnist1d_split(cache, n_way=n_way, k_shot=k_shot, k_query=k_query, seed=3)
    for sampler in (split.meta_train, split.meta_test):
        ep = sampler.sample(7)
        assert ep.support_x.shape == (7, n_way * k_shot, 40)
        assert ep.query_x.shape == (7, n_way * k_query, 40)
        assert ep.support_y.shape == (7, n_way * k_shot)
        assert ep.classes.shape == (7, n_way)
        for b in range(7):
            assert len(set(ep.classes[b].tolist())) == n_way  # distinct classes
            for label in range(n_way):
                original = int(ep.classes[b, label])
                s = ep.support_index[b][ep.support_y[b] == label]
                q = ep.query_index[b][ep.query_y[b] == label]
                assert len(s) == k_shot and len(q) == k_query
                assert (sampler.y[s] == original).all() and (sampler.y[q] == original).all()
                assert not set(s.tolist()) & set(q.tolist())  # support and query apart
            assert torch.equal(ep.support_x[b], sampler.x[ep.support_index[b]])
        assert ep.support_y.min() == 0 and ep.support_y.max() == n_way - 1


def test_digits_split_is_a_class_split() -> None:
    split = digits_split(n_way=5, k_shot=1, k_query=5)
    assert not set(split.meta_train.classes) & set(split.meta_test.classes)
    ep = split.meta_train.sample(4)
    assert ep.support_x.shape == (4, 5, 64)
    assert not torch.isin(ep.classes, torch.tensor(split.meta_test.classes)).any()


@pytest.mark.slow  # a whole meta-training run and 1,200 evaluation episodes
def test_protonet_beats_chance_on_5way_5shot_mnist1d(cache: Path) -> None:
    settings = ProtoSettings(iterations=200)
    split = mnist1d_split(cache, n_way=5, k_shot=5, k_query=15)
    proto = protonet_train(settings, split.meta_train, seed=0)
    result = protonet_evaluate(proto.model, split.meta_test, n_episodes=600)
    base_model = pretrain_classifier(settings, split.meta_train, seed=0).model
    fresh = mnist1d_split(cache, n_way=5, k_shot=5, k_query=15).meta_test  # new draw, same seed
    baseline = protonet_evaluate(base_model, fresh, n_episodes=600)
    print(f"\nProtoNets  {result.line()}\npretrain+NC {baseline.line()}")
    assert result.accuracy.n == 600 and result.accuracy.low is not None
    assert result.accuracy.low > 0.35  # chance is 0.20
    assert baseline.accuracy.estimate > 0.20
