"""Each meta-learning method's settings, as the configuration its study trains.

A meta-learning study does not search: it meta-trains one configuration, the space's ``baseline``
(the MAML paper's settings in ``search_spaces/maml.py``; ProtoNets' in
``search_spaces/protonet.py``) with the method's own choices over it, so the configuration in
MLflow says exactly what ran. A search (``tpe`` on the sinusoid family) samples the same keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# what each algorithm changes in the space's baseline
OVERRIDES: dict[str, dict[str, Any]] = {
    "maml": {"algorithm": "maml", "first_order": False},
    "fomaml": {"algorithm": "maml", "first_order": True},
    # Nichol et al.'s sinusoid setting: several inner steps, the outer step towards their end
    "reptile": {"algorithm": "reptile", "inner_steps": 5, "step_size": 1.0},
    "anil": {"algorithm": "anil", "first_order": False},
    "protonet": {"algorithm": "protonet"},
    "pretrain_finetune": {"algorithm": "pretrain_finetune"},
}


def algorithm_config(method: str, baseline: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration a meta-learning method trains: ``baseline`` with its overrides."""
    return {**baseline, **OVERRIDES[method]}
