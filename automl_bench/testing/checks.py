"""The conformance checks, in order, and the functions that run them (see the package's
docstring for what each check asks of a space)."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from automl_bench.seeding import init_seed
from automl_bench.space import SearchSpace, check_baseline_in_space
from automl_bench.space_errors import BASELINE, LOADS, SPACE, BaselineOffSpace
from automl_bench.tasks.base import TaskInfo
from automl_bench.testing.sampling import N_RANDOM
from automl_bench.testing.subject import (
    BATCH,
    BUILD,
    FORWARD,
    TIME_BOUND_S,
    Subject,
    batch,
    make_subject,
    sample,
)
from automl_bench.testing.target import CheckTarget, check_target
from automl_bench.testing.torch_util import build_model, describe, forward, same, torch_kept

NAMES = "parameter_names"
REPRODUCIBLE = "build_is_reproducible"
BACKWARD = "backward_reaches_parameters"

if TYPE_CHECKING:
    import torch

Task = str | TaskInfo | CheckTarget


@dataclass(frozen=True)
class SpaceCheckResult:
    """A space that passed every check: how much of it was checked, and how long it took."""

    file: str
    task: str
    checks: int
    configurations: int  # random configurations built and run forward (besides the baseline)
    drawn: int  # distinct random configurations drawn
    fully_checked: int  # random configurations the seed and gradient checks also ran on
    seconds: float
    cut_short: bool  # the time bound stopped the building before every drawn configuration
    enumerated: bool = False  # a small discrete space: every configuration was drawn

    def line(self) -> str:
        """One line: ``my_mlp.py: OK on digits, 8 checks, the baseline and 59 random ...``."""
        cut = (
            f" (stopped at the {TIME_BOUND_S:g} s bound; {self.drawn} drawn)"
            if self.cut_short
            else ""
        )
        which = "configurations of the space" if self.enumerated else "random configurations"
        every = "all " if self.enumerated and not self.cut_short else ""
        return (
            f"{self.file}: OK on {self.task}, {self.checks} checks passed on the baseline and "
            f"{every}{self.configurations} {which}{cut} (seeds and gradients on the baseline "
            f"and {self.fully_checked}), in {self.seconds:.1f} s"
        )


def check_search_space(
    space: str | Path | SearchSpace,
    task: Task = "mnist1d",
    *,
    data_dir: str | Path | None = None,
    n_random: int = N_RANDOM,
    seed: int = 0,
    time_bound_s: float = TIME_BOUND_S,
) -> SpaceCheckResult:
    """Run every conformance check on ``space`` for ``task``; return what was checked.

    ``space`` is a search-space file (a path) or a loaded :class:`SearchSpace`; ``task`` a
    task's name (a registered task, a meta-learning family, or a folder task read from
    ``data_dir``), a :class:`TaskInfo` or a :class:`CheckTarget` (no data is loaded: only
    shapes are used). ``n_random`` configurations are drawn by Optuna's RandomSampler with
    ``seed``, which also seeds torch. Raises :class:`SearchSpaceCheckError` naming the first
    check that fails, or ``ConfigError`` for an unknown task.
    """
    target = check_target(task, data_dir)
    return run_checks(make_subject(space, target, n_random, seed, time_bound_s), CHECKS)


def run_checks(subject: Subject, checks: tuple[SpaceCheck, ...]) -> SpaceCheckResult:
    """Run ``checks`` on ``subject`` in order; the first failure raises."""
    with torch_kept():
        for check in checks:
            check.run(subject)
    return SpaceCheckResult(
        subject.file,
        subject.target.name,
        len(checks),
        subject.configurations_checked(),
        subject.configurations_drawn(),
        subject.configurations_fully_checked(),
        time.monotonic() - subject.started,
        subject.cut_short,
        subject.enumerated,
    )


@dataclass(frozen=True)
class SpaceCheck:
    """One conformance check. Call it as :func:`check_search_space` to run only this one (the
    space is loaded first, so a file that does not load fails every check); ``str`` gives its
    name, for pytest ids."""

    name: str
    description: str
    run: Callable[[Subject], None] = field(repr=False, compare=False)

    def __call__(
        self,
        space: str | Path | SearchSpace,
        task: Task = "mnist1d",
        *,
        data_dir: str | Path | None = None,
        n_random: int = N_RANDOM,
        seed: int = 0,
        time_bound_s: float = TIME_BOUND_S,
    ) -> SpaceCheckResult:
        target = check_target(task, data_dir)
        return run_checks(make_subject(space, target, n_random, seed, time_bound_s), (self,))

    def __str__(self) -> str:
        return self.name


def search_space_checks() -> list[SpaceCheck]:
    """The checks :func:`check_search_space` runs, in its order, to parametrise a test with:
    ``@pytest.mark.parametrize("check", search_space_checks(), ids=str)``."""
    return list(CHECKS)


# --- the checks --------------------------------------------------------------------------------


def _check_loads(s: Subject) -> None:
    """Loading happens before any check runs (in ``make_subject``): nothing more to do."""


def _check_space(s: Subject) -> None:
    from automl_bench.space_baseline import BaselineTrial

    s.random_configs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with contextlib.suppress(BaselineOffSpace):  # the next check says what is off
            sample(s, BaselineTrial(s.space.baseline), "space(trial) on the baseline")


def _check_baseline(s: Subject) -> None:
    check_baseline_in_space(s.space, s.field)


def _check_names(s: Subject) -> None:
    names = [*s.space.baseline, *(k for c in s.random_configs() for k in c)]
    for name in dict.fromkeys(names):
        if "/" in name:
            head, _, tail = name.partition("/")
            raise s.error(
                NAMES,
                f"parameter name {name!r} contains '/': Ray Tune's OptunaSearch reads '/' as "
                f"nesting, so build would get config[{head!r}][{tail!r}] instead of "
                f"config[{name!r}]; use '_'",
            )


def _check_build(s: Subject) -> None:
    for label, config in s.bounded():
        error = s.built(label, config).error
        if error is not None and error.check == BUILD:
            raise error


def _check_forward(s: Subject) -> None:
    import torch

    shape = tuple(batch(s).shape)
    for label, config in s.bounded():
        built = s.built(label, config)
        if built.error is not None:
            raise built.error
        out = cast("torch.Tensor", built.output)  # no error: an output
        where = f"build({label}) on a {s.target.name} batch of shape {shape}"
        _check_output_shape(s, where, tuple(out.shape))
        if not out.is_floating_point():
            raise s.error(FORWARD, f"{where} gave {out.dtype} output, expected float output")
        finite = torch.isfinite(out)
        if not bool(finite.all()):
            bad = int((~finite).sum())
            raise s.error(
                FORWARD,
                f"{where} gave non-finite {s.target.noun()} ({bad} of {out.numel()} are NaN "
                "or inf)",
            )


def _check_output_shape(s: Subject, where: str, got: tuple[int, ...]) -> None:
    expected = s.target.expected_shape(BATCH)
    if expected is None:  # an embedding: (batch, features) of any width
        if len(got) == 2 and got[0] == BATCH:
            return
        shape = f"({BATCH}, features)"
    elif got == expected:
        return
    else:
        shape = str(expected)
    raise s.error(
        FORWARD,
        f"{where} gave output of shape {got}, expected {s.target.noun()} of shape {shape} "
        f"({s.target.dims()})",
    )


def _check_reproducible(s: Subject) -> None:
    torch_seed = init_seed(s.seed, "search")
    for label, config in s.full():
        _same_twice(s, label, config, torch_seed)
    other = build_model(s, REPRODUCIBLE, "baseline", s.space.baseline, torch_seed + 1)
    mine = build_model(s, REPRODUCIBLE, "baseline", s.space.baseline, torch_seed).state_dict()
    theirs = other.state_dict()
    floats = [n for n, t in mine.items() if t.is_floating_point() and t.numel() > 0]
    if floats and all(same(mine[n], theirs[n]) for n in floats if n in theirs):
        raise s.error(
            REPRODUCIBLE,
            f"build(baseline) under torch.manual_seed({torch_seed}) and "
            f"torch.manual_seed({torch_seed + 1}) gave the same weights: build must not reseed "
            "torch or draw from a generator with a fixed seed, or every seed trains one model",
        )


def _same_twice(s: Subject, label: str, config: dict[str, Any], torch_seed: int) -> None:
    """``config`` built twice under one seed: equal weights, equal eval-mode outputs."""
    import torch

    first = build_model(s, REPRODUCIBLE, label, config, torch_seed)
    second = build_model(s, REPRODUCIBLE, label, config, torch_seed)
    how = f"build({label}) twice under torch.manual_seed({torch_seed})"
    a, b = first.state_dict(), second.state_dict()
    if list(a) != list(b):
        raise s.error(
            REPRODUCIBLE,
            f"{how} gave different state_dict keys: {list(a)[:5]}... and {list(b)[:5]}...",
        )
    for name in a:
        if not same(a[name], b[name]):
            raise s.error(
                REPRODUCIBLE,
                f"{how} gave different weights in {name!r}: build must draw its random "
                "numbers from torch's global generator, which the trial seeds (not from "
                "numpy, random or a generator of its own)",
            )
    x = batch(s)
    with torch.no_grad():
        out_a = forward(s, FORWARD, label, first.eval(), x)
        out_b = forward(s, FORWARD, label, second.eval(), x)
    if not same(out_a, out_b):
        raise s.error(
            REPRODUCIBLE,
            f"{how} gave equal weights but different outputs on the same batch in eval "
            "mode: the forward pass must not be random outside training",
        )


def _check_backward(s: Subject) -> None:
    for label, config in s.full():
        model = build_model(s, BACKWARD, label, config).train()
        params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not params:
            raise s.error(
                BACKWARD,
                f"build({label}) has no parameter with requires_grad=True: nothing to train",
            )
        out = forward(s, BACKWARD, label, model, batch(s), mode="train mode ")
        if not out.requires_grad:
            raise s.error(
                BACKWARD,
                f"the output of build({label}) does not depend on any parameter (it has no "
                "grad_fn): does forward run under torch.no_grad(), or detach?",
            )
        try:
            s.target.loss(out).backward()  # type: ignore[no-untyped-call]
        except (Exception, SystemExit) as exc:
            raise s.error(
                BACKWARD, f"the backward pass of build({label}) raised {describe(exc)}"
            ) from exc
        _check_gradients(s, label, params)


def _check_gradients(s: Subject, label: str, params: list[tuple[str, Any]]) -> None:
    import torch

    reached = [(n, p.grad) for n, p in params if p.grad is not None]
    if not reached:
        raise s.error(
            BACKWARD,
            f"the backward pass of build({label}) gave no parameter a gradient: does "
            "forward detach, or use copies of the parameters?",
        )
    for name, grad in reached:
        if not bool(torch.isfinite(grad).all()):
            raise s.error(
                BACKWARD,
                f"the backward pass of build({label}) gave non-finite gradients in {name!r}",
            )


CHECKS: tuple[SpaceCheck, ...] = (
    SpaceCheck(
        LOADS, "the file imports and defines space, build and a dict baseline", _check_loads
    ),
    SpaceCheck(
        SPACE,
        "space(trial) runs on random trials and the baseline, only suggests, returns constants",
        _check_space,
    ),
    SpaceCheck(
        BASELINE, "the baseline has a value inside the space for each parameter", _check_baseline
    ),
    SpaceCheck(NAMES, "no parameter name contains '/'", _check_names),
    SpaceCheck(BUILD, "build returns a torch.nn.Module for each configuration", _check_build),
    SpaceCheck(
        FORWARD,
        "a batch gives finite output of the task's shape (logits: (batch, classes))",
        _check_forward,
    ),
    SpaceCheck(
        REPRODUCIBLE, "the same seed builds the same weights and outputs", _check_reproducible
    ),
    SpaceCheck(BACKWARD, "the loss's gradients reach the parameters", _check_backward),
)
