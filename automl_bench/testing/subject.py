"""The space under check, the task it is checked on, and what the checks share.

The configurations: the baseline, then ``n_random`` drawn by Optuna's ``RandomSampler`` (a
configuration drawn twice is kept once). ``build`` and the forward pass run on all of them that
fit in the time bound; the two checks about seeds and gradients, properties of the code more
than of a configuration, run on the baseline and the first ``FULL_CHECK_CONFIGS``.

The time bound (``TIME_BOUND_S``, 5 s per space, from the start of the checks, imports of
torch and Optuna aside): no further random configuration is built once the time spent, plus
what the seed and gradient checks will take (``RESERVED_BUILDS`` builds at the mean cost so
far), would pass it. The baseline and the first ``FULL_CHECK_CONFIGS`` random configurations
are always checked, so a ``build`` that alone takes a large part of the bound makes the checks
take longer; the result says how many configurations were checked, and whether the bound
stopped them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_bench.space import SearchSpace, missing_parts, read_search_space
from automl_bench.space_errors import LOADS, SPACE, BaselineOffSpace, SearchSpaceCheckError
from automl_bench.testing.sampling import grid
from automl_bench.testing.target import CheckTarget
from automl_bench.testing.torch_util import build_model, describe, forward, optuna_quiet, short

if TYPE_CHECKING:
    import optuna
    import torch
    from optuna.distributions import BaseDistribution

BATCH = 7  # differs from every task's class count, so a transposed output cannot pass
CONSTANT_TYPES = (bool, int, float, str, type(None))
FULL_CHECK_CONFIGS = 4  # random configurations the seed and gradient checks also run on
TIME_BOUND_S = 5.0  # per space, on one CPU thread: see the module's docstring
RESERVED_BUILDS = 20  # what the seed and gradient checks cost, in builds, after the others

BUILD = "build_returns_module"
FORWARD = "forward_gives_logits"


@dataclass(frozen=True)
class Built:
    """What one configuration gave: the build's error, or the eval-mode output on the batch
    (or the forward pass's error)."""

    error: SearchSpaceCheckError | None = None
    output: torch.Tensor | None = None


@dataclass
class Subject:
    """A space under check and what the checks share (drawn configurations, built outputs)."""

    space: SearchSpace
    file: str
    target: CheckTarget
    n_random: int
    seed: int
    field: str = "space"
    time_bound_s: float = TIME_BOUND_S
    started: float = dataclasses.field(default_factory=time.monotonic)
    cut_short: bool = False  # the time bound stopped the building of configurations
    enumerated: bool = False  # the space is small and discrete: every configuration is checked
    _random: list[dict[str, Any]] | None = None
    _bounded: list[tuple[str, dict[str, Any]]] | None = None
    _built: dict[str, Built] = dataclasses.field(default_factory=dict)

    def error(self, check: str, problem: str) -> SearchSpaceCheckError:
        return SearchSpaceCheckError(self.file, check, problem, self.field)

    def random_configs(self) -> list[dict[str, Any]]:
        if self._random is None:
            self._random = draw_random_configs(self)
        return self._random

    def configs(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, configuration): the baseline, then the random configurations."""
        return [("baseline", self.space.baseline)] + [(repr(c), c) for c in self.random_configs()]

    def full(self) -> list[tuple[str, dict[str, Any]]]:
        """The configurations every check runs on: the baseline and the first few."""
        return self.configs()[: FULL_CHECK_CONFIGS + 1]

    def bounded(self) -> list[tuple[str, dict[str, Any]]]:
        """The configurations built (and run forward) within the time bound, each once."""
        if self._bounded is None:
            deadline = self.started + self.time_bound_s
            done: list[tuple[str, dict[str, Any]]] = []
            loop_started = time.monotonic()
            for label, config in self.configs():
                if len(done) > FULL_CHECK_CONFIGS:
                    each = (time.monotonic() - loop_started) / len(done)
                    if time.monotonic() + each * (1 + RESERVED_BUILDS) > deadline:
                        self.cut_short = True
                        break
                self.built(label, config)
                done.append((label, config))
            self._bounded = done
        return self._bounded

    def built(self, label: str, config: Mapping[str, Any]) -> Built:
        """Build ``config`` under the trial's seed and run the batch forward in eval mode."""
        import torch

        if label not in self._built:
            try:
                model = build_model(self, BUILD, label, config).eval()
            except SearchSpaceCheckError as exc:
                self._built[label] = Built(error=exc)
            else:
                try:
                    with torch.no_grad():
                        out = forward(self, FORWARD, label, model, batch(self))
                except SearchSpaceCheckError as exc:
                    self._built[label] = Built(error=exc)
                else:
                    self._built[label] = Built(output=out)
        return self._built[label]

    def configurations_drawn(self) -> int:
        """Distinct random configurations drawn (0 when no check drew them)."""
        return len(self._random) if self._random is not None else 0

    def configurations_checked(self) -> int:
        """Random configurations built and run forward (0 when no check built them)."""
        return max(0, len(self._bounded) - 1) if self._bounded is not None else 0

    def configurations_fully_checked(self) -> int:
        """Random configurations the seed and gradient checks ran on (when they ran)."""
        return min(FULL_CHECK_CONFIGS, self.configurations_drawn())

    def input_shape(self) -> tuple[int, ...]:
        return (BATCH, *self.target.info.input_shape)


def make_subject(
    space: str | Path | SearchSpace,
    target: CheckTarget,
    n_random: int,
    seed: int,
    time_bound_s: float,
    field: str = "space",
) -> Subject:
    """Check the arguments and load the space (the ``loads`` check)."""
    if isinstance(n_random, bool) or not isinstance(n_random, int) or n_random < 0:
        raise ValueError(f"`n_random` must be an int >= 0, but got {n_random=}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an int, but got {seed=}.")
    if isinstance(time_bound_s, bool) or not isinstance(time_bound_s, int | float):
        raise ValueError(f"`time_bound_s` must be a number, but got {time_bound_s=}.")
    import optuna  # noqa: F401 -- imported before the clock starts: the bound is for the checks
    import torch  # noqa: F401

    started = time.monotonic()
    if isinstance(space, SearchSpace):
        missing = missing_parts(space.space, space.build, space.baseline)
        if missing:
            raise SearchSpaceCheckError(
                space.path.name, LOADS, f"the space must define {', '.join(missing)}", field
            )
        loaded = space
    elif isinstance(space, str | Path):
        loaded = read_search_space(space, field)
    else:
        raise TypeError(
            "`space` must be a path to a search-space file or a SearchSpace, "
            f"but got {type(space).__name__}."
        )
    return Subject(loaded, loaded.path.name, target, n_random, seed, field, time_bound_s, started)


def draw_random_configs(s: Subject) -> list[dict[str, Any]]:
    """``n_random`` configurations from a real study's trials, each replayed through
    ``FixedTrial`` (a define-by-run space must be a function of the trial's answers); a
    configuration drawn twice is kept once. A small discrete space gives all its points
    instead (``sampling.grid``), and ``s.enumerated`` says so."""
    import optuna

    sampler = optuna.samplers.RandomSampler(seed=s.seed)
    with optuna_quiet():
        study = optuna.create_study(direction="maximize", sampler=sampler)
    configs: dict[str, dict[str, Any]] = {}
    met: dict[str, set[BaseDistribution]] = {}
    for i in range(s.n_random):
        trial = study.ask()
        where = f"space(trial) on trial {i} of RandomSampler(seed={s.seed})"
        config = sample(s, trial, where)
        params = dict(trial.params)
        replayed = sample(s, optuna.trial.FixedTrial(params), f"space(FixedTrial({params}))")
        if replayed != config:
            raise s.error(
                SPACE,
                f"space is not a function of the trial's parameters: {where} gave {config}, "
                f"replaying its parameters through FixedTrial gave {replayed} (does space draw "
                "random numbers, or read a clock, a file or trial.number?)",
            )
        configs.setdefault(_key(config), config)
        for name, distribution in trial.distributions.items():
            met.setdefault(name, set()).add(distribution)
    whole = _enumerate(s, met) if s.n_random else None
    s.enumerated = whole is not None
    return whole if whole is not None else list(configs.values())


def _enumerate(s: Subject, met: dict[str, set[BaseDistribution]]) -> list[dict[str, Any]] | None:
    """Every configuration of a small discrete space, or None (see ``sampling.grid``)."""
    from automl_bench.space_baseline import BaselineTrial

    if any(len(distributions) > 1 for distributions in met.values()):
        return None  # a parameter suggested from different distributions on different paths
    points = grid({name: next(iter(d)) for name, d in met.items()})
    if points is None:
        return None
    configs: dict[str, dict[str, Any]] = {}
    for point in points:
        try:  # a parameter the draws never met (another path) stops the enumeration
            config = sample(s, BaselineTrial(point), f"space(FixedTrial({point}))")
        except BaselineOffSpace:
            return None
        configs.setdefault(_key(config), config)
    return list(configs.values())


def _key(config: dict[str, Any]) -> str:
    return repr(sorted(config.items(), key=lambda item: item[0]))


def sample(s: Subject, trial: optuna.Trial | optuna.trial.FixedTrial, where: str) -> dict[str, Any]:
    """What ``space`` gives ``trial``, merged as ``sample_config`` (and Ray) merge it. A
    baseline off the space (BaselineOffSpace) is let through: the baseline check says it."""
    try:
        constants = s.space.space(trial)  # type: ignore[arg-type]
    except BaselineOffSpace:
        raise
    except (Exception, SystemExit) as exc:  # the user's code: any failure is the space's
        raise s.error(SPACE, f"{where} raised {describe(exc)}") from exc
    if constants is None:
        constants = {}
    if not isinstance(constants, dict):
        raise s.error(
            SPACE,
            f"{where} returned {type(constants).__name__}, expected a dict of constants (or None)",
        )
    for key, value in constants.items():
        if not isinstance(key, str):
            raise s.error(SPACE, f"{where} returned a constant named {key!r}: names are str")
        if not isinstance(value, CONSTANT_TYPES):
            raise s.error(
                SPACE,
                f"{where} returned the constant {key}={short(repr(value))} of type "
                f"{type(value).__name__}; constants are bool, int, float, str or None",
            )
        if key in trial.params:
            raise s.error(
                SPACE,
                f"{where} returned the constant {key!r}, which it also suggests: the constant "
                "would silently replace the value the sampler chose",
            )
    return {**trial.params, **constants}


def batch(s: Subject) -> torch.Tensor:
    import torch

    generator = torch.Generator().manual_seed(s.seed)
    return torch.randn(s.input_shape(), generator=generator)
