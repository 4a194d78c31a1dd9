"""Two example tables made from data that ships inside scikit-learn: nothing is downloaded.

- ``breast_cancer``: scikit-learn's breast cancer set (569 rows, 30 measurements) with the target
  as words (``diagnosis``: ``malignant`` / ``benign``), column names in snake_case,
  ``mean_texture`` turned into
  words (``low`` / ``mid`` / ``high`` by its thirds, as ``texture_level``), and about 5% of the
  values of four columns removed: a classification table with a categorical column and missing
  values, as a user's file would have them.
- ``diabetes``: scikit-learn's diabetes set (442 rows, 10 measurements, unscaled) with its
  target ``progression``: a regression table.

Each is written once, as CSV, under ``cache_dir/tables/`` (through a temporary file, so that a
reader never sees half of one), with a fixed random generator: the same bytes every time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

EXAMPLE_TARGETS = {"breast_cancer": "diagnosis", "diabetes": "progression"}
EXAMPLES = tuple(EXAMPLE_TARGETS)
MISSING_SHARE = 0.05
_WITH_MISSING = ("mean_radius", "mean_smoothness", "worst_area", "texture_level")


def example_table(name: str, cache_dir: Path) -> Path:
    """The example table ``name``'s CSV file under ``cache_dir/tables/``, written on first use."""
    if name not in EXAMPLE_TARGETS:
        raise ValueError(f"no example table {name!r}; the examples: {', '.join(EXAMPLES)}")
    path = Path(cache_dir) / "tables" / f"example-{name}.csv"
    if path.exists():
        return path
    table = _breast_cancer() if name == "breast_cancer" else _diabetes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as file:
            table.to_csv(file, index=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    table = bunch.data.rename(columns=lambda name: name.replace(" ", "_"))
    texture = table.pop("mean_texture")
    thirds = np.quantile(texture, [1 / 3, 2 / 3])
    levels = np.array(["low", "mid", "high"], dtype=object)
    table["texture_level"] = levels[np.searchsorted(thirds, texture.to_numpy(), side="right")]
    rng = np.random.default_rng(0)
    for column in _WITH_MISSING:
        table[column] = table[column].mask(rng.random(len(table)) < MISSING_SHARE)
    names = np.asarray(bunch.target_names, dtype=object)
    table[EXAMPLE_TARGETS["breast_cancer"]] = names[bunch.target.to_numpy()]
    return table


def _diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    table = bunch.data.copy()
    table[EXAMPLE_TARGETS["diabetes"]] = bunch.target
    return table
