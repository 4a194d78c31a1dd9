"""The reference models of a table task: what a practitioner ships without any search.

Each is a search-space file (the contract of :mod:`automl_bench.space`) whose ``build`` returns
an unfitted scikit-learn estimator instead of a network: ``hist_gradient_boosting``,
``random_forest`` and ``linear`` (logistic regression for classification, ridge for regression).
Their ``baseline`` is scikit-learn's defaults written out, so the untuned model is exactly the
model scikit-learn gives; their ``space`` is the model's usual hyperparameters, for a TPE search
when a table config asks for ``tuned: true``.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent

# name (as a config's ``table.reference_models`` spells it) -> its search-space file
REFERENCE_MODELS: dict[str, Path] = {
    name: _HERE / f"{name}.py" for name in ("hist_gradient_boosting", "random_forest", "linear")
}


def is_estimator(obj: object) -> bool:
    """Whether ``obj`` is a scikit-learn estimator (what a reference model's ``build`` returns),
    as opposed to a torch network."""
    from sklearn.base import BaseEstimator

    return isinstance(obj, BaseEstimator)
