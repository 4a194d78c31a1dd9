"""The methods a config can name: a registry of frozen data."""

from __future__ import annotations

from automl_bench.methods.base import Method, SamplerFactory
from automl_bench.methods.rea import rea_sampler
from automl_bench.methods.samplers import (
    motpe_sampler,
    nsga2_sampler,
    random_sampler,
    tpe_sampler,
)
from automl_bench.metric import BASELINE, PRETRAIN_FINETUNE

DEFAULTS = "defaults"

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(BASELINE, "the search space's hand-designed configuration, trained as given"),
        Method(
            DEFAULTS,
            "the search space's untuned configuration (a reference row)",
            fixed="defaults",
        ),
        Method("random", "random search over the space (Optuna RandomSampler)", random_sampler),
        Method("tpe", "tree-structured Parzen estimator (Optuna TPESampler)", tpe_sampler),
        Method(
            "rea",
            "regularized evolution: tournament selection, one mutation, the oldest removed "
            "(Real et al. 2019), as an Optuna sampler",
            rea_sampler,
        ),
        Method(
            "asha",
            "random search with asynchronous successive halving (Ray Tune's ASHA, epochs as the "
            "fidelity)",
            random_sampler,
            fidelity="asha",
        ),
        Method(
            "hyperband",
            "random search with asynchronous Hyperband (Ray Tune's ASHA over several brackets)",
            random_sampler,
            fidelity="hyperband",
        ),
        Method(
            "bohb",
            "TPE with asynchronous Hyperband (Optuna's TPE, Ray Tune's ASHA over brackets)",
            tpe_sampler,
            fidelity="hyperband",
        ),
        Method(
            "nsga2",
            "NSGA-II over validation accuracy and a cost objective (Optuna NSGAIISampler)",
            nsga2_sampler,
            multi_objective=True,
        ),
        Method(
            "motpe",
            "multi-objective TPE over validation accuracy and a cost objective",
            motpe_sampler,
            multi_objective=True,
        ),
        Method(
            "darts",
            "DARTS, first order (DARTS-V1): a supernet over the space's cell, its architecture "
            "weights and its weights trained in turn, the argmax cell retrained from scratch",
            one_shot=1,
        ),
        Method(
            "darts2",
            "DARTS, second order (DARTS-V2): the architecture gradient through one unrolled "
            "weight step",
            one_shot=2,
        ),
        Method(
            "naswot",
            "random architectures ranked by the NASWOT score at initialisation, untrained "
            "(Mellor et al. 2021); the best is trained in the final phase",
            random_sampler,
            proxy="naswot",
        ),
        Method(
            "warmstart",
            "TPE started from earlier studies on related tasks: their best configurations "
            "enqueued first, the space narrowed to the bounding box around them",
            tpe_sampler,
            warmstart=True,
        ),
        Method(
            "maml",
            "MAML, second order (Finn et al. 2017): the meta-gradient through the inner loop",
            meta="maml",
        ),
        Method(
            "fomaml", "first-order MAML: the inner loop's second derivatives dropped", meta="fomaml"
        ),
        Method(
            "reptile",
            "Reptile (Nichol et al. 2018): move towards the weights adapted to each task",
            meta="reptile",
        ),
        Method(
            "anil",
            "ANIL (Raghu et al. 2020): MAML with the inner loop on the head only",
            meta="anil",
        ),
        Method(
            "protonet",
            "Prototypical Networks (Snell et al. 2017): an embedding meta-trained on episodes, "
            "classes scored by distance to their support mean",
            meta="protonet",
        ),
        Method(
            PRETRAIN_FINETUNE,
            "the yardstick of meta-learning: pretrain on all the training tasks jointly, then "
            "fine-tune on the new task's support set (few-shot: nearest class centroid)",
            meta=PRETRAIN_FINETUNE,
        ),
    )
}


def get_method(name: str) -> Method:
    return METHODS[name]


__all__ = [
    "BASELINE",
    "DEFAULTS",
    "METHODS",
    "PRETRAIN_FINETUNE",
    "Method",
    "SamplerFactory",
    "get_method",
]
