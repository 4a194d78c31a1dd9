"""Which rows of a table are train, validation and test at a seed.

As for the built-in tasks (``automl_bench.tasks.splits``): the test split is ``TEST_FRACTION`` of
the rows, then validation is ``VAL_FRACTION`` of the rest, and the seed alone decides them, so
every method at a seed sees the same rows. Classification splits are stratified where every class
has enough rows for it (at least two, and as many held-out rows as classes). With a
``group_column`` whole groups go to one side (scikit-learn's ``GroupShuffleSplit``); with a
``time_column`` the rows are sorted by time and the latest go to the held-out side, rows of one
time never on both sides (the seed changes nothing then). With ``test_data`` that file is the
test split and only train / validation are drawn from ``data``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from automl_bench.tasks.splits import TEST_FRACTION, VAL_FRACTION

Rows = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RowSplit:
    """Row numbers of each split: ``train`` and ``val`` in data, ``test`` in data or test_data."""

    train: Rows
    val: Rows
    test: Rows
    test_in_test_data: bool = False


@dataclass(frozen=True)
class SplitBy:
    """What a split keeps together or in order: labels to stratify, groups, or times."""

    labels: npt.NDArray[np.int64] | None = None  # class codes (classification)
    groups: npt.NDArray[np.int64] | None = None  # group codes
    times: npt.NDArray[np.generic] | None = None  # sortable times


def split_rows(n_rows: int, by: SplitBy, seed: int, n_test_rows: int | None = None) -> RowSplit:
    """Train / validation / test rows of ``n_rows`` at ``seed``; with ``n_test_rows`` (the rows
    of test_data), test is all of test_data and only validation is drawn from data."""
    rows = np.arange(n_rows, dtype=np.int64)
    if n_test_rows is None:
        rest, test = hold_out(rows, by, TEST_FRACTION, seed)
    else:
        rest, test = rows, np.arange(n_test_rows, dtype=np.int64)
    train, val = hold_out(rest, by, VAL_FRACTION, seed)
    return RowSplit(train, val, test, test_in_test_data=n_test_rows is not None)


def hold_out(rows: Rows, by: SplitBy, fraction: float, seed: int) -> tuple[Rows, Rows]:
    """``rows`` cut in two: the rest, and about ``fraction`` of them held out."""
    if by.times is not None:
        return _by_time(rows, by.times[rows], fraction)
    if by.groups is not None:
        return _by_group(rows, by.groups[rows], fraction, seed)
    from sklearn.model_selection import train_test_split

    labels = None if by.labels is None else by.labels[rows]
    stratify = labels if labels is not None and _can_stratify(labels, fraction) else None
    rest, held = train_test_split(rows, test_size=fraction, random_state=seed, stratify=stratify)
    return np.sort(rest), np.sort(held)


def _can_stratify(labels: npt.NDArray[np.int64], fraction: float) -> bool:
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    held = int(np.ceil(fraction * len(labels)))
    return bool(counts.min() >= 2 and held >= len(counts) and len(labels) - held >= len(counts))


def _by_group(
    rows: Rows, groups: npt.NDArray[np.int64], fraction: float, seed: int
) -> tuple[Rows, Rows]:
    from sklearn.model_selection import GroupShuffleSplit

    cut = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    rest, held = next(cut.split(rows, groups=groups))
    return rows[np.sort(rest)], rows[np.sort(held)]


def _by_time(rows: Rows, times: npt.NDArray[np.generic], fraction: float) -> tuple[Rows, Rows]:
    order = np.argsort(times, kind="stable")
    ordered = times[order]
    cut = len(rows) - max(1, round(fraction * len(rows)))
    # rows of one time stay on one side: the held-out side
    cut = int(np.searchsorted(ordered, ordered[cut], side="left"))
    if cut == 0:  # one time for (nearly) all rows: cut at the first later time instead
        cut = int(np.searchsorted(ordered, ordered[0], side="right"))
    return np.sort(rows[order[:cut]]), np.sort(rows[order[cut:]])
