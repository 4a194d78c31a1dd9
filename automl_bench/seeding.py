"""Which seed drives what. One study seed fixes its splits; init seeds derive from it.

- splits: the study seed itself, so every method at that seed sees the same data (paired design);
- search trials: the study seed (common random numbers across the configurations compared);
- final training: ``FINAL_OFFSET + seed``, a fresh initialisation, so the chosen configuration's
  test score does not inherit the lucky draw it was selected on. The baseline gets the same.
"""

from __future__ import annotations

FINAL_OFFSET = 1_000


def init_seed(study_seed: int, phase: str) -> int:
    return study_seed + FINAL_OFFSET if phase == "final" else study_seed
