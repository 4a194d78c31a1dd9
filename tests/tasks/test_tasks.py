from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from automl_bench.tasks import TASKS, load_task, make_splits


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_mnist1d_is_generated_with_the_default_arguments(cache: Path) -> None:
    arrays = TASKS["mnist1d"].arrays(cache)
    assert arrays.x.shape == (4000, 40) and arrays.x_test is not None
    assert arrays.x_test.shape == (1000, 40)
    assert set(np.unique(arrays.y)) == set(range(10))
    assert (cache / "mnist1d-default.npz").is_file()
    again = TASKS["mnist1d"].arrays(cache)  # read back from the cache: identical
    np.testing.assert_array_equal(arrays.x, again.x)


def test_mnist1d_generation_leaves_global_random_state_alone(tmp_path: Path) -> None:
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    TASKS["mnist1d"].arrays(tmp_path)
    assert np.random.rand() == expected


@pytest.mark.parametrize("name", sorted(TASKS))
def test_splits_are_fixed_by_the_seed_and_disjoint(name: str, cache: Path) -> None:
    arrays = TASKS[name].arrays(cache)
    a, b, c = make_splits(arrays, 0), make_splits(arrays, 0), make_splits(arrays, 1)
    np.testing.assert_array_equal(a.x_train, b.x_train)  # same seed: same splits for every method
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.x_val, c.x_val)  # another seed: another split
    rows = lambda x: {r.tobytes() for r in x}  # noqa: E731
    assert not rows(a.x_train) & rows(a.x_val)
    assert not rows(a.x_val) & rows(a.x_test)
    total = len(a.x_train) + len(a.x_val) + len(a.x_test)
    assert total == len(arrays.x) + (0 if arrays.x_test is None else len(arrays.x_test))
    # stratified: every class in every split
    n_classes = TASKS[name].info.num_classes
    for y in (a.y_train, a.y_val, a.y_test):
        assert len(np.unique(y)) == n_classes


def test_mnist1d_keeps_its_published_test_set(cache: Path) -> None:
    arrays = TASKS["mnist1d"].arrays(cache)
    for seed in (0, 1):
        assert arrays.x_test is not None
        np.testing.assert_array_equal(make_splits(arrays, seed).x_test, arrays.x_test)


def test_tabular_features_are_scaled_with_train_statistics_only(cache: Path) -> None:
    data = load_task("wine", 0, cache)
    assert data.x_train.mean(0).abs().max() < 1e-5
    assert (data.x_train.std(0, unbiased=False) - 1).abs().max() < 1e-4
    assert data.x_test.mean(0).abs().max() > 1e-3  # test is not re-centred on itself


def test_load_task_gives_tensors_of_the_declared_shape(cache: Path) -> None:
    for name, task in TASKS.items():
        data = load_task(name, 0, cache)
        assert tuple(data.x_train.shape[1:]) == task.info.input_shape
        assert int(data.y_train.max()) == task.info.num_classes - 1
