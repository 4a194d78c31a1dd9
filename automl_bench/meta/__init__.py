"""Meta-learning: the sinusoid family (MAML / FOMAML, Reptile, ANIL, the pretrain baseline),
few-shot episodes with Prototypical Networks, and the trial that runs them under the runner.

Names load on first use (``import automl_bench.meta`` starts no torch).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "AdaptationResult": "automl_bench.meta.evaluate",
    "evaluate_adaptation": "automl_bench.meta.evaluate",
    "EpisodeSampler": "automl_bench.meta.fewshot",
    "FINETUNE_LRS": "automl_bench.meta.evaluate",
    "Episodes": "automl_bench.meta.fewshot",
    "FewShotResult": "automl_bench.meta.protonet",
    "FewShotSplit": "automl_bench.meta.fewshot",
    "HEAD": "automl_bench.meta.algorithms",
    "META_TEST_SEED": "automl_bench.meta.sinusoid",
    "META_TRAIN_SEED": "automl_bench.meta.sinusoid",
    "MNIST1D_META_TEST_CLASSES": "automl_bench.meta.fewshot",
    "MetaSettings": "automl_bench.meta.algorithms",
    "ProtoResult": "automl_bench.meta.protonet",
    "ProtoSettings": "automl_bench.meta.protonet",
    "ReptileSettings": "automl_bench.meta.algorithms",
    "StepSizeChoice": "automl_bench.meta.evaluate",
    "TaskBatch": "automl_bench.meta.sinusoid",
    "TrainResult": "automl_bench.meta.algorithms",
    "adapt": "automl_bench.meta.algorithms",
    "adapt_head": "automl_bench.meta.algorithms",
    "anil_step": "automl_bench.meta.algorithms",
    "anil_train": "automl_bench.meta.algorithms",
    "choose_finetune_lr": "automl_bench.meta.evaluate",
    "class_split": "automl_bench.meta.fewshot",
    "digits_split": "automl_bench.meta.fewshot",
    "graph_bytes": "automl_bench.meta.algorithms",
    "init_params": "automl_bench.meta.algorithms",
    "make_embedding": "automl_bench.meta.protonet",
    "maml_step": "automl_bench.meta.algorithms",
    "meta_train": "automl_bench.meta.algorithms",
    "mnist1d_split": "automl_bench.meta.fewshot",
    "pretrain": "automl_bench.meta.algorithms",
    "pretrain_classifier": "automl_bench.meta.protonet",
    "proto_logits": "automl_bench.meta.protonet",
    "protonet_evaluate": "automl_bench.meta.protonet",
    "protonet_train": "automl_bench.meta.protonet",
    "reptile_step": "automl_bench.meta.algorithms",
    "reptile_train": "automl_bench.meta.algorithms",
    "sample_tasks": "automl_bench.meta.sinusoid",
    "split_samplers": "automl_bench.meta.fewshot",
    "task_stream": "automl_bench.meta.sinusoid",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
