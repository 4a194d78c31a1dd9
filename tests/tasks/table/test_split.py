"""A table's splits: fixed by the seed, stratified, whole groups, and train before test in time."""

from __future__ import annotations

import numpy as np

from automl_bench.tasks.table.split import SplitBy, split_rows

N = 500


def sizes(split: object) -> tuple[int, int, int]:
    return tuple(len(getattr(split, k)) for k in ("train", "val", "test"))  # type: ignore[return-value]


def test_the_seed_fixes_the_splits_and_they_cover_every_row_once() -> None:
    labels = np.arange(N) % 3
    first, again = (
        split_rows(N, SplitBy(labels=labels), 0),
        split_rows(N, SplitBy(labels=labels), 0),
    )
    other = split_rows(N, SplitBy(labels=labels), 1)
    for k in ("train", "val", "test"):
        assert np.array_equal(getattr(first, k), getattr(again, k))
    assert not np.array_equal(first.test, other.test)
    every = np.concatenate([first.train, first.val, first.test])
    assert np.array_equal(np.sort(every), np.arange(N))
    assert sizes(first) == (320, 80, 100)  # test 20%, then validation 20% of the rest


def test_classification_splits_are_stratified() -> None:
    labels = (np.arange(N) % 10 == 0).astype(np.int64)  # a 10% class
    split = split_rows(N, SplitBy(labels=labels), 3)
    for rows in (split.train, split.val, split.test):
        assert abs(labels[rows].mean() - 0.1) < 0.02


def test_a_class_too_small_to_stratify_falls_back_to_a_plain_split() -> None:
    labels = np.zeros(N, dtype=np.int64)
    labels[0] = 1  # one row: cannot be on both sides
    split = split_rows(N, SplitBy(labels=labels), 0)
    assert sum(sizes(split)) == N


def test_no_group_is_on_both_sides_of_any_split() -> None:
    groups = np.arange(N) // 7  # 72 groups of about 7 rows
    for seed in range(3):
        split = split_rows(N, SplitBy(groups=groups), seed)
        train, val, test = (set(groups[r]) for r in (split.train, split.val, split.test))
        assert not (train & val) and not (train & test) and not (val & test)
        assert all(sizes(split))


def test_a_time_split_puts_train_before_validation_before_test_whatever_the_seed() -> None:
    rng = np.random.default_rng(0)
    times = rng.integers(0, 100, N)  # many rows share a time
    splits = [split_rows(N, SplitBy(times=times), seed) for seed in (0, 1)]
    assert np.array_equal(splits[0].test, splits[1].test)
    split = splits[0]
    assert times[split.train].max() < times[split.val].min()
    assert times[split.val].max() < times[split.test].min()
    assert 0.1 < len(split.test) / N < 0.3


def test_with_test_data_only_train_and_validation_are_drawn() -> None:
    split = split_rows(N, SplitBy(), 0, n_test_rows=30)
    assert split.test_in_test_data and np.array_equal(split.test, np.arange(30))
    assert len(split.train) + len(split.val) == N and len(split.val) == 100
