"""A study: one method with one seed on one task. The plan of an experiment is a list of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudySpec:
    """``n_trials`` search trials (0 for a baseline), then one final training of the best config.

    ``space`` names the search space the study draws from; a reference baseline (the
    hand-designed point of another space) is a study of method ``baseline`` on that space.
    """

    method: str
    seed: int
    space: str
    n_trials: int
    label: str  # the method's row in the results: "tpe", "baseline", "baseline:mlp"

    @property
    def key(self) -> str:
        return f"{self.label}/seed={self.seed}"
