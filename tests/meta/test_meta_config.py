"""Meta-learning configs: what is refused before anything starts, and what each method trains."""

from __future__ import annotations

from typing import Any

import pytest

from automl_bench.config import parse_config
from automl_bench.errors import ConfigError
from automl_bench.meta.configs import algorithm_config
from automl_bench.metric import MSE
from automl_bench.scoring import reference_method, task_metric


def _config(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "experiment": "m",
        "task": "sinusoid",
        "space": "search_spaces/maml.py",
        "methods": ["pretrain_finetune", "maml"],
        "seeds": [0],
    }
    raw.update(changes)
    return raw


def test_a_meta_config_parses_with_the_paper_defaults() -> None:
    config = parse_config(_config())
    assert config.meta.eval_steps == [1, 5, 10] and config.meta.primary_steps == 10
    assert config.meta.test_tasks == 600
    assert task_metric("sinusoid") == MSE and reference_method("sinusoid") == "pretrain_finetune"
    assert task_metric("mnist1d").name == "accuracy" and reference_method("mnist1d") == "baseline"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"methods": ["maml"]}, "methods", "must include 'pretrain_finetune'"),
        ({"methods": ["pretrain_finetune", "protonet"]}, "methods", "runs maml, fomaml"),
        ({"methods": ["pretrain_finetune", "asha"]}, "methods", "got 'asha'"),
        (
            {"task": "fewshot_mnist1d", "methods": ["pretrain_finetune", "tpe"]},
            "methods",
            "runs protonet, pretrain_finetune; got 'tpe'",
        ),
        (
            {"task": "mnist1d", "methods": ["baseline", "maml"]},
            "methods",
            "maml is a meta-learning method",
        ),
        ({"meta": {"test_tasks": 100}}, "meta.test_tasks", "600"),
        ({"meta": {"eval_steps": [1, 5], "primary_steps": 10}}, "meta", "primary_steps"),
        ({"meta": {"iterations": 0}}, "meta.iterations", "greater than 0"),
        ({"meta": {"inner_lr": 0.1}}, "meta.inner_lr", "unknown field"),
        (
            {"methods": ["pretrain_finetune", "warmstart"]},
            "search.warmstart_from",
            "earlier experiments",
        ),
    ],
)
def test_bad_meta_configs_are_refused_naming_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_config(**changes))
    assert caught.value.field == field, str(caught.value)
    assert words in caught.value.message, caught.value.message
    assert "\n" not in str(caught.value)


def test_each_meta_method_trains_the_space_baseline_with_its_own_choices() -> None:
    base = {"inner_lr": 0.01, "inner_steps": 1, "meta_batch": 25, "first_order": False}
    assert algorithm_config("maml", base) == {**base, "algorithm": "maml"}
    assert algorithm_config("fomaml", base)["first_order"] is True
    reptile = algorithm_config("reptile", base)
    assert (reptile["algorithm"], reptile["inner_steps"], reptile["step_size"]) == (
        "reptile",
        5,
        1.0,
    )
    assert algorithm_config("anil", base)["algorithm"] == "anil"
    assert base == {"inner_lr": 0.01, "inner_steps": 1, "meta_batch": 25, "first_order": False}
