"""The error a search space's conformance check raises, and the names of the checks the loader
makes itself (``automl_bench.testing`` makes them all)."""

from __future__ import annotations

from typing import Any

from automl_bench.errors import ConfigError

# The conformance checks (automl_bench.testing) the loader itself makes.
LOADS = "loads"
SPACE = "space_returns_constants"
BASELINE = "baseline_in_space"


class BaselineOffSpace(Exception):
    """The baseline is not a point of the space; ``str`` says why, in one sentence (raised by
    ``space_baseline.BaselineTrial`` from inside ``space``)."""


class SearchSpaceCheckError(ConfigError):
    """A search space failed a conformance check: ``check`` names it, ``file`` the space file,
    ``problem`` says what is wrong; ``field`` is the config field that named the file.
    ``str(error)`` is one line, as for every ConfigError:
    ``space: <file>: check '<check>' failed: <problem>``."""

    def __init__(self, file: str, check: str, problem: str, field: str = "space") -> None:
        self.file = file
        self.check = check
        self.problem = problem
        super().__init__(field, f"{file}: check {check!r} failed: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its fields when pickled or copied (Ray does both with errors).
        return (type(self), (self.file, self.check, self.problem, self.field))
