"""The search-space contract users build on, and loading one from a file.

A search space is one Python file (see search_spaces/) that defines::

    def space(trial: optuna.Trial) -> dict[str, Any]: ...        # only trial.suggest_*; constants
    def build(config: dict[str, Any], task: TaskInfo) -> torch.nn.Module: ...
    baseline: dict[str, Any] = {...}                              # the hand-designed point
    defaults: dict[str, Any] = {...}       # optional: the untuned configuration (a reference row)
    def supernet(config, task) -> nn.Module: ...   # optional: for one-shot methods (darts)

``supernet`` builds a weight-sharing supernet over the space (see ``automl_bench.methods.darts``:
it has ``arch_parameters()``, ``weight_parameters()`` and ``derive()``, the discrete
configuration its architecture parameters choose).

A space file may import the files next to it: its folder is on the import path (at the end)
while it loads, so import them at the top of the file.

Without ``defaults``, the untuned configuration is the baseline with the trainer's keys left out,
so they take the trainer's defaults: the hand-designed model, trained without tuning.

The trainer reads these optional keys of a config: ``lr`` (default 1e-3), ``weight_decay`` (0),
``batch_size`` (128), ``optimizer`` (``adam``, ``adamw`` or ``sgd``) and ``momentum``
(0.9, SGD only);
``build`` may ignore them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from automl_bench.errors import ConfigError
from automl_bench.space_errors import (
    BASELINE,
    LOADS,
    SPACE,
    BaselineOffSpace,
    SearchSpaceCheckError,
)

if TYPE_CHECKING:
    import optuna
    import torch

    from automl_bench.tasks.base import TaskInfo

TRAINER_KEYS = ("lr", "weight_decay", "batch_size", "optimizer", "momentum")

# The ranges suggest_training suggests the trainer's keys from (quoted by the docs).
LR_RANGE = (1e-4, 3e-2)  # log-uniform
WEIGHT_DECAY_CHOICES = (0.0, 1e-5, 1e-4, 1e-3)
BATCH_SIZE_CHOICES = (32, 64, 100, 128, 256)
OPTIMIZER_CHOICES = ("adam", "adamw")

SpaceFn = Callable[["optuna.Trial"], dict[str, Any]]
BuildFn = Callable[[dict[str, Any], "TaskInfo"], "torch.nn.Module"]


@dataclass(frozen=True)
class SearchSpace:
    """A loaded search space: ``name`` is the file's stem (``cnn1d``)."""

    name: str
    path: Path
    space: SpaceFn
    build: BuildFn
    baseline: dict[str, Any]
    defaults: dict[str, Any]  # the untuned configuration, trained as the ``defaults`` method
    supernet: Callable[[dict[str, Any], TaskInfo], torch.nn.Module] | None = None

    def fixed_point(self, name: str) -> dict[str, Any]:
        """The configuration a method that does not search trains: ``baseline`` or
        ``defaults``."""
        if name == "defaults":
            return self.defaults
        return self.baseline


def missing_parts(space: object, build: object, baseline: object) -> list[str]:
    """What a search-space file lacks of the contract, in words ([] when nothing)."""
    return [
        what
        for what, ok in (
            ("a function space(trial)", callable(space)),
            ("a function build(config, task)", callable(build)),
            ("a dict baseline", isinstance(baseline, Mapping)),
        )
        if not ok
    ]


def untuned(baseline: Mapping[str, Any]) -> dict[str, Any]:
    """The baseline with the trainer's keys left out (they take the trainer's defaults)."""
    return {k: v for k, v in baseline.items() if k not in TRAINER_KEYS}


def load_search_space(path: str | Path, field: str = "space") -> SearchSpace:
    """Load and check a search-space file; any problem is a ConfigError naming ``field``: a
    :class:`SearchSpaceCheckError` naming the check (``loads``, ``baseline_in_space``) once the
    file exists."""
    loaded = read_search_space(path, field)
    check_baseline_in_space(loaded, field)
    return loaded


def read_search_space(path: str | Path, field: str = "space") -> SearchSpace:
    """Import a search-space file and check that it has its parts, without running ``space``.

    The file's own folder is on the import path while it is imported (at the end, so a file
    next to it never hides an installed package), so it can import the files next to it.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(field, f"search-space file {str(path)!r} does not exist")
    if path.suffix != ".py":
        raise ConfigError(field, f"a search space is a .py file, got {str(path)!r}")
    module = _import_file(path, field)

    def refuse(problem: str) -> SearchSpaceCheckError:
        return SearchSpaceCheckError(path.name, LOADS, problem, field)

    space, build = getattr(module, "space", None), getattr(module, "build", None)
    baseline = getattr(module, "baseline", None)
    missing = missing_parts(space, build, baseline)
    if missing:
        raise refuse(f"{path.name} must define {', '.join(missing)}")
    defaults = getattr(module, "defaults", None)
    if defaults is not None and not isinstance(defaults, Mapping):
        raise refuse(f"defaults must be a dict, got {type(defaults).__name__}")
    one_shot = getattr(module, "supernet", None)
    if one_shot is not None and not callable(one_shot):
        raise refuse("supernet must be a function (config, task)")
    base = dict(cast(Mapping[str, Any], baseline))
    return SearchSpace(
        path.stem,
        path,
        cast(SpaceFn, space),
        cast(BuildFn, build),
        base,
        dict(defaults) if defaults is not None else untuned(base),
        one_shot,
    )


def check_baseline_in_space(space: SearchSpace, field: str = "space") -> None:
    """The baseline must be a point of the space: every parameter ``space`` suggests for it
    has a value inside its distribution, and replaying it through ``space`` gives it back.
    Raises :class:`SearchSpaceCheckError` for the check ``baseline_in_space`` (or
    ``space_returns_constants`` when ``space`` itself raises or returns no dict)."""
    from automl_bench.space_baseline import baseline_mismatch, replay_baseline

    def refuse(problem: str) -> SearchSpaceCheckError:
        return SearchSpaceCheckError(space.path.name, BASELINE, problem, field)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # ours say it: Optuna's would repeat it
            suggested, constants = replay_baseline(space.space, space.baseline)
    except BaselineOffSpace as exc:
        raise refuse(str(exc)) from None
    except KeyboardInterrupt:  # Ctrl-C, or code that acts as if it were: an interruption
        raise
    except BaseException as exc:  # the user's code: any failure is a bad space file
        first = (str(exc).strip().splitlines() or [""])[0]
        problem = f"space(trial) on the baseline raised {type(exc).__name__}: {first}"
        raise SearchSpaceCheckError(space.path.name, SPACE, problem, field) from None
    if constants is not None and not isinstance(constants, dict):
        problem = (
            f"space(trial) on the baseline returned {type(constants).__name__}, expected a dict "
            "of constants (or None)"
        )
        raise SearchSpaceCheckError(space.path.name, SPACE, problem, field)
    mismatch = baseline_mismatch(space.baseline, {**suggested, **(constants or {})})
    if mismatch is not None:
        raise refuse(mismatch)


def suggest_training(trial: optuna.Trial) -> None:
    """Suggest the keys the trainer reads, over ranges that suit small models.

    ``lr`` log-uniform in ``LR_RANGE`` [1e-4, 3e-2]; ``weight_decay`` one of
    ``WEIGHT_DECAY_CHOICES`` {0, 1e-5, 1e-4, 1e-3}; ``batch_size`` one of ``BATCH_SIZE_CHOICES``
    {32, 64, 100, 128, 256}; ``optimizer`` one of ``OPTIMIZER_CHOICES`` {adam, adamw}. A space
    may call it, or suggest these keys its own way.
    """
    trial.suggest_float("lr", *LR_RANGE, log=True)
    trial.suggest_categorical("weight_decay", list(WEIGHT_DECAY_CHOICES))
    trial.suggest_categorical("batch_size", list(BATCH_SIZE_CHOICES))
    trial.suggest_categorical("optimizer", list(OPTIMIZER_CHOICES))


def sample_config(space: SpaceFn, trial: optuna.Trial | optuna.trial.FixedTrial) -> dict[str, Any]:
    """The configuration a trial gets: what it suggested, plus the constants ``space`` returned.

    The same merge Ray's OptunaSearch makes for a define-by-run space.
    """
    constants = space(trial)  # type: ignore[arg-type]
    if constants is not None and not isinstance(constants, dict):
        raise TypeError(
            f"space(trial) must return a dict of constants, got {type(constants).__name__}"
        )
    return {**trial.params, **(constants or {})}


def _import_file(path: Path, field: str) -> Any:
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"automl_bench_space_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(field, f"cannot import {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    try:
        with _folder_importable(path.parent):
            spec.loader.exec_module(module)
    except KeyboardInterrupt:  # Ctrl-C, or code that acts as if it were: an interruption
        raise
    except BaseException as exc:  # the user's code, not ours (SystemExit too): report, don't exit
        raise SearchSpaceCheckError(
            path.name, LOADS, f"importing {path.name} failed: {type(exc).__name__}: {exc}", field
        ) from None
    sys.modules[name] = module
    return module


@contextmanager
def _folder_importable(folder: Path) -> Iterator[None]:
    """``folder`` on the import path for the duration: appended, so that installed packages and
    the standard library come first, and removed afterwards (unless it was there already)."""
    entry = str(folder)
    added = entry not in sys.path
    if added:
        sys.path.append(entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)
