"""The meta-learning task families a config can name as its ``task``, and the methods each runs.

A family is a distribution over tasks, not one data set: meta-training draws tasks from one part
of it, meta-validation (search trials) and meta-test (the final phase) from parts that never
overlap with it (different seeds for the sinusoid family; different classes, and different
examples, for the few-shot families).
"""

from __future__ import annotations

from dataclasses import dataclass

from automl_bench.metric import ACCURACY, MSE, Metric

SINUSOID, FEWSHOT_MNIST1D, FEWSHOT_DIGITS = "sinusoid", "fewshot_mnist1d", "fewshot_digits"


@dataclass(frozen=True)
class MetaFamily:
    name: str
    metric: Metric
    algorithms: tuple[str, ...]  # the meta-learning methods that run on it
    description: str
    # it has a meta-validation split, so a search (random, tpe, warmstart) can score trials
    searchable: bool = False


_FEWSHOT_ALGORITHMS = ("protonet", "pretrain_finetune")

META_FAMILIES: dict[str, MetaFamily] = {
    f.name: f
    for f in (
        MetaFamily(
            SINUSOID,
            MSE,
            ("maml", "fomaml", "reptile", "anil", "pretrain_finetune"),
            "sinusoid regression as in the MAML paper: amplitude U[0.1, 5], phase U[0, pi], "
            "x U[-5, 5]; query MSE after adapting on K support points",
            searchable=True,
        ),
        MetaFamily(
            FEWSHOT_MNIST1D,
            ACCURACY,
            _FEWSHOT_ALGORITHMS,
            "N-way K-shot episodes from MNIST-1D: classes 0-4 (training examples) for "
            "meta-training, 5-9 (test examples) for meta-test",
        ),
        MetaFamily(
            FEWSHOT_DIGITS,
            ACCURACY,
            _FEWSHOT_ALGORITHMS,
            "N-way K-shot episodes from scikit-learn's digits, classes split (a sanity check: "
            "ten classes are too few)",
        ),
    )
}
