"""A fitted scikit-learn estimator's size and work per prediction, in the deploy record's terms:
``params`` (what it stores to predict) and ``flops`` (what one prediction costs).

A network's figures are counted exactly (parameters; FLOPs by torch's flop counter); an
estimator's are a documented estimate of the same things:

- trees (a forest, gradient boosting): ``params`` is the number of nodes over all trees;
  ``flops`` the comparisons along each tree's deepest path (an upper bound of the comparisons
  one row makes) plus one addition per tree output to combine the trees (a forest classifier
  averages a probability per class and tree);
- linear models: ``params`` is the coefficients plus the intercepts; ``flops`` two per
  coefficient (a multiply and an add);
- any other estimator: 0 for both (not known).

The transform's own work (imputing, scaling, one-hot encoding) is not counted, for nets as for
estimators: it is in the measured latency.

HistGradientBoosting keeps its trees in a private attribute (``_predictors``, a list per
iteration of ``TreePredictor``); it is read where it is there, else the model counts 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def estimator_params(estimator: Any) -> int:
    """Nodes over all trees, coefficients plus intercepts, or 0 for another kind."""
    trees = _tree_shapes(estimator)
    if trees is not None:
        return sum(nodes for nodes, _, _ in trees)
    if hasattr(estimator, "coef_"):
        return int(np.size(estimator.coef_) + np.size(getattr(estimator, "intercept_", 0)))
    return 0


def estimator_flops(estimator: Any) -> int:
    """Per prediction of one row: the comparisons down each tree's deepest path plus an
    addition per tree output, or two per coefficient, or 0 for another kind."""
    trees = _tree_shapes(estimator)
    if trees is not None:
        return sum(depth + outputs for _, depth, outputs in trees)
    if hasattr(estimator, "coef_"):
        return 2 * int(np.size(estimator.coef_))
    return 0


def _tree_shapes(estimator: Any) -> list[tuple[int, int, int]] | None:
    """(nodes, depth, outputs combined) per tree, or None for a model without trees."""
    if hasattr(estimator, "_predictors"):  # HistGradientBoosting: one tree per iteration/class
        return [
            (len(tree.nodes), int(np.max(tree.nodes["depth"])), 1)
            for per_iteration in estimator._predictors
            for tree in per_iteration
        ]
    if hasattr(estimator, "tree_"):  # a single decision tree
        estimators = [estimator]
    elif hasattr(estimator, "estimators_") and all(
        hasattr(e, "tree_") for e in np.ravel(estimator.estimators_)
    ):  # a forest (or GradientBoosting's array of trees)
        estimators = list(np.ravel(estimator.estimators_))
    else:
        return None
    return [
        (int(e.tree_.node_count), int(e.tree_.max_depth), int(np.prod(e.tree_.value.shape[1:])))
        for e in estimators
    ]
