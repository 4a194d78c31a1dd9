"""The conformance checks ``automl-bench validate`` and ``run`` make on a config's spaces.

They run after the config itself is valid and before anything starts (no Ray, no MLflow,
nothing written), on the config's task (its data folder for a folder task), within
``TIME_BOUND_S`` per space. Each space file is checked once per process for a task: a second
``validate`` of the same space and task in one process (the tests run many) reuses the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from automl_bench.space import SearchSpace
from automl_bench.space_errors import SearchSpaceCheckError
from automl_bench.tasks.base import TaskInfo
from automl_bench.testing.checks import CHECKS, SpaceCheckResult, run_checks
from automl_bench.testing.sampling import N_RANDOM
from automl_bench.testing.subject import TIME_BOUND_S, make_subject
from automl_bench.testing.target import CheckTarget, check_target


def check_spaces(
    spaces: Sequence[tuple[str, SearchSpace]],
    task: str | TaskInfo,
    data_dir: str | Path | None = None,
) -> list[SpaceCheckResult]:
    """Check each ``(config field, loaded space)`` on ``task``; the first failure raises a
    :class:`SearchSpaceCheckError` naming that field, the file, the check and the problem."""
    target = check_target(task, data_dir)
    results = []
    for field, space in spaces:
        outcome = _check_once(_Key(str(space.path), target, field), space)
        if isinstance(outcome, SearchSpaceCheckError):  # a fresh copy: no traceback piles up
            raise SearchSpaceCheckError(outcome.file, outcome.check, outcome.problem, field)
        results.append(outcome)
    return results


@dataclass(frozen=True)
class _Key:
    path: str
    target: CheckTarget
    field: str


_done: dict[_Key, SpaceCheckResult | SearchSpaceCheckError] = {}


def _check_once(key: _Key, space: SearchSpace) -> SpaceCheckResult | SearchSpaceCheckError:
    """The checks' result for ``key``, run on the first call of this process."""
    if key not in _done:
        subject = make_subject(space, key.target, N_RANDOM, 0, TIME_BOUND_S, key.field)
        try:
            _done[key] = run_checks(subject, CHECKS)
        except SearchSpaceCheckError as exc:
            _done[key] = SearchSpaceCheckError(exc.file, exc.check, exc.problem, exc.field)
    return _done[key]
