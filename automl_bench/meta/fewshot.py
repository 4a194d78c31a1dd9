"""N-way K-shot classification episodes from a labelled array set, classes split between
meta-training and meta-test.

An episode draws ``n_way`` classes, then ``k_shot`` support and ``k_query`` query examples of each
(without replacement); labels are relabelled 0..n_way-1 in the order the classes were drawn.
Episodes are batched: support x (B, N*K, ...), query x (B, N*Q, ...), class-major (the first K
support examples are class 0, and so on).

No meta-test class appears in meta-training (``class_split``). MNIST-1D has only ten classes, so
the default split is classes 0-4 for meta-training and 5-9 for meta-test (5-way on both sides;
configurable, e.g. 0-5 / 6-9 for 4-way meta-test), and the examples are kept apart as well:
meta-train episodes draw from MNIST-1D's training examples, meta-test episodes from its test
examples. Both sides are standardized with the meta-train examples' mean and std.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from automl_bench.errors import ConfigError
from automl_bench.meta.checks import count

MNIST1D_META_TEST_CLASSES = (5, 6, 7, 8, 9)  # 5-way meta-test needs five classes


def class_split(
    num_classes: int, meta_test_classes: int | Sequence[int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(meta-train classes, meta-test classes) of 0..num_classes-1.

    ``meta_test_classes`` is a count (the last that many classes) or the classes themselves.
    """
    if isinstance(meta_test_classes, bool):
        raise ConfigError("meta_test_classes", f"a count or a list, got {meta_test_classes!r}")
    if isinstance(meta_test_classes, int):
        if not 1 <= meta_test_classes < num_classes:
            raise ConfigError(
                "meta_test_classes",
                f"a count from 1 to {num_classes - 1} (of {num_classes} classes), "
                f"got {meta_test_classes}",
            )
        test = tuple(range(num_classes - meta_test_classes, num_classes))
    else:
        test = tuple(sorted(set(int(c) for c in meta_test_classes)))
        if len(test) != len(meta_test_classes):
            raise ConfigError("meta_test_classes", f"repeats a class: {list(meta_test_classes)}")
        if not test or len(test) >= num_classes:
            raise ConfigError(
                "meta_test_classes",
                f"1 to {num_classes - 1} classes, got {len(test)}",
            )
        if test[0] < 0 or test[-1] >= num_classes:
            raise ConfigError(
                "meta_test_classes", f"classes in 0..{num_classes - 1}, got {list(test)}"
            )
    train = tuple(c for c in range(num_classes) if c not in test)
    return train, test


@dataclass(frozen=True)
class Episodes:
    """B episodes. ``classes`` (B, N): the original class of each relabelled label;
    ``support_index`` / ``query_index``: rows of the sampler's ``x`` that were drawn."""

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    classes: torch.Tensor
    support_index: torch.Tensor
    query_index: torch.Tensor

    @property
    def n(self) -> int:
        return int(self.support_x.shape[0])


class EpisodeSampler:
    """Episodes over the examples of ``x``, ``y`` whose class is in ``classes`` (others ignored)."""

    def __init__(
        self,
        x: np.ndarray | torch.Tensor,
        y: np.ndarray | torch.Tensor,
        classes: Sequence[int],
        n_way: int,
        k_shot: int,
        k_query: int,
        generator: torch.Generator,
    ) -> None:
        self.x = torch.as_tensor(x, dtype=torch.float32)
        self.y = torch.as_tensor(y, dtype=torch.int64)
        self.classes = tuple(int(c) for c in classes)
        self.n_way = count("n_way", n_way)
        self.k_shot = count("k_shot", k_shot)
        self.k_query = count("k_query", k_query)
        self.generator = generator
        if n_way > len(self.classes):
            raise ConfigError(
                "n_way", f"at most {len(self.classes)} (the classes available), got {n_way}"
            )
        self._rows: list[torch.Tensor] = []
        for c in self.classes:
            rows = torch.nonzero(self.y == c).flatten()
            if len(rows) < k_shot + k_query:
                raise ConfigError(
                    "k_shot",
                    f"k_shot + k_query = {k_shot + k_query} exceeds the {len(rows)} examples "
                    f"of class {c}",
                )
            self._rows.append(rows)

    def sample(self, batch: int) -> Episodes:
        count("batch", batch)
        n, k, q = self.n_way, self.k_shot, self.k_query
        chosen = torch.stack(
            [torch.randperm(len(self.classes), generator=self.generator)[:n] for _ in range(batch)]
        )
        support_index = torch.empty(batch, n, k, dtype=torch.int64)
        query_index = torch.empty(batch, n, q, dtype=torch.int64)
        for b in range(batch):
            for i in range(n):
                rows = self._rows[int(chosen[b, i])]
                pick = rows[torch.randperm(len(rows), generator=self.generator)[: k + q]]
                support_index[b, i] = pick[:k]
                query_index[b, i] = pick[k:]
        support_index = support_index.reshape(batch, n * k)
        query_index = query_index.reshape(batch, n * q)
        labels = torch.arange(n)
        class_ids = torch.tensor(self.classes)[chosen]
        return Episodes(
            support_x=self.x[support_index],
            support_y=labels.repeat_interleave(k).expand(batch, n * k).clone(),
            query_x=self.x[query_index],
            query_y=labels.repeat_interleave(q).expand(batch, n * q).clone(),
            classes=class_ids,
            support_index=support_index,
            query_index=query_index,
        )

    def examples(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All the sampler's examples (its classes only) with their original labels."""
        keep = torch.isin(self.y, torch.tensor(self.classes))
        return self.x[keep], self.y[keep]


@dataclass(frozen=True)
class FewShotSplit:
    meta_train: EpisodeSampler
    meta_test: EpisodeSampler


def split_samplers(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    num_classes: int,
    meta_test_classes: int | Sequence[int],
    n_way: int,
    k_shot: int,
    k_query: int,
    seed: int,
) -> FewShotSplit:
    """Meta-train episodes from ``train``'s examples of the meta-train classes, meta-test episodes
    from ``test``'s examples of the meta-test classes; both standardized with ``train``'s mean
    and std. Meta-train and meta-test use different generators (``seed`` and ``seed + 1``)."""
    train_classes, test_classes = class_split(num_classes, meta_test_classes)
    seen = np.asarray(train[0])[np.isin(np.asarray(train[1]), train_classes)]
    mean, std = float(seen.mean()), float(seen.std()) or 1.0  # meta-train examples only

    def sampler(
        xy: tuple[np.ndarray, np.ndarray], classes: tuple[int, ...], s: int
    ) -> EpisodeSampler:
        x = (np.asarray(xy[0], dtype=np.float32) - mean) / std
        gen = torch.Generator().manual_seed(s)
        return EpisodeSampler(x, xy[1], classes, n_way, k_shot, k_query, gen)

    return FewShotSplit(sampler(train, train_classes, seed), sampler(test, test_classes, seed + 1))


def mnist1d_split(
    cache_dir: Path,
    n_way: int = 5,
    k_shot: int = 5,
    k_query: int = 15,
    meta_test_classes: int | Sequence[int] = MNIST1D_META_TEST_CLASSES,
    seed: int = 0,
) -> FewShotSplit:
    """MNIST-1D episodes: meta-train classes from its training examples, meta-test classes from its
    test examples (default meta-test classes 5-9; ``n_way`` must not exceed either side's
    classes)."""
    from automl_bench.tasks import TASKS

    arrays = TASKS["mnist1d"].arrays(cache_dir)
    assert arrays.x_test is not None and arrays.y_test is not None
    return split_samplers(
        (arrays.x, arrays.y),
        (arrays.x_test, arrays.y_test),
        10,
        meta_test_classes,
        n_way,
        k_shot,
        k_query,
        seed,
    )


def digits_split(
    n_way: int = 5,
    k_shot: int = 1,
    k_query: int = 5,
    meta_test_classes: int | Sequence[int] = 5,
    seed: int = 0,
) -> FewShotSplit:
    """scikit-learn's 8x8 digits, a sanity check only: ten classes are too few for a meta-learning
    benchmark (a handful of meta-train classes, and every meta-test episode re-draws the same few
    meta-test classes). The classes are split; examples of different classes are distinct anyway."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    return split_samplers((x, y), (x, y), 10, meta_test_classes, n_way, k_shot, k_query, seed)
