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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from automl_bench.errors import ConfigError

if TYPE_CHECKING:
    import optuna
    import torch

    from automl_bench.tasks.base import TaskInfo

TRAINER_KEYS = ("lr", "weight_decay", "batch_size", "optimizer", "momentum")

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
    """Load and check a search-space file; any problem is a ConfigError naming ``field``."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(field, f"search-space file {str(path)!r} does not exist")
    if path.suffix != ".py":
        raise ConfigError(field, f"a search space is a .py file, got {str(path)!r}")
    module = _import_file(path, field)
    space = getattr(module, "space", None)
    build = getattr(module, "build", None)
    baseline = getattr(module, "baseline", None)
    missing = missing_parts(space, build, baseline)
    if missing:
        raise ConfigError(field, f"{path.name} must define {', '.join(missing)}")
    defaults = getattr(module, "defaults", None)
    if defaults is not None and not isinstance(defaults, Mapping):
        raise ConfigError(
            field, f"{path.name}: defaults must be a dict, got {type(defaults).__name__}"
        )
    base = dict(cast(Mapping[str, Any], baseline))
    one_shot = getattr(module, "supernet", None)
    if one_shot is not None and not callable(one_shot):
        raise ConfigError(field, f"{path.name}: supernet must be a function (config, task)")
    loaded = SearchSpace(
        path.stem,
        path,
        cast(SpaceFn, space),
        cast(BuildFn, build),
        base,
        dict(defaults) if defaults is not None else untuned(base),
        one_shot,
    )
    check_baseline_in_space(loaded, field)
    return loaded


def check_baseline_in_space(space: SearchSpace, field: str = "space") -> None:
    """The baseline must be a point of the space: replaying it through ``space`` gives it back."""
    import optuna

    try:
        with warnings.catch_warnings():
            # FixedTrial only warns about a value outside a distribution: here that is an error.
            warnings.simplefilter("error", UserWarning)
            fixed = optuna.trial.FixedTrial(space.baseline)
            sampled = sample_config(space.space, fixed)
    except KeyboardInterrupt:  # Ctrl-C, or code that acts as if it were: an interruption
        raise
    except BaseException as exc:  # the user's code: any failure is a bad space file
        raise ConfigError(
            field, f"{space.path.name}: the baseline is not a point of the space ({exc})"
        ) from None
    for name, dist in fixed.distributions.items():  # FixedTrial keeps "16" for an int: refuse
        value = space.baseline.get(name)
        wanted: tuple[type, ...] | None = None
        if isinstance(dist, optuna.distributions.IntDistribution):
            wanted = (int,)
        elif isinstance(dist, optuna.distributions.FloatDistribution):
            wanted = (int, float)
        if wanted is not None and (isinstance(value, bool) or not isinstance(value, wanted)):
            raise ConfigError(
                field,
                f"{space.path.name}: the baseline's {name!r} must be a number "
                f"({' or '.join(t.__name__ for t in wanted)}), got {value!r}",
            )
    differs = {k: v for k, v in space.baseline.items() if k not in sampled or sampled[k] != v}
    if differs:
        raise ConfigError(
            field,
            f"{space.path.name}: the baseline is not a point of the space: "
            f"{differs} came back as { ({k: sampled.get(k) for k in differs}) }",
        )


def suggest_training(trial: optuna.Trial) -> None:
    """Suggest the keys the trainer reads, over ranges that suit small models.

    ``lr`` log-uniform in [1e-4, 3e-2]; ``weight_decay`` in {0, 1e-5, 1e-4, 1e-3}; ``batch_size``
    in {32, 64, 100, 128, 256}; ``optimizer`` in {adam, adamw}. A space may call it, or suggest
    these keys its own way.
    """
    trial.suggest_float("lr", 1e-4, 3e-2, log=True)
    trial.suggest_categorical("weight_decay", [0.0, 1e-5, 1e-4, 1e-3])
    trial.suggest_categorical("batch_size", [32, 64, 100, 128, 256])
    trial.suggest_categorical("optimizer", ["adam", "adamw"])


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
        spec.loader.exec_module(module)
    except KeyboardInterrupt:  # Ctrl-C, or code that acts as if it were: an interruption
        raise
    except BaseException as exc:  # the user's code, not ours (SystemExit too): report, don't exit
        raise ConfigError(
            field, f"importing {path.name} failed: {type(exc).__name__}: {exc}"
        ) from None
    sys.modules[name] = module
    return module
