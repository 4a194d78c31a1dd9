"""Meta-learning on the MAML sinusoid family: task streams, MAML / FOMAML, Reptile, ANIL and the
pretrain baseline.

No Ray, MLflow or runner here yet: these are the pieces the `maml`, `fomaml` and
`pretrain_finetune` methods will be built on.
"""

from __future__ import annotations

from automl_bench.meta.algorithms import (
    HEAD,
    MetaSettings,
    ReptileSettings,
    TrainResult,
    adapt,
    adapt_head,
    anil_step,
    anil_train,
    graph_bytes,
    init_params,
    maml_step,
    meta_train,
    pretrain,
    reptile_step,
    reptile_train,
)
from automl_bench.meta.evaluate import AdaptationResult, evaluate_adaptation
from automl_bench.meta.sinusoid import (
    META_TEST_SEED,
    META_TRAIN_SEED,
    TaskBatch,
    sample_tasks,
    task_stream,
)

__all__ = [
    "HEAD",
    "META_TEST_SEED",
    "META_TRAIN_SEED",
    "AdaptationResult",
    "MetaSettings",
    "ReptileSettings",
    "TaskBatch",
    "TrainResult",
    "adapt",
    "adapt_head",
    "anil_step",
    "anil_train",
    "evaluate_adaptation",
    "graph_bytes",
    "init_params",
    "maml_step",
    "meta_train",
    "pretrain",
    "reptile_step",
    "reptile_train",
    "sample_tasks",
    "task_stream",
]

from automl_bench.meta.fewshot import (
    MNIST1D_META_TEST_CLASSES,
    Episodes,
    EpisodeSampler,
    FewShotSplit,
    class_split,
    digits_split,
    mnist1d_split,
    split_samplers,
)
from automl_bench.meta.protonet import (
    FewShotResult,
    ProtoResult,
    ProtoSettings,
    make_embedding,
    pretrain_classifier,
    proto_logits,
    protonet_evaluate,
    protonet_train,
)

__all__ += [
    "MNIST1D_META_TEST_CLASSES",
    "EpisodeSampler",
    "Episodes",
    "FewShotResult",
    "FewShotSplit",
    "ProtoResult",
    "ProtoSettings",
    "class_split",
    "digits_split",
    "make_embedding",
    "mnist1d_split",
    "pretrain_classifier",
    "proto_logits",
    "protonet_evaluate",
    "protonet_train",
    "split_samplers",
]
