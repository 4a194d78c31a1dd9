"""Conformance checks for a search space: the checks the built-in spaces pass, for users' own.

A search space is user code that the rest of automl-bench trusts at every step: Ray's
OptunaSearch calls ``space`` on the driver, a trial seeds torch and calls ``build`` on a worker,
the trainer runs forward and backward passes, the baseline is trained as the reference. A
mistake there shows up late, on a cluster, as failed trials. These checks find it in seconds on
a CPU, and say in one line which file, which check and what is wrong, like scikit-learn's
``check_estimator`` and Optuna's sampler test suite (STYLE.md, item 10)::

    from automl_bench.testing import check_search_space

    check_search_space("search_spaces/my_space.py", "mnist1d")  # raises on the first failure

    # or one pytest test per check, as scikit-learn's parametrize_with_checks gives:
    @pytest.mark.parametrize("check", search_space_checks(), ids=str)
    def test_my_space(check: SpaceCheck) -> None:
        check("search_spaces/my_space.py", "mnist1d")

The checks, in order; a failure raises :class:`SearchSpaceCheckError` (a ``ConfigError``) whose
message is one line, ``space: <file>: check '<name>' failed: <what is wrong>``:

``loads``
    the file imports and defines ``space(trial)``, ``build(config, task)`` and a dict
    ``baseline`` (``load_search_space``'s checks).
``space_returns_constants``
    ``space`` runs on ``n_random`` trials of a real study (``RandomSampler(seed)``) and on
    ``FixedTrial(baseline)``, and returns a dict of constants (or None) whose keys are not also
    suggested; replaying a trial's parameters through ``FixedTrial`` gives the same
    configuration (``space`` is a function of the trial's answers, nothing else).
``parameter_names``
    no parameter name contains ``/``: Ray Tune's OptunaSearch reads it as nesting.
``build_returns_module``
    ``build`` returns a ``torch.nn.Module`` for the baseline and each random configuration.
``forward_gives_logits``
    a batch of 7 random inputs of the task's shape (7 differs from every class count, so a
    transposed output cannot pass) gives a floating-point tensor of shape (7, num_classes),
    all finite (in eval mode, without gradients).
``build_is_reproducible``
    the same configuration built twice under the same torch seed (``seeding.init_seed``, as a
    trial seeds it) has equal ``state_dict`` s and gives equal outputs; the baseline built under
    the next seed has different weights (``build`` does not reseed).
``backward_reaches_parameters``
    in train mode, the cross-entropy loss of the output backpropagates and gives at least one
    parameter a gradient, and every gradient is finite.
``baseline_in_space``
    the baseline lies inside every distribution ``space`` suggests from, and replaying it through
    ``space`` gives it back (``check_baseline_in_space``: ``FixedTrial`` only warns about a value
    out of range; here that is an error).

A file that the loader refuses only because its baseline does not replay is still checked in
this order, so that the message names the first problem: a ``space`` that returns a list fails
``space_returns_constants``, not ``loads``. The original exception, when there is one, is the
error's ``__cause__`` (pytest shows its traceback); the message itself never holds one. The
checks run on the CPU, on one thread, and leave torch's global random state and thread count
as they found them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl_bench.errors import ConfigError
from automl_bench.seeding import init_seed
from automl_bench.space import (
    SearchSpace,
    check_baseline_in_space,
    load_search_space,
    missing_parts,
    untuned,
)
from automl_bench.tasks.base import TaskInfo

if TYPE_CHECKING:
    import optuna
    import torch

BATCH = 7  # differs from every task's class count, so a transposed output cannot pass
CONSTANT_TYPES = (bool, int, float, str, type(None))

LOADS = "loads"
SPACE = "space_returns_constants"
NAMES = "parameter_names"
BUILD = "build_returns_module"
FORWARD = "forward_gives_logits"
REPRODUCIBLE = "build_is_reproducible"
BACKWARD = "backward_reaches_parameters"
BASELINE = "baseline_in_space"


class SearchSpaceCheckError(ConfigError):
    """A search space failed a conformance check: ``check`` names it, ``file`` the space file,
    ``problem`` says what is wrong. ``str(error)`` is one line, as for every ConfigError."""

    def __init__(self, file: str, check: str, problem: str) -> None:
        self.file = file
        self.check = check
        self.problem = problem
        super().__init__("space", f"{file}: check {check!r} failed: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its three fields when pickled or copied (Ray does both with errors).
        return (type(self), (self.file, self.check, self.problem))


def check_search_space(
    space: str | Path | SearchSpace,
    task: str | TaskInfo = "mnist1d",
    *,
    n_random: int = 5,
    seed: int = 0,
) -> None:
    """Run every conformance check on ``space`` for ``task``; return None when all pass.

    ``space`` is a search-space file (a path) or a loaded :class:`SearchSpace`; ``task`` a
    registered task's name or a :class:`TaskInfo` (no data is loaded: only its input shape and
    class count are used). ``n_random`` configurations are drawn by Optuna's RandomSampler with
    ``seed``, which also seeds torch. Raises :class:`SearchSpaceCheckError` naming the first
    check that fails (see the module's docstring for the checks and their order), or
    ``ConfigError`` for an unknown task.
    """
    subject = _subject(space, task, n_random, seed)
    with _torch_kept():
        for check in _CHECKS:
            check.run(subject)


@dataclass(frozen=True)
class SpaceCheck:
    """One conformance check. Call it as :func:`check_search_space` to run only this one (the
    space is loaded first, so a file that does not load fails every check); ``str`` gives its
    name, for pytest ids."""

    name: str
    description: str
    run: Callable[[_Subject], None] = field(repr=False, compare=False)

    def __call__(
        self,
        space: str | Path | SearchSpace,
        task: str | TaskInfo = "mnist1d",
        *,
        n_random: int = 5,
        seed: int = 0,
    ) -> None:
        subject = _subject(space, task, n_random, seed)
        with _torch_kept():
            self.run(subject)

    def __str__(self) -> str:
        return self.name


def search_space_checks() -> list[SpaceCheck]:
    """The checks :func:`check_search_space` runs, in its order, to parametrise a test with:
    ``@pytest.mark.parametrize("check", search_space_checks(), ids=str)``."""
    return list(_CHECKS)


# --- the subject of the checks ---------------------------------------------------------------


@dataclass
class _Subject:
    """A space under check, the task it is checked on, and what the checks share."""

    space: SearchSpace
    file: str
    info: TaskInfo
    n_random: int
    seed: int
    load_error: ConfigError | None = None  # the loader refused it, but it has all its parts
    _random: list[dict[str, Any]] | None = None

    def error(self, check: str, problem: str) -> SearchSpaceCheckError:
        return SearchSpaceCheckError(self.file, check, problem)

    def random_configs(self) -> list[dict[str, Any]]:
        if self._random is None:
            self._random = _draw_random_configs(self)
        return self._random

    def configs(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, configuration): the baseline, then the random configurations."""
        return [("baseline", self.space.baseline)] + [(repr(c), c) for c in self.random_configs()]

    def input_shape(self) -> tuple[int, ...]:
        return (BATCH, *self.info.input_shape)


def _subject(
    space: str | Path | SearchSpace, task: str | TaskInfo, n_random: int, seed: int
) -> _Subject:
    if isinstance(n_random, bool) or not isinstance(n_random, int) or n_random < 0:
        raise ValueError(f"`n_random` must be an int >= 0, but got {n_random=}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"`seed` must be an int, but got {seed=}.")
    info = _task_info(task)
    if isinstance(space, SearchSpace):
        _check_parts(space.path.name, space.space, space.build, space.baseline)
        return _Subject(space, space.path.name, info, n_random, seed)
    if not isinstance(space, str | Path):
        raise TypeError(
            "`space` must be a path to a search-space file or a SearchSpace, "
            f"but got {type(space).__name__}."
        )
    loaded, load_error = _load(Path(space))
    return _Subject(loaded, loaded.path.name, info, n_random, seed, load_error)


def _task_info(task: str | TaskInfo) -> TaskInfo:
    if isinstance(task, TaskInfo):
        return task
    from automl_bench.tasks import TASKS

    if task not in TASKS:
        raise ConfigError(
            "task", f"unknown task {task!r}; the registered tasks are {sorted(TASKS)}"
        )
    return TASKS[task].info


def _load(path: Path) -> tuple[SearchSpace, ConfigError | None]:
    """Load a space file; if the loader refuses it only for its baseline, check it anyway.

    The loader's last step replays the baseline through ``space``: a ``space`` that returns a
    list, or a baseline out of range, fails there. The checks below name those problems more
    precisely, so a file that has all its parts is returned unchecked, with the loader's error
    (raised at the end if no check explains it).
    """
    from automl_bench.space import _import_file

    try:
        return load_search_space(path), None
    except ConfigError as exc:
        load_error = exc
    path = path.resolve()
    try:
        module = _import_file(path, "space")  # already imported by the loader: no second run
    except ConfigError:
        raise SearchSpaceCheckError(path.name, LOADS, _own(load_error, path.name)) from None
    space, build = getattr(module, "space", None), getattr(module, "build", None)
    baseline, defaults = getattr(module, "baseline", None), getattr(module, "defaults", None)
    if not (
        callable(space)
        and callable(build)
        and isinstance(baseline, Mapping)
        and (defaults is None or isinstance(defaults, Mapping))
    ):
        raise SearchSpaceCheckError(path.name, LOADS, _own(load_error, path.name)) from None
    unchecked = SearchSpace(
        path.stem,
        path,
        space,
        build,
        dict(baseline),
        dict(defaults) if defaults is not None else untuned(baseline),
    )
    return unchecked, load_error


def _check_parts(file: str, space: object, build: object, baseline: object) -> None:
    missing = missing_parts(space, build, baseline)
    if missing:
        raise SearchSpaceCheckError(file, LOADS, f"the space must define {', '.join(missing)}")


# --- the checks --------------------------------------------------------------------------------


def _check_loads(s: _Subject) -> None:
    """Loading happens before any check runs (in ``_subject``): nothing more to do."""


def _check_space(s: _Subject) -> None:
    import optuna

    s.random_configs()
    with warnings.catch_warnings():
        # a baseline value out of its distribution's range is the last check's business
        warnings.simplefilter("ignore", UserWarning)
        _sample(s, optuna.trial.FixedTrial(s.space.baseline), "space(FixedTrial(baseline))")


def _check_names(s: _Subject) -> None:
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


def _check_build(s: _Subject) -> None:
    for label, config in s.configs():
        _build(s, label, config, init_seed(s.seed, "search"))


def _check_forward(s: _Subject) -> None:
    import torch

    x = _batch(s)
    for label, config in s.configs():
        model = _build(s, label, config, init_seed(s.seed, "search")).eval()
        with torch.no_grad():
            out = _forward(s, FORWARD, label, model, x)
        where = f"build({label}) on a {s.info.name} batch of shape {tuple(x.shape)}"
        expected = (BATCH, s.info.num_classes)
        if tuple(out.shape) != expected:
            raise s.error(
                FORWARD,
                f"{where} gave output of shape {tuple(out.shape)}, expected logits of shape "
                f"{expected} (batch, num_classes)",
            )
        if not out.is_floating_point():
            raise s.error(FORWARD, f"{where} gave {out.dtype} output, expected float logits")
        finite = torch.isfinite(out)
        if not bool(finite.all()):
            bad = int((~finite).sum())
            raise s.error(
                FORWARD, f"{where} gave non-finite logits ({bad} of {out.numel()} are NaN or inf)"
            )


def _check_reproducible(s: _Subject) -> None:
    import torch

    torch_seed = init_seed(s.seed, "search")
    x = _batch(s)
    for label, config in s.configs():
        first = _build(s, label, config, torch_seed)
        second = _build(s, label, config, torch_seed)
        how = f"build({label}) twice under torch.manual_seed({torch_seed})"
        a, b = first.state_dict(), second.state_dict()
        if list(a) != list(b):
            raise s.error(
                REPRODUCIBLE,
                f"{how} gave different state_dict keys: {list(a)[:5]}... and {list(b)[:5]}...",
            )
        for name in a:
            if not _same(a[name], b[name]):
                raise s.error(
                    REPRODUCIBLE,
                    f"{how} gave different weights in {name!r}: build must draw its random "
                    "numbers from torch's global generator, which the trial seeds (not from "
                    "numpy, random or a generator of its own)",
                )
        with torch.no_grad():
            out_a = _forward(s, FORWARD, label, first.eval(), x)
            out_b = _forward(s, FORWARD, label, second.eval(), x)
        if not _same(out_a, out_b):
            raise s.error(
                REPRODUCIBLE,
                f"{how} gave equal weights but different outputs on the same batch in eval "
                "mode: the forward pass must not be random outside training",
            )
    other = _build(s, "baseline", s.space.baseline, torch_seed + 1).state_dict()
    mine = _build(s, "baseline", s.space.baseline, torch_seed).state_dict()
    floats = [n for n, t in mine.items() if t.is_floating_point() and t.numel() > 0]
    if floats and all(_same(mine[n], other[n]) for n in floats if n in other):
        raise s.error(
            REPRODUCIBLE,
            f"build(baseline) under torch.manual_seed({torch_seed}) and "
            f"torch.manual_seed({torch_seed + 1}) gave the same weights: build must not reseed "
            "torch or draw from a generator with a fixed seed, or every seed trains one model",
        )


def _check_backward(s: _Subject) -> None:
    import torch

    x = _batch(s)
    y = torch.arange(BATCH) % s.info.num_classes
    for label, config in s.configs():
        model = _build(s, label, config, init_seed(s.seed, "search")).train()
        params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not params:
            raise s.error(
                BACKWARD,
                f"build({label}) has no parameter with requires_grad=True: nothing to train",
            )
        out = _forward(s, BACKWARD, label, model, x, mode="train mode ")
        if not out.requires_grad:
            raise s.error(
                BACKWARD,
                f"the output of build({label}) does not depend on any parameter (it has no "
                "grad_fn): does forward run under torch.no_grad(), or detach?",
            )
        try:
            loss = torch.nn.functional.cross_entropy(out.float(), y)
            loss.backward()  # type: ignore[no-untyped-call]
        except (Exception, SystemExit) as exc:
            raise s.error(
                BACKWARD, f"the backward pass of build({label}) raised {_describe(exc)}"
            ) from exc
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


def _check_baseline(s: _Subject) -> None:
    import optuna

    baseline = s.space.baseline
    trial = optuna.trial.FixedTrial(baseline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the out-of-range warning: checked below
        _sample(s, trial, "space(FixedTrial(baseline))")
    for name, distribution in trial.distributions.items():
        if not distribution._contains(distribution.to_internal_repr(baseline[name])):
            raise s.error(
                BASELINE,
                f"the baseline's {name}={baseline[name]!r} lies outside {distribution}",
            )
    try:
        check_baseline_in_space(s.space)
    except ConfigError as exc:
        raise s.error(BASELINE, _own(exc, s.file)) from exc.__cause__
    if s.load_error is not None:  # the loader refused it for a reason no check found
        raise s.error(LOADS, _own(s.load_error, s.file))


_CHECKS: tuple[SpaceCheck, ...] = (
    SpaceCheck(
        LOADS, "the file imports and defines space, build and a dict baseline", _check_loads
    ),
    SpaceCheck(
        SPACE,
        "space(trial) runs on random and fixed trials, only suggests, returns a dict of constants",
        _check_space,
    ),
    SpaceCheck(NAMES, "no parameter name contains '/'", _check_names),
    SpaceCheck(BUILD, "build returns a torch.nn.Module for each configuration", _check_build),
    SpaceCheck(
        FORWARD, "a batch gives finite logits of shape (batch, num_classes)", _check_forward
    ),
    SpaceCheck(
        REPRODUCIBLE, "the same seed builds the same weights and outputs", _check_reproducible
    ),
    SpaceCheck(BACKWARD, "the loss's gradients reach the parameters", _check_backward),
    SpaceCheck(BASELINE, "the baseline lies inside every distribution", _check_baseline),
)


# --- helpers -----------------------------------------------------------------------------------


def _draw_random_configs(s: _Subject) -> list[dict[str, Any]]:
    """``n_random`` configurations from a real study's trials, each replayed through
    ``FixedTrial`` (a define-by-run space must be a function of the trial's answers)."""
    import optuna

    sampler = optuna.samplers.RandomSampler(seed=s.seed)
    with _optuna_quiet():
        study = optuna.create_study(direction="maximize", sampler=sampler)
    configs = []
    for i in range(s.n_random):
        trial = study.ask()
        where = f"space(trial) on trial {i} of RandomSampler(seed={s.seed})"
        config = _sample(s, trial, where)
        params = dict(trial.params)
        replayed = _sample(s, optuna.trial.FixedTrial(params), f"space(FixedTrial({params}))")
        if replayed != config:
            raise s.error(
                SPACE,
                f"space is not a function of the trial's parameters: {where} gave {config}, "
                f"replaying its parameters through FixedTrial gave {replayed} (does space draw "
                "random numbers, or read a clock or a file?)",
            )
        configs.append(config)
    return configs


def _sample(
    s: _Subject, trial: optuna.Trial | optuna.trial.FixedTrial, where: str
) -> dict[str, Any]:
    """What ``space`` gives ``trial``, merged as ``sample_config`` (and Ray) merge it."""
    try:
        constants = s.space.space(trial)  # type: ignore[arg-type]
    except (Exception, SystemExit) as exc:  # the user's code: any failure is the space's
        raise s.error(SPACE, f"{where} raised {_describe(exc)}") from exc
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
                f"{where} returned the constant {key}={_short(repr(value))} of type "
                f"{type(value).__name__}; constants are bool, int, float, str or None",
            )
        if key in trial.params:
            raise s.error(
                SPACE,
                f"{where} returned the constant {key!r}, which it also suggests: the constant "
                "would silently replace the value the sampler chose",
            )
    return {**trial.params, **constants}


def _build(s: _Subject, label: str, config: Mapping[str, Any], seed: int) -> torch.nn.Module:
    import torch

    torch.manual_seed(seed)
    try:
        model = s.space.build(dict(config), s.info)
    except (Exception, SystemExit) as exc:
        raise s.error(BUILD, f"build({label}) raised {_describe(exc)}") from exc
    if isinstance(model, type):
        raise s.error(
            BUILD,
            f"build({label}) returned the class {model.__qualname__}, expected an instance "
            "of a torch.nn.Module (was it called?)",
        )
    if not isinstance(model, torch.nn.Module):
        raise s.error(
            BUILD,
            f"build({label}) returned {type(model).__name__} {_short(repr(model))}, expected "
            "a torch.nn.Module",
        )
    return model


def _forward(
    s: _Subject, check: str, label: str, model: torch.nn.Module, x: torch.Tensor, mode: str = ""
) -> torch.Tensor:
    import torch

    try:
        out = model(x)
    except (Exception, SystemExit) as exc:
        raise s.error(
            check,
            f"the {mode}forward pass of build({label}) on a {s.info.name} batch of shape "
            f"{tuple(x.shape)} raised {_describe(exc)}",
        ) from exc
    if not isinstance(out, torch.Tensor):
        raise s.error(
            check,
            f"the forward pass of build({label}) returned {type(out).__name__}, expected a "
            "tensor of logits",
        )
    return out


def _batch(s: _Subject) -> torch.Tensor:
    import torch

    generator = torch.Generator().manual_seed(s.seed)
    return torch.randn(s.input_shape(), generator=generator)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal shapes, dtypes and values, NaN equal to NaN (NaN is the forward check's business)."""
    import torch

    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point() or a.is_complex():
        return bool(
            torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num())
        )
    return bool(torch.equal(a, b))


def _describe(exc: BaseException) -> str:
    """``Type: first line of the message``, short: never a traceback."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {_short(lines[0])}" if lines else type(exc).__name__


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _own(error: ConfigError, file: str) -> str:
    """A loader's message without its leading ``<file>: ``, which ours already gives."""
    prefix = f"{file}: "
    return error.message[len(prefix) :] if error.message.startswith(prefix) else error.message


@contextmanager
def _torch_kept() -> Iterator[None]:
    """The checks seed torch and run it on one thread (batches of 7 gain nothing from more, and
    on a busy machine extra threads make them many times slower); the caller's global random
    state and thread count are restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def _optuna_quiet() -> Iterator[None]:
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


__all__ = [
    "SearchSpaceCheckError",
    "SpaceCheck",
    "check_search_space",
    "search_space_checks",
]
