"""Conformance checks for a search space: the checks the built-in spaces pass, for users' own.

A search space is user code that the rest of automl-bench trusts at every step: Ray's
OptunaSearch calls ``space`` on the driver, a trial seeds torch and calls ``build`` on a worker,
the trainer runs forward and backward passes, the baseline is trained as the reference. A
mistake there shows up late, on a cluster, as failed trials. These checks find it in seconds on
a CPU, and say in one line which file, which check and what is wrong, like scikit-learn's
``check_estimator`` and Optuna's sampler test suite. ``automl-bench check SPACE --task TASK``
runs them from the shell (one line, exit code 2, on a failure; one OK line on success), and
``automl-bench validate`` and ``run`` run them on a config's spaces before anything starts::

    from automl_bench.testing import check_search_space

    result = check_search_space("search_spaces/my_space.py", "mnist1d")  # raises on a failure
    print(result.line())

    # or one pytest test per check, as scikit-learn's parametrize_with_checks gives:
    @pytest.mark.parametrize("check", search_space_checks(), ids=str)
    def test_my_space(check: SpaceCheck) -> None:
        check("search_spaces/my_space.py", "mnist1d")

The checks, in order; a failure raises :class:`SearchSpaceCheckError` (a ``ConfigError``) whose
message is one line, ``space: <file>: check '<name>' failed: <what is wrong>``:

``loads``
    the file imports (it may import the files next to it) and defines ``space(trial)``,
    ``build(config, task)`` and a dict ``baseline``.
``space_returns_constants``
    ``space`` runs on ``n_random`` trials of a real study (``RandomSampler(seed)``, 59 by
    default: enough to catch a ``build`` that fails on 5 % of the space with probability 95 %;
    a small discrete space is enumerated instead: see ``sampling``) and on the baseline, and
    returns a dict of constants (or None)
    whose keys are not also suggested; replaying a trial's parameters through ``FixedTrial``
    gives the same configuration (``space`` is a function of the trial's answers, nothing else).
``baseline_in_space``
    every parameter ``space`` suggests for the baseline has a value in the baseline, inside the
    range or among the choices it is suggested from, and replaying the baseline through
    ``space`` gives it back (no key the space does not suggest or return).
``parameter_names``
    no parameter name contains ``/``: Ray Tune's OptunaSearch reads it as nesting.
``build_returns_module``
    ``build`` returns a ``torch.nn.Module`` for the baseline and each random configuration.
``forward_gives_logits``
    a batch of 7 random inputs of the task's shape (7 differs from every class count, so a
    transposed output cannot pass) gives a floating-point tensor of the task's output shape
    (logits (7, num_classes); see ``target`` for regression and embeddings), all finite (in eval
    mode, without gradients).
``build_is_reproducible``
    the same configuration built twice under the same torch seed (``seeding.init_seed``, as a
    trial seeds it) has equal ``state_dict`` s and gives equal outputs; the baseline built under
    the next seed has different weights (``build`` does not reseed).
``backward_reaches_parameters``
    in train mode, the task's loss of the output backpropagates and gives at least one
    parameter a gradient, and every gradient is finite.

``build`` and the forward pass run on every configuration drawn (within the time bound, see
``subject``); the seed and gradient checks on the baseline and the first few. The original
exception, when there is one, is the error's ``__cause__`` (pytest shows its traceback); the
message itself never holds one. The checks run on the CPU, on one thread, and leave torch's
global random state and thread count as they found them.
"""

from __future__ import annotations

from automl_bench.space_errors import SearchSpaceCheckError
from automl_bench.testing.checks import (
    SpaceCheck,
    SpaceCheckResult,
    check_search_space,
    search_space_checks,
)
from automl_bench.testing.sampling import N_RANDOM
from automl_bench.testing.subject import TIME_BOUND_S
from automl_bench.testing.target import CheckTarget

__all__ = [
    "N_RANDOM",
    "TIME_BOUND_S",
    "CheckTarget",
    "SearchSpaceCheckError",
    "SpaceCheck",
    "SpaceCheckResult",
    "check_search_space",
    "search_space_checks",
]
